package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Floods, refusals and the operations endpoints, against the built binary.

// guardedConfig trusts only 127.0.0.1 and 127.0.0.3: 127.0.0.2 plays the
// stranger on the internet.
func guardedConfig(extra map[string]any) map[string]any {
	sec := map[string]any{"trusted": []any{"127.0.0.1/32", "127.0.0.3/32"}}
	for k, v := range extra {
		sec[k] = v
	}
	return map[string]any{"security": sec}
}

// httpBase is the service's web address.
func (s *service) httpBase() string {
	h, _ := s.cfg["http"].(map[string]any)
	return "http://" + h["listen"].(string)
}

// get fetches a path of the web listener.
func (s *service) get(path string) (int, string) {
	s.t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(s.httpBase() + path)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// metrics scrapes /metrics into name{labels} → value.
func (s *service) metrics() map[string]float64 {
	s.t.Helper()
	code, body := s.get("/metrics")
	if code != 200 {
		s.t.Fatalf("/metrics: %d %s", code, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// refused sums astreinte_sip_refused_total over the given reasons (all
// when none).
func refused(m map[string]float64, reasons ...string) float64 {
	var n float64
	for k, v := range m {
		if !strings.HasPrefix(k, "astreinte_sip_refused_total{") {
			continue
		}
		if len(reasons) == 0 {
			n += v
			continue
		}
		for _, r := range reasons {
			if strings.Contains(k, `reason="`+r+`"`) {
				n += v
			}
		}
	}
	return n
}

// flood is SIPp's built-in UAC (no media) calling svc from ip.
type flood struct {
	p    *proc
	stat string
}

// startFlood runs `sipp -sn uac` from ip: n calls at rate per second, each
// held holdMS once answered. Unanswered calls give up after 3 s
// (-recv_timeout) without retransmitting (-nr), as a scanner does.
func startFlood(t testing.TB, svc *service, label, ip string, rate, n, holdMS int) *flood {
	t.Helper()
	requirePeer(t, "sipp")
	dir := testDir(t)
	f := &flood{stat: filepath.Join(dir, label+"_stat.csv")}
	args := []string{
		"-sn", "uac", "-s", "support",
		"-i", ip, "-mi", ip,
		"-p", fmt.Sprint(freeUDPPort(t, false)), "-mp", fmt.Sprint(freeUDPPort(t, true)),
		"-ci", "127.0.0.1", "-cp", fmt.Sprint(freeUDPPort(t, false)),
		"-r", fmt.Sprint(rate), "-rp", "1000", "-m", fmt.Sprint(n), "-l", fmt.Sprint(rate * 5),
		"-d", fmt.Sprint(holdMS), "-nr", "-recv_timeout", "3000",
		"-nostdin", "-timeout", "60s",
		"-trace_stat", "-stf", f.stat, "-fd", "1",
		svc.target(),
	}
	f.p = startProc(t, 90*time.Second, dir, label, syscall.SIGTERM, "sipp", args...)
	return f
}

// cpuTicks is a process's user + system CPU time, in clock ticks.
func cpuTicks(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("cpu of %d: %v", pid, err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 on
	ut, _ := strconv.ParseInt(f[11], 10, 64)                 // field 14
	st, _ := strconv.ParseInt(f[12], 10, 64)                 // field 15
	return ut + st
}

const clockTicks = 100 // getconf CLK_TCK on Linux

// TestFloodLegitimateCallAnswered_Baresip is what the admission guard is for: during
// a flood of 1,000 INVITE/s from a stranger (127.0.0.2) and 300/s from a
// trusted PBX (127.0.0.3), a legitimate caller on 127.0.0.1 (baresip) is
// answered within 1 s, hears the greeting, and its message becomes a
// ticket. The stranger is refused (403, or dropped unparsed past its
// request rate), the PBX is held to its new-call rate and call cap (503),
// and the log stays a few lines per source.
func TestFloodLegitimateCallAnswered_Baresip(t *testing.T) {
	requirePeer(t, "baresip")
	requirePeer(t, "sipp")
	// The test's RTP range has 50 ports, shared with whatever else runs on
	// the machine: the PBX's cap stays well below it, as the defaults (50
	// calls per source, 5,000 ports) do in production.
	svc := startAstreinte(t, mergeMaps(guardedConfig(map[string]any{"limits": map[string]any{"calls_per_source": 10}}),
		map[string]any{"line": map[string]any{"answer_after": "0s"}}))
	rec := svc.watchRecording()

	const floodSecs = 8
	pid := svc.p.cmd.Process.Pid
	cpu0, sentAt := cpuTicks(t, pid), time.Now()
	stranger := startFlood(t, svc, "flood_stranger", "127.0.0.2", 1000, 1000*floodSecs, 2000)
	pbx := startFlood(t, svc, "flood_pbx", "127.0.0.3", 300, 300*floodSecs, 2000)
	// astreinte's CPU over the seconds the floods are sent.
	cpuFlood := make(chan float64, 1)
	time.AfterFunc(floodSecs*time.Second, func() {
		cpuFlood <- float64(cpuTicks(t, pid)-cpu0) / clockTicks / time.Since(sentAt).Seconds()
	})

	// Wait until both floods hit the guard.
	m, ok := poll(10*time.Second, svc.metrics, func(m map[string]float64) bool {
		return refused(m, "untrusted") > 0 && refused(m, "call_rate", "source_calls") > 0
	})
	if !ok {
		t.Fatalf("the floods did not reach astreinte within 10s: refused %v", refusedByReason(m))
	}

	// Once the greeting is heard, 1 (urgent) cuts the rest short: the beep.
	keyAt := promptLen(t, "fr", "greeting_closed") + 500*time.Millisecond
	mic := filepath.Join(testDir(t), "caller.wav")
	if err := writeWAV(mic, callerAudio(keyAt, 4, 60*time.Second)); err != nil {
		t.Fatal(err)
	}
	b := startBaresip(t, "caller", mic)
	dialAt := time.Now()
	if err := b.command("dial", fmt.Sprintf("sip:support@%s", svc.target())); err != nil {
		t.Fatalf("dial: %v", err)
	}
	ev, ok := b.waitEvent("CALL_ESTABLISHED", 15*time.Second)
	if !ok {
		t.Fatalf("the legitimate call was not answered within 15s of the dial, during the flood")
	}
	answer := ev.at.Sub(dialAt)
	if answer > time.Second {
		t.Errorf("the legitimate call was answered %s after the dial, want within 1s", answer.Round(time.Millisecond))
	}
	b.urgentMessage(t, rec, keyAt)
	b.quit()
	checkHeardAll(t, b.heard(), "fr", "greeting_closed")

	// The floods end on their own (-m calls at -r per second).
	for _, f := range []*flood{stranger, pbx} {
		if _, ok := f.p.wait(60 * time.Second); !ok {
			t.Fatalf("%s did not end within 60s", f.p.name)
		}
	}
	cpu := <-cpuFlood

	var ticket *ticketRow
	deadline := time.Now().Add(20 * time.Second)
	for ticket == nil && time.Now().Before(deadline) {
		for _, tk := range svc.tickets() {
			if tk.CallerNumber == "caller" {
				ticket = &tk
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if ticket == nil {
		t.Fatalf("the legitimate caller's message did not become a ticket; tickets: %+v", svc.tickets())
	}
	checkTicket(t, *ticket, ticketRow{Urgency: "urgent", Line: "support", Case: "out_of_hours"})
	checkRecordingPattern(t, *ticket, 1)
	if n := len(svc.tickets()); n != 1 {
		t.Errorf("%d tickets, want only the legitimate caller's", n)
	}

	m = svc.metrics()
	if refused(m, "untrusted", "request_rate") == 0 {
		t.Errorf("no stranger's request refused: %v", refusedByReason(m))
	}
	if refused(m, "max_calls") != 0 {
		t.Errorf("the global cap was reached: the stranger or the PBX took every slot: %v", refusedByReason(m))
	}
	served := m["astreinte_sip_invites_total"] - m["astreinte_sip_invites_rejected_total"]
	// The log: a few lines per source and message per minute, whatever
	// the flood, plus their summaries.
	strangerLines := 0
	for _, l := range strings.Split(svc.log(), "\n") {
		if strings.Contains(l, "127.0.0.2") {
			strangerLines++
		}
	}
	if strangerLines > 30 {
		t.Errorf("%d log lines name the stranger: the log is not throttled", strangerLines)
	}
	t.Logf("flood: %d INVITE/s from the stranger and %d/s from the PBX for %ds", 1000, 300, floodSecs)
	t.Logf("legitimate call answered %s after the dial (answer_after 0s)", answer.Round(time.Millisecond))
	t.Logf("refused: %.0f in all, by reason %v", refused(m), refusedByReason(m))
	t.Logf("INVITEs parsed and handled: %.0f, calls served: %.0f (the PBX's, within its limits, and ours)",
		m["astreinte_sip_invites_total"], served)
	t.Logf("astreinte CPU while the floods were sent (%ds): %.0f%% of one core", floodSecs, 100*cpu)
	t.Logf("log lines naming the stranger: %d; suppressed by the throttle: %.0f", strangerLines, m["astreinte_log_lines_suppressed_total"])
}

func refusedByReason(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if r, ok := strings.CutPrefix(k, `astreinte_sip_refused_total{reason="`); ok && v > 0 {
			out[strings.TrimSuffix(r, `"}`)] = v
		}
	}
	return out
}

// mergeMaps merges the override maps (later ones win, maps merged).
func mergeMaps(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		mergeInto(out, m)
	}
	return out
}

// TestMetricsAfterCallAndRefusal_SIPp scrapes /metrics after a message
// left from a trusted address and an INVITE from a stranger: the call and
// the refusal are counted, /readyz is ready and /healthz alive.
func TestMetricsAfterCallAndRefusal_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	svc := startAstreinte(t, guardedConfig(nil))
	if code, body := svc.get("/readyz"); code != 200 || !strings.HasPrefix(body, "ready") {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	if code, _ := svc.get("/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	before := svc.metrics()
	if before[`astreinte_calls_total{case="out_of_hours",line="support",outcome="voicemail"}`] != 0 || refused(before) != 0 {
		t.Fatalf("counters not at zero at start: %v", refusedByReason(before))
	}

	leaveMessageSIPp(t, svc, "0601020304")
	stranger := startFlood(t, svc, "stranger", "127.0.0.2", 1, 1, 1000)
	if _, ok := stranger.p.wait(30 * time.Second); !ok {
		t.Fatal("the stranger's SIPp did not end")
	}
	svc.waitCalls(20*time.Second, allEnded(1))

	m, ok := poll(10*time.Second, svc.metrics, func(m map[string]float64) bool {
		return m[`astreinte_calls_total{case="out_of_hours",line="support",outcome="voicemail"}`] == 1 && refused(m, "untrusted") == 1
	})
	if !ok {
		t.Fatalf("metrics did not move: calls %v, refused %v", m[`astreinte_calls_total{case="out_of_hours",line="support",outcome="voicemail"}`], refusedByReason(m))
	}
	for name, want := range map[string]float64{
		"astreinte_sip_invites_total":          2,
		"astreinte_sip_invites_rejected_total": 1,
		"astreinte_calls_active":               0,
	} {
		if m[name] != want {
			t.Errorf("%s = %v, want %v", name, m[name], want)
		}
	}
	if m["astreinte_rtp_packets_received_total"] < 100 {
		t.Errorf("astreinte_rtp_packets_received_total = %v: the caller's RTP is not counted", m["astreinte_rtp_packets_received_total"])
	}
	if m["astreinte_sqlite_write_seconds_count"] < 1 || m["go_goroutines"] == 0 || m["process_open_fds"] == 0 {
		t.Errorf("probe, goroutines or open files missing: %v %v %v", m["astreinte_sqlite_write_seconds_count"], m["go_goroutines"], m["process_open_fds"])
	}
	if !strings.Contains(svc.log(), `reason=untrusted`) {
		t.Errorf("the refusal is not in the log")
	}
	if code, body := svc.get("/status/refusals"); code != 200 || !strings.Contains(body, `"source":"127.0.0.2","reason":"untrusted","count":1`) {
		t.Errorf("/status/refusals: %d %s", code, body)
	}
}

// TestDigestAccountCallsIn_SIPp: a remote PBX outside the trusted networks
// (SIPp on 127.0.0.2) is challenged, authenticates as a configured account
// (SIPp's own MD5 digest) and its call is answered; with a wrong password
// it is refused.
func TestDigestAccountCallsIn_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	const password = "correct horse battery staple"
	svc := startAstreinte(t, guardedConfig(map[string]any{
		"accounts": []any{map[string]any{"username": "pbx-lyon", "password": password}},
	}))
	sc, err := filepath.Abs(filepath.Join("testdata", "uac_digest.xml"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(label, pw string) int {
		dir := testDir(t)
		args := []string{"-sf", sc, "-s", "support", "-i", "127.0.0.2", "-mi", "127.0.0.2",
			"-p", fmt.Sprint(freeUDPPort(t, false)), "-mp", fmt.Sprint(freeUDPPort(t, true)),
			"-ci", "127.0.0.1", "-cp", fmt.Sprint(freeUDPPort(t, false)),
			"-au", "pbx-lyon", "-ap", pw, "-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error",
			"-trace_msg", "-message_file", filepath.Join(dir, label+"_messages.log"), svc.target()}
		p := startProc(t, 60*time.Second, dir, label, syscall.SIGTERM, "sipp", args...)
		code, ok := p.wait(45 * time.Second)
		if !ok {
			t.Fatalf("%s: SIPp did not end", label)
		}
		return code
	}
	if code := run("digest_ok", password); code != 0 {
		msgs, _ := os.ReadFile(filepath.Join(testDir(t), "digest_ok_messages.log"))
		t.Fatalf("the authenticated call failed (SIPp exit %d):\n%s", code, tail(string(msgs), 60))
	}
	cs := svc.waitCalls(20*time.Second, allEnded(1))
	if len(cs) != 1 || cs[0].CallerNumber != "pbx" || !cs[0].AnsweredAt.Valid {
		t.Fatalf("calls after the authenticated call: %+v", cs)
	}
	if !strings.Contains(svc.log(), "account=pbx-lyon") {
		t.Errorf("the authentication is not in the log")
	}
	if code := run("digest_wrong", "wrong password!!"); code == 0 {
		t.Fatal("a wrong password got through")
	}
	m, ok := poll(10*time.Second, svc.metrics, func(m map[string]float64) bool { return refused(m, "auth_failed") == 1 })
	if !ok {
		t.Fatalf("refusals: %v, want one auth_failed", refusedByReason(m))
	}
	// Each attempt was first challenged.
	if n := refused(m, "unauthenticated"); n != 2 {
		t.Errorf("%v challenges (401), want 2", n)
	}
	if n := len(svc.calls()); n != 1 {
		t.Errorf("%d calls in the log, want only the authenticated one", n)
	}
}
