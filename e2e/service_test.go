package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/astreinte/astreinte/store"
	_ "github.com/mattn/go-sqlite3"
	"gopkg.in/yaml.v3"
)

// One astreinte process per test: its configuration, its logs, its database.

// service is one astreinte process with its configuration and data.
type service struct {
	t        testing.TB
	dir      string // the test's working directory
	cfgPath  string
	dataDir  string
	logPath  string
	sipPort  int
	sipHost  string // the address SIPp calls; "": 127.0.0.1
	rtpLo    int
	rtpHi    int
	cfg      map[string]any
	p        *proc
	restarts int
	// startedWall is when the current process was started: with clock.now
	// set, the service's clock reads clock.now plus the time since then.
	startedWall time.Time
}

// baseConfig is the configuration every test starts from: out of hours
// (03:00 on Tuesday 24 November 2026), one French support line.
func baseConfig(dataDir string, sipPort, httpPort, rtpLo, rtpHi int) map[string]any {
	return map[string]any{
		"data_dir": dataDir,
		"log":      map[string]any{"level": "info", "format": "text"},
		"sip": map[string]any{
			"listen":        fmt.Sprintf("127.0.0.1:%d", sipPort),
			"transports":    []any{"udp", "tcp"},
			"rtp_ports":     fmt.Sprintf("%d-%d", rtpLo, rtpHi),
			"media_timeout": "10s",
			"drain_timeout": "5s",
		},
		"http":  map[string]any{"listen": fmt.Sprintf("127.0.0.1:%d", httpPort)},
		"clock": map[string]any{"now": outOfHours},
		"lines": []any{map[string]any{
			"name":            "support",
			"numbers":         []any{"support"},
			"language":        "fr",
			"answer_after":    "500ms",
			"urgency_timeout": "5s",
			"record": map[string]any{
				"max_length": "60s",
				"silence":    "5s",
				"min_length": "2s",
			},
		}},
	}
}

// Test clocks.
const (
	outOfHours = "2026-11-24T03:00:00+01:00" // a Tuesday night
	inHours    = "2026-11-24T10:00:00+01:00" // the same Tuesday morning
)

// startAstreinte writes the configuration (the base one with overrides
// merged in; the key "line" merges into the first line) and starts the
// service, returning once it logged "astreinte ready". Cleanup stops it with
// SIGTERM; on failure it prints its log and the CLI's tickets and calls.
func startAstreinte(t testing.TB, overrides map[string]any) *service {
	t.Helper()
	return startAstreinteIn(t, testDir(t), overrides)
}

// startAstreinteIn is startAstreinte with its configuration and data in
// dir: one directory per node when a test runs several.
func startAstreinteIn(t testing.TB, dir string, overrides map[string]any) *service {
	t.Helper()
	lo, hi := rtpRange(t)
	s := &service{
		t: t, dir: dir,
		cfgPath: filepath.Join(dir, "astreinte.yaml"),
		dataDir: filepath.Join(dir, "data"),
		sipPort: freeSIPPort(t),
		rtpLo:   lo, rtpHi: hi,
	}
	s.cfg = baseConfig(s.dataDir, s.sipPort, freeTCPPort(t), lo, hi)
	for k, v := range overrides {
		if k == "line" {
			line := s.cfg["lines"].([]any)[0].(map[string]any)
			mergeInto(line, v.(map[string]any))
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			if dst, ok := s.cfg[k].(map[string]any); ok {
				mergeInto(dst, sub)
				continue
			}
		}
		s.cfg[k] = v
	}
	s.writeConfig()
	t.Cleanup(func() {
		if t.Failed() {
			s.report()
		}
		if s.p != nil && s.p.running() {
			if code := s.p.stop(syscall.SIGTERM, 15*time.Second); code != 0 {
				t.Logf("astreinte exited with status %d on SIGTERM at the end of the test", code)
			}
		}
	})
	s.start()
	return s
}

// writeConfig writes s.cfg to the configuration file.
func (s *service) writeConfig() {
	s.t.Helper()
	b, err := yaml.Marshal(s.cfg)
	if err != nil {
		s.t.Fatalf("config: %v", err)
	}
	if err := os.WriteFile(s.cfgPath, b, 0o600); err != nil {
		s.t.Fatalf("config: %v", err)
	}
}

// clock is the service's idea of now: clock.now plus the time since the
// process started, or the wall clock when clock.now is not set.
func (s *service) clock() time.Time {
	c, _ := s.cfg["clock"].(map[string]any)
	v, _ := c["now"].(string)
	if v == "" {
		return time.Now()
	}
	start, err := time.Parse(time.RFC3339, v)
	if err != nil {
		s.t.Fatalf("clock.now %q: %v", v, err)
	}
	return start.Add(time.Since(s.startedWall))
}

