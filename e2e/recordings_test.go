package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Every message of a ticket is there, newest first: a caller who calls
// again while their ticket is open joins it, and every consumer shows both
// messages.

// watchBeep is watchRecording for a later call: it notes when astreinte
// logs a beep beyond the n already logged.
func (s *service) watchBeep(n int) *recordingWatch {
	w := &recordingWatch{stop: make(chan struct{})}
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			if b, err := os.ReadFile(s.logPath); err == nil && strings.Count(string(b), "msg=beep") > n {
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

// recordingJSON is a message as `tickets show --json` and the API give it.
type recordingJSON struct {
	Message         int     `json:"message"`
	Seq             int     `json:"seq"`
	At              string  `json:"at"`
	DurationSeconds float64 `json:"duration_seconds"`
	Urgency         string  `json:"urgency"`
	Path            string  `json:"path"`
	URL             string  `json:"url"`
}

type ticketJSON struct {
	Number         string          `json:"number"`
	Urgency        string          `json:"urgency"`
	RecordingCount int             `json:"recording_count"`
	Recordings     []recordingJSON `json:"recordings"`
	Timeline       []struct {
		Kind, Detail string
	} `json:"timeline"`
}

// checkTwoMessages wants the second, urgent message first, then the
// first, normal one.
func checkTwoMessages(t *testing.T, where string, j ticketJSON) {
	t.Helper()
	r := j.Recordings
	if len(r) != 2 || j.RecordingCount != 2 || j.Urgency != "urgent" {
		t.Fatalf("%s: %d recordings (count %d), ticket %s; want 2, urgent: %+v", where, len(r), j.RecordingCount, j.Urgency, j)
	}
	if r[0].Urgency != "urgent" || r[1].Urgency != "normal" || r[0].Seq != 2 || r[1].Seq != 1 || r[0].Message != 1 ||
		r[0].At <= r[1].At || r[0].Path == r[1].Path || r[0].DurationSeconds < 1 || r[1].DurationSeconds < 1 {
		t.Errorf("%s: recordings %+v; want the urgent second call's first, then the normal first call's", where, r)
	}
}

// TestRepeatCallerTwoMessages_Baresip: out of hours a caller leaves a
// normal message (SIPp), then calls again from the same number (baresip)
// and presses 1. The second message joins the first ticket and makes it
// urgent; `tickets show` (text and --json), the API and the web page have
// both messages, newest first, and Chromium plays both players.
func TestRepeatCallerTwoMessages_Baresip(t *testing.T) {
	requirePeer(t, "sipp")
	requirePeer(t, "baresip")
	exe := requireChromium(t)
	svc := startAstreinte(t, nil)
	listen := svc.cfg["http"].(map[string]any)["listen"].(string)
	base := "http://" + listen

	leaveMessageSIPp(t, svc, "0612345678")
	first, ok := svc.waitTicket(15 * time.Second)
	if !ok {
		t.Fatal("no ticket after the first call")
	}
	checkTicket(t, first, ticketRow{Urgency: "normal", Status: "new", Line: "support", CallerNumber: "0612345678", Case: "out_of_hours"})
	svc.waitCalls(20*time.Second, allEnded(1))

	rec := svc.watchBeep(strings.Count(svc.log(), "msg=beep"))
	keyAt := promptLen(t, "fr", "greeting_closed") + 1500*time.Millisecond
	mic := filepath.Join(testDir(t), "caller.wav")
	if err := writeWAV(mic, callerAudio(keyAt, 4, 60*time.Second)); err != nil {
		t.Fatal(err)
	}
	b := startBaresip(t, "0612345678", mic)
	if err := b.command("dial", fmt.Sprintf("sip:support@%s", svc.target())); err != nil {
		t.Fatalf("dial: %v", err)
	}
	if _, ok := b.waitEvent("CALL_ESTABLISHED", 15*time.Second); !ok {
		t.Fatal("second call not established within 15s")
	}
	b.urgentMessage(t, rec, keyAt)
	b.quit()
	svc.waitCalls(20*time.Second, allEnded(2))

	ts := svc.tickets()
	if len(ts) != 1 {
		t.Fatalf("two calls from one number: want 1 ticket, have %d: %+v", len(ts), ts)
	}
	checkHeardAll(t, b.heard(), "fr", "greeting_closed", "merged")

	// The CLI, text and JSON.
	out, err := svc.cli("tickets", "show", first.Number)
	if err != nil || !strings.Contains(out, "Message 1 (newest)") || !strings.Contains(out, "Message 2 (first call)") ||
		strings.Index(out, "URGENT, ") > strings.Index(out, "normal, ") {
		t.Errorf("tickets show %s (err=%v): want the urgent newest message, then the first:\n%s", first.Number, err, out)
	}
	out, err = svc.cli("tickets", "show", first.Number, "--json")
	if err != nil {
		t.Fatalf("tickets show --json: %v\n%s", err, out)
	}
	var shown ticketJSON
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("tickets show --json: %v\n%s", err, out)
	}
	checkTwoMessages(t, "tickets show --json", shown)
	if shown.Recordings[1].Path != first.Recording {
		t.Errorf("the older message is %s, want the first call's %s", shown.Recordings[1].Path, first.Recording)
	}
	replanned := false
	for _, e := range shown.Timeline {
		replanned = replanned || e.Kind == "note" && strings.Contains(e.Detail, "2nd message (urgent") && strings.Contains(e.Detail, "urgency normal → urgent")
	}
	if !replanned {
		t.Errorf("no timeline note of the 2nd message re-planning the ticket: %+v", shown.Timeline)
	}

	// The API.
	cmd := exec.Command(astreinteBin, "tokens", "add", "helpdesk", "--config", svc.cfgPath)
	tokOut, err := cmd.Output()
	token := strings.TrimSpace(string(tokOut))
	if err != nil || !strings.HasPrefix(token, "ast_") {
		t.Fatalf("tokens add: %v %q", err, tokOut)
	}
	apiGet := func(path string) (int, []byte) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	code, body := apiGet("/api/tickets/" + first.Number)
	var detail ticketJSON
	if err := json.Unmarshal(body, &detail); code != 200 || err != nil {
		t.Fatalf("API detail: %d %v\n%s", code, err, body)
	}
	checkTwoMessages(t, "API detail", detail)
	for _, r := range detail.Recordings {
		if code, wav := apiGet(r.URL); code != 200 || !strings.HasPrefix(string(wav), "RIFF") {
			t.Errorf("GET %s: %d, %d bytes", r.URL, code, len(wav))
		}
	}
	var list []ticketJSON
	if code, body := apiGet("/api/tickets"); code != 200 || json.Unmarshal(body, &list) != nil || len(list) != 1 || list[0].RecordingCount != 2 {
		t.Errorf("API list: %d %s; want one ticket with recording_count 2", code, body)
	}

	// The web page in Chromium: two players, newest first, both play.
	cmd = exec.Command(astreinteBin, "users", "add", "alice", "--role", "technician", "--config", svc.cfgPath)
	cmd.Stdin = strings.NewReader("deux-messages-2026\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("users add: %v\n%s", err, out)
	}
	ctx := startBrowser(t, exe)
	con := &consoleLog{}
	con.listen(ctx)
	browse(t, ctx, con, "log in", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/tickets/"+first.Number),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "deux-messages-2026"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("ticket")),
	))
	if _, err := chromedp.Run(ctx, chromedp.Navigate(base+"/tickets/"+first.Number)); err != nil {
		t.Fatal(err)
	}
	// Earlier messages load when asked (preload="none": the newest plays
	// first on a phone); ask, as a press on play would.
	browse(t, ctx, con, "ask every player to load", 5*time.Second, chromedp.Evaluate[bool](
		`[...document.querySelectorAll("audio.message")].every(a => { if (a.preload === "none") { a.preload = "metadata"; a.load(); } return true; })`))
	browse(t, ctx, con, "both players load", 20*time.Second, chromedp.Poll[bool](
		`(as => as.length === 2 && as.every(a => a.readyState >= 1 && a.duration > 1 && a.error === null))([...document.querySelectorAll("audio.message")])`))
	seqs := browse(t, ctx, con, "order", 5*time.Second, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("audio.message")].map(a => a.dataset.seq)`))
	if strings.Join(seqs, ",") != "2,1" {
		t.Errorf("players in order %v, want message 2 (newest) then 1", seqs)
	}
	durations := browse(t, ctx, con, "durations", 5*time.Second, chromedp.Evaluate[[]float64](
		`[...document.querySelectorAll("audio.message")].map(a => a.duration)`))
	for i, d := range durations {
		if want := detail.Recordings[i].DurationSeconds; d < want-0.5 || d > want+0.5 {
			t.Errorf("player %d: duration %.2f s, message %.2f s", i+1, d, want)
		}
	}
	played := browse(t, ctx, con, "play both", 30*time.Second, chromedp.Evaluate[[]float64](
		`Promise.all([...document.querySelectorAll("audio.message")].map(a => { a.muted = true;
			return a.play().then(() => new Promise(r => setTimeout(() => { a.pause(); r(a.currentTime); }, 1500))); }))`,
		chromedp.EvalAwaitPromise))
	if len(played) != 2 || played[0] <= 0.5 || played[1] <= 0.5 {
		t.Errorf("after 1.5 s of play the players are at %v s, want both past 0.5 s", played)
	}
	labels := browse(t, ctx, con, "labels", 5*time.Second, chromedp.Evaluate[string](
		`[...document.querySelectorAll("section.message")].map(s => s.innerText).join(" | ")`))
	if !strings.Contains(labels, "Message 2/2") || !strings.Contains(labels, "URGENT") ||
		strings.Index(labels, "Message 2/2") > strings.Index(labels, "Message 1/2") {
		t.Errorf("message labels %q: want message 2/2 (newest, urgent) before 1/2", labels)
	}
	browse(t, ctx, con, "scroll to the messages", 5*time.Second, chromedp.ScrollIntoView(chromedp.CSS("section.message")))
	screenshot(t, ctx, "ticket-two-messages.png")
}