// keepClock makes the next start's clock go on from this one's, as the
// real clock would across a restart.
func (s *service) keepClock() {
	s.t.Helper()
	if c, ok := s.cfg["clock"].(map[string]any); ok && c["now"] != nil && c["now"] != "" {
		c["now"] = s.clock().Format(time.RFC3339Nano)
		s.writeConfig()
	}
}

// mergeInto merges src into dst, recursing into maps.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				mergeInto(dv, sv)
				continue
			}
			dst[k] = maps.Clone(sv)
			continue
		}
		dst[k] = v
	}
}

// start runs `astreinte serve` and waits for "astreinte ready". Each start
// logs to its own file: astreinte.out, then astreinte-1.out after a restart.
func (s *service) start() {
	t := s.t
	t.Helper()
	label := "astreinte"
	if s.restarts > 0 {
		label = fmt.Sprintf("astreinte-%d", s.restarts)
	}
	s.startedWall = time.Now()
	s.p = startProc(t, 15*time.Minute, s.dir, label, syscall.SIGTERM, astreinteBin, "serve", "--config", s.cfgPath)
	s.logPath = s.p.out
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(s.log(), "astreinte ready") {
			return
		}
		if !s.p.running() {
			t.Fatalf("astreinte exited with status %d before it was ready:\n%s", s.p.exitCode(), s.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("astreinte not ready within 20s:\n%s", s.log())
}

// log returns what the current process logged.
func (s *service) log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// stop sends SIGTERM and returns the exit status (the drain is bounded by
// the configuration's drain_timeout; then it is killed).
func (s *service) stop(grace time.Duration) int {
	return s.p.stop(syscall.SIGTERM, grace)
}

// kill9 kills the service at once, as a crash would.
func (s *service) kill9() {
	_ = s.p.cmd.Process.Kill()
	s.p.wait(10 * time.Second)
}

// restart stops the service (SIGTERM) if it runs and starts it again on the
// same configuration and data.
func (s *service) restart() {
	s.t.Helper()
	if s.p.running() {
		if code := s.stop(15 * time.Second); code != 0 {
			s.t.Errorf("astreinte exited with status %d on SIGTERM before restart", code)
		}
	}
	s.keepClock()
	s.restarts++
	s.start()
}

// target is the SIP host:port.
func (s *service) target() string {
	host := s.sipHost
	if host == "" {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("%s:%d", host, s.sipPort)
}

// cli runs an astreinte subcommand on this service's configuration.
func (s *service) cli(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append(args, "--config", s.cfgPath)
	out, err := exec.CommandContext(ctx, astreinteBin, args...).CombinedOutput()
	return string(out), err
}

// report prints what helps to understand a failure: the logs of every
// start, and the CLI's tickets and calls.
func (s *service) report() {
	t := s.t
	logs, _ := filepath.Glob(filepath.Join(s.dir, "astreinte*.out"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		t.Logf("==== astreinte log %s ====\n%s", filepath.Base(l), tail(string(b), 200))
	}
	for _, args := range [][]string{{"tickets", "--all"}, {"calls"}} {
		out, err := s.cli(args...)
		t.Logf("==== astreinte %s (err=%v) ====\n%s", strings.Join(args, " "), err, out)
	}
}

// tail keeps the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[… %d lines cut …]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// waitLog waits until the log contains substr.
func (s *service) waitLog(substr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(s.log(), substr) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// --- The database ----------------------------------------------------------

// ticketRow is a row of the tickets table.
type ticketRow struct {
	ID           int64
	Number       string
	CallID       sql.NullInt64
	Line         string
	CallerNumber string
	Urgency      string
	Case         string
	Status       string
	Recording    string
	DurationMS   int64
}

// callRow is a row of the calls table.
type callRow struct {
	ID           int64
	SIPCallID    string
	Line         string
	CallerNumber string
	Called       string
	Case         string
	StartedAt    string
	AnsweredAt   sql.NullString
	EndedAt      sql.NullString
	Outcome      string
	HangupBy     string
	TicketID     sql.NullInt64
}

// openDB opens astreinte.db for queries only.
func (s *service) openDB() *sql.DB {
	s.t.Helper()
	if st, ok := s.cfg["store"].(map[string]any); ok && st["driver"] == "postgres" {
		db, err := store.OpenSQL("postgres", st["dsn"].(string))
		if err != nil {
			s.t.Fatalf("open %s: %v", st["dsn"], err)
		}
		return db
	}
	path := filepath.Join(s.dataDir, "astreinte.db")
	if !fileExists(path) {
		s.t.Fatalf("no database at %s", path)
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_query_only=on&_busy_timeout=5000")
	if err != nil {
		s.t.Fatalf("open %s: %v", path, err)
	}
	return db
}

func (s *service) tickets() []ticketRow {
	s.t.Helper()
	db := s.openDB()
	defer db.Close()
	rows, err := db.Query(`SELECT id, number, call_id, line, caller_number, urgency, calendar_case, status, recording, duration_ms
		FROM tickets ORDER BY id`)
	if err != nil {
		s.t.Fatalf("tickets: %v", err)
	}
	defer rows.Close()
	var out []ticketRow
	for rows.Next() {
		var r ticketRow
		if err := rows.Scan(&r.ID, &r.Number, &r.CallID, &r.Line, &r.CallerNumber, &r.Urgency, &r.Case, &r.Status, &r.Recording, &r.DurationMS); err != nil {
			s.t.Fatalf("tickets: %v", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		s.t.Fatalf("tickets: %v", err)
	}
	return out
}

func (s *service) calls() []callRow {
	s.t.Helper()
	db := s.openDB()
	defer db.Close()
	rows, err := db.Query(`SELECT id, sip_call_id, line, caller_number, called, calendar_case, started_at, answered_at, ended_at,
		outcome, hangup_by, ticket_id FROM calls ORDER BY id`)
	if err != nil {
		s.t.Fatalf("calls: %v", err)
	}
	defer rows.Close()
	var out []callRow
	for rows.Next() {
		var r callRow
		if err := rows.Scan(&r.ID, &r.SIPCallID, &r.Line, &r.CallerNumber, &r.Called, &r.Case, &r.StartedAt, &r.AnsweredAt, &r.EndedAt,
			&r.Outcome, &r.HangupBy, &r.TicketID); err != nil {
			s.t.Fatalf("calls: %v", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		s.t.Fatalf("calls: %v", err)
	}
	return out
}

// waitCalls polls the calls table until done returns true (every call has
// ended, say) or d passes; it returns the last rows read.
func (s *service) waitCalls(d time.Duration, done func([]callRow) bool) []callRow {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		cs := s.calls()
		if done(cs) || time.Now().After(deadline) {
			return cs
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// allEnded reports whether there are n calls, none in progress.
func allEnded(n int) func([]callRow) bool {
	return func(cs []callRow) bool {
		if len(cs) < n {
			return false
		}
		for _, c := range cs {
			if c.Outcome == "in_progress" || !c.EndedAt.Valid {
				return false
			}
		}
		return true
	}
}

// recordingFiles lists the files under data/recordings.
func (s *service) recordingFiles() []string {
	var out []string
	root := filepath.Join(s.dataDir, "recordings")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// recordingWatch notes when the message proper starts: the beep, which
// astreinte logs ("msg=beep"). (Its recording starts at the answer, so the
// .wav.part file no longer tells.) Tests use it to act at the right time
// whatever the host's load does to the prompts' timing, and to tell "the
// prompts ran late" from "the product lost audio" when they fail.
type recordingWatch struct {
	mu    sync.Mutex
	first time.Time
	path  string // the recording's .wav.part file
	stop  chan struct{}
}

// watchRecording polls astreinte's log for the first beep, and notes the
// first .wav.part under data/recordings, until the test ends.
func (s *service) watchRecording() *recordingWatch {
	w := &recordingWatch{stop: make(chan struct{})}
	root := filepath.Join(s.dataDir, "recordings")
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		deadline := time.After(10 * time.Minute)
		for {
			select {
			case <-w.stop:
				return
			case <-deadline:
				return
			case <-tick.C:
			}
			w.mu.Lock()
			if w.path == "" {
				if p, ok := waitFileSuffix(root, ".wav.part", 0); ok {
					w.path = p
				}
			}
			w.mu.Unlock()
			if b, err := os.ReadFile(s.logPath); err == nil && strings.Contains(string(b), "msg=beep") {
				w.mu.Lock()
				w.first = time.Now()
				w.mu.Unlock()
				return
			}
		}
	}()
	s.t.Cleanup(func() { close(w.stop) })
	return w
}

// started returns when the recording started (zero if not yet).
func (w *recordingWatch) started() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first
}

// wait waits up to d for the recording to start.
func (w *recordingWatch) wait(d time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(d)
	for {
		if at := w.started(); !at.IsZero() {
			return at, true
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
