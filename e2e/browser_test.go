package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The technicians' web pages in a real browser: Debian's Chromium, headless,
// driven over the DevTools protocol with chromedp, at a phone's size.

const phoneW, phoneH = 390, 844

// requireChromium returns Chromium's path; it skips the test when there is
// none, or fails it when CI=true.
func requireChromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if fileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not installed: apt-get install -y chromium")
	}
	t.Skip("chromium not installed: apt-get install -y chromium")
	return ""
}

// startBrowser starts headless Chromium with a fresh profile and returns a
// tab's context. The flags keep it off the network (this machine's is
// closed) and quiet: no first-run, sync, component updates.
func startBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox, // as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		// A French phone: the pages speak the reader's language.
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
		chromedp.UserDataDir(filepath.Join(testDir(t), "chromium-profile")),
		chromedp.WindowSize(phoneW, phoneH),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneW, phoneH, chromedp.EmulateScale(1), chromedp.EmulateMobile)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// consoleLog collects what the page printed and Chromium reported
// (CSP violations, failed loads).
type consoleLog struct {
	mu    sync.Mutex
	lines []string
}

func (c *consoleLog) listen(ctx context.Context) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.lines = append(c.lines, fmt.Sprintf("%s: %s (%s)", m.Type, m.Text, m.URL))
			c.mu.Unlock()
		}
	}()
}

func (c *consoleLog) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

// artifactsDir is where the test's screenshots go: e2e/artifacts/<test>/.
func artifactsDir(t *testing.T) string {
	d := filepath.Join(moduleRoot, "e2e", "artifacts", strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", p, len(png))
}

// browse runs one browser action with a deadline and returns its value,
// failing the test with the page and what it logged when it does not
// finish.
func browse[T any](t *testing.T, ctx context.Context, con *consoleLog, what string, d time.Duration, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		url, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\nat %s\nconsole:\n%s\npage: %s", what, err, url, strings.Join(con.all(), "\n"), tail(body, 60))
	}
	return v
}

// aboveFold fails the test unless each element (by id) is shown whole in
// the first screen of the phone: its box's bottom within the viewport's
// height, the page not scrolled. It returns the bottoms, for the log.
func aboveFold(t *testing.T, ctx context.Context, con *consoleLog, ids ...string) map[string]float64 {
	t.Helper()
	browse(t, ctx, con, "scroll to the top", 5*time.Second, chromedp.Evaluate[bool](`window.scrollTo(0, 0); true`))
	js := `(ids => Object.fromEntries(ids.map(id => { const e = document.getElementById(id);
		if (!e) return [id, -1]; const r = e.getBoundingClientRect(); return [id, r.height > 0 ? r.bottom : -1]; })))(` +
		mustJSON(ids) + `)`
	got := browse(t, ctx, con, "element positions", 5*time.Second, chromedp.Evaluate[map[string]float64](js))
	h := browse(t, ctx, con, "viewport height", 5*time.Second, chromedp.Evaluate[float64](`window.innerHeight`))
	for _, id := range ids {
		b, ok := got[id]
		switch {
		case !ok || b < 0:
			t.Errorf("#%s is not on the page (or not shown)", id)
		case b > h || b > phoneH:
			t.Errorf("#%s ends at %.0f px: below the fold of a %d×%d phone (viewport %.0f px)", id, b, phoneW, phoneH, h)
		}
	}
	t.Logf("bottoms on a %d×%d screen: %v", phoneW, phoneH, got)
	return got
}

// menuFits fails the test unless every link of the top menu (and the
// log-out button) is shown whole within the phone's width: on a 390 px
// screen the menu wraps rather than pushing the user's name off screen.
func menuFits(t *testing.T, ctx context.Context, con *consoleLog) {
	t.Helper()
	type box struct {
		Text               string
		Left, Right, Width float64
	}
	got := browse(t, ctx, con, "menu positions", 5*time.Second, chromedp.Evaluate[[]box](
		`Array.from(document.querySelectorAll(".top nav a, .top .logout button")).map(e => { const r = e.getBoundingClientRect();
			return {Text: e.textContent.trim(), Left: r.left, Right: r.right, Width: r.width}; })`))
	w := browse(t, ctx, con, "viewport width", 5*time.Second, chromedp.Evaluate[float64](`document.documentElement.clientWidth`))
	if len(got) < 5 {
		t.Fatalf("menu: %d links, want at least 5: %+v", len(got), got)
	}
	for _, b := range got {
		if b.Width <= 0 || b.Left < 0 || b.Right > w || b.Right > phoneW {
			t.Errorf("menu link %q spans %.0f–%.0f px: not within the %.0f px of a %d px phone", b.Text, b.Left, b.Right, w, phoneW)
		}
	}
	t.Logf("menu on a %d px screen: %+v", phoneW, got)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestBrowserNight_SIPp is a technician's night on a phone: she logs in,
// a caller leaves a message (SIPp) and the ticket appears in her open list
// without a reload; on the ticket's page the recording loads (answered
// with 206 to range requests), she acknowledges it and the ticket says so;
// then she takes the on-call from Bob until the morning.
//
// It does not run in parallel: Chromium takes a core, and the other tests
// judge recorded audio and timing, which a loaded machine spoils.
func TestBrowserNight_SIPp(t *testing.T) {
	requirePeer(t, "sipp")
	exe := requireChromium(t)
	// The technicians are emailed (serve refuses a rota nobody can page).
	mail := startMailSink(t)
	svc := startAstreinte(t, map[string]any{
		"oncall": map[string]any{
			"people": []any{
				map[string]any{"id": "alice", "name": "Alice Martin", "email": "alice@e2e.test"},
				map[string]any{"id": "bob", "name": "Bob Durand", "email": "bob@e2e.test"},
			},
			// Bob has this week's nights (Monday 23 November 09:00 on).
			"rotations":  []any{map[string]any{"name": "nights", "participants": []any{"bob", "alice"}, "shift": "1w", "start": "2026-11-23 09:00"}},
			"escalation": map[string]any{"tiers": []any{map[string]any{"name": "primary", "rotation": "nights"}}},
		},
		"paging": map[string]any{"email": map[string]any{"smtp": mail.addr, "from": "astreinte@e2e.test", "tls": "none"}},
	})
	listen := svc.cfg["http"].(map[string]any)["listen"].(string)
	base := "http://" + listen

	// The admin makes her account; the password comes on standard input.
	cmd := exec.Command(astreinteBin, "users", "add", "alice", "--role", "technician", "--person", "alice", "--config", svc.cfgPath)
	cmd.Stdin = strings.NewReader("nuit-blanche-2026\n")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "User alice added (technician, person alice)") {
		t.Fatalf("users add: %v\n%s", err, out)
	}

	ctx := startBrowser(t, exe)
	con := &consoleLog{}
	con.listen(ctx)
	browse(t, ctx, con, "log in", 30*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/tickets"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "nuit-blanche-2026"),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("tickets")),
	))
	if empty := browse(t, ctx, con, "empty list", 10*time.Second, chromedp.Text(chromedp.ID("tickets"))); !strings.Contains(empty, "Aucun ticket") {
		t.Fatalf("list before the call: %q", empty)
	}
	menuFits(t, ctx, con)
	// A mark on the page: still there once the ticket shows means no reload.
	browse(t, ctx, con, "mark the page", 10*time.Second, chromedp.Evaluate[bool](`window.astreinteMark = "same page"; true`))
	// The live stream is open before the call.
	browse(t, ctx, con, "event stream", 10*time.Second, chromedp.Poll[bool](
		`document.body.dataset.live === "on"`))

	leaveMessageSIPp(t, svc, "0612345678")
	tk, ok := svc.waitTicket(15 * time.Second)
	if !ok {
		t.Fatal("no ticket after the call")
	}
	item := chromedp.CSS(`#tickets li[data-number="` + tk.Number + `"]`)
	browse(t, ctx, con, "ticket appears live", 20*time.Second, chromedp.WaitVisible(item))
	row := browse(t, ctx, con, "row", 5*time.Second, chromedp.Text(item))
	mark := browse(t, ctx, con, "mark", 5*time.Second, chromedp.Evaluate[string](`window.astreinteMark || "reloaded"`))
	if mark != "same page" || !strings.Contains(row, "06 12 34 56 78") {
		t.Fatalf("live list: mark %q, row %q", mark, row)
	}
	browse(t, ctx, con, "row id", 5*time.Second, chromedp.Evaluate[bool](
		`document.querySelector('#tickets li[data-number="`+tk.Number+`"]').id = "first-row"; true`))
	aboveFold(t, ctx, con, "first-row")
	screenshot(t, ctx, "1-tickets-list.png")

	// The ticket's page: tel: link, the recording loads and seeks.
	browse(t, ctx, con, "open the ticket", 20*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.CSS(`#tickets li[data-number="`+tk.Number+`"] a`)),
		chromedp.WaitVisible(chromedp.ID("recording")),
	))
	tel := browse(t, ctx, con, "call link", 5*time.Second, chromedp.AttributeValue(chromedp.ID("call"), "href"))
	if tel.Value != "tel:+33612345678" { // the callback number, in E.164
		t.Errorf("call link %q", tel.Value)
	}
	browse(t, ctx, con, "audio loads", 20*time.Second, chromedp.Poll[bool](
		`(a => a.readyState >= 1 && a.duration > 1 && a.error === null)(document.getElementById("recording"))`))
	duration := browse(t, ctx, con, "duration", 5*time.Second, chromedp.Evaluate[float64](`document.getElementById("recording").duration`))
	ranged := browse(t, ctx, con, "range request", 20*time.Second, chromedp.Evaluate[string](
		`fetch(document.getElementById("recording").src, {headers: {Range: "bytes=44-1043"}})
			.then(r => r.blob().then(b => r.status + " " + r.headers.get("Content-Range") + " " + b.size))`,
		chromedp.EvalAwaitPromise))
	if ok, _ := regexp.MatchString(`^206 bytes 44-1043/\d+ 1000$`, ranged); !ok {
		t.Errorf("range request from the page: %q, want 206 with 1000 bytes", ranged)
	}
	if want := float64(tk.DurationMS) / 1000; duration < want-0.5 || duration > want+0.5 {
		t.Errorf("audio element's duration %.2f s, recording %.2f s", duration, want)
	}
	// The audio element asked for a range itself (Chromium sends "bytes=0-")
	// and got 206 Partial Content.
	if !svc.waitLog(`msg="web: recording" ticket=`+tk.Number+` range="bytes=0-" status=206`, 5*time.Second) {
		t.Errorf("the audio element's range request was not answered 206:\n%s", tail(svc.log(), 30))
	}
	// What a technician woken at 3 a.m. needs is on the first screen: the
	// message's player, the number to call, the actions.
	aboveFold(t, ctx, con, "recording", "call", "ack", "callback", "resolve")
	menuFits(t, ctx, con)
	screenshot(t, ctx, "2-ticket.png")

	browse(t, ctx, con, "acknowledge", 20*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.ID("ack")),
		chromedp.WaitNotPresent(chromedp.ID("ack")),
	))
	status := browse(t, ctx, con, "status", 5*time.Second, chromedp.Text(chromedp.ID("status")))
	if !strings.Contains(status, "pris en charge") || !strings.Contains(status, "alice") {
		t.Errorf("status after acknowledging: %q", status)
	}
	if msg := browse(t, ctx, con, "message", 5*time.Second, chromedp.Text(chromedp.CSS("main .msg"))); !strings.Contains(msg, "les relances sont arrêtées") {
		t.Errorf("message after acknowledging: %q", msg)
	}
	screenshot(t, ctx, "3-ticket-acknowledged.png")

	// The on-call page: Bob has the night; Alice takes it until 08:00.
	browse(t, ctx, con, "on-call page", 20*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.CSS(`.top nav a[href="/oncall"]`)),
		chromedp.WaitVisible(chromedp.ID("take")),
	))
	if now := browse(t, ctx, con, "on call now", 5*time.Second, chromedp.Text(chromedp.ID("now"))); !strings.Contains(now, "Bob Durand") {
		t.Errorf("on call before: %q", now)
	}
	screenshot(t, ctx, "4-oncall.png")
	browse(t, ctx, con, "take the on-call", 20*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.CSS("#take button")),
		chromedp.WaitVisible(chromedp.CSS("main .msg")),
	))
	if now := browse(t, ctx, con, "on call now", 5*time.Second, chromedp.Text(chromedp.ID("now"))); !strings.Contains(now, "Alice Martin") ||
		!strings.Contains(now, "jusqu'à 09:00") {
		t.Errorf("on call after taking it: %q", now)
	}
	screenshot(t, ctx, "5-oncall-taken.png")
	// (The CLI's clock starts at clock.now when it starts: ask about the service's now.)
	if out, err := svc.cli("oncall", "who", "--at", svc.clock().Add(time.Second).Format(time.RFC3339)); err != nil ||
		!strings.Contains(out, "Alice Martin") {
		t.Errorf("oncall who after taking it on the web: %v\n%s", err, out)
	}

	// The calls: the SIPp call left the message.
	browse(t, ctx, con, "calls page", 20*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.CSS(`.top nav a[href="/calls"]`)),
		chromedp.WaitVisible(chromedp.CSS(".call-row")),
	))
	if calls := browse(t, ctx, con, "calls", 5*time.Second, chromedp.Text(chromedp.CSS("main .list"))); !strings.Contains(calls, "06 12 34 56 78") ||
		!strings.Contains(calls, "message") || !strings.Contains(calls, tk.Number) {
		t.Errorf("calls page: %q", calls)
	}
	screenshot(t, ctx, "6-calls.png")
	// The status: SIP listening on the service's address, nothing in progress.
	browse(t, ctx, con, "status page", 20*time.Second, chromedp.Steps(
		chromedp.Click(chromedp.CSS(`.top nav a[href="/status"]`)),
		chromedp.WaitVisible(chromedp.ID("active")),
	))
	if st := browse(t, ctx, con, "status", 5*time.Second, chromedp.Text(chromedp.CSS("main dl"))); !strings.Contains(st, "écoute "+svc.target()) {
		t.Errorf("status page: %q", st)
	}
	screenshot(t, ctx, "7-status.png")

	// Her own setting over her phone's language: English, and only English.
	if out, err := svc.cli("users", "language", "alice", "en"); err != nil || !strings.Contains(out, "Language of alice: en") {
		t.Fatalf("users language: %v\n%s", err, out)
	}
	browse(t, ctx, con, "ticket in English", 20*time.Second, chromedp.Steps(
		chromedp.Navigate(base+"/tickets/"+tk.Number),
		chromedp.WaitVisible(chromedp.ID("timeline")),
	))
	text := browse(t, ctx, con, "page text", 5*time.Second, chromedp.Text(chromedp.ID("main")))
	for _, w := range []string{"Timeline", "Received", "Call", "Taken by alice"} {
		if !strings.Contains(text, w) {
			t.Errorf("English ticket page lacks %q:\n%s", w, text)
		}
	}
	for _, w := range []string{"Historique", "Reçu", "Appeler", "Pris en charge par", "déc.", " / "} {
		if strings.Contains(text, w) {
			t.Errorf("English ticket page has %q:\n%s", w, text)
		}
	}
	screenshot(t, ctx, "8-ticket-english.png")

	// The JSON API with a token made by the CLI: the same ticket, as the CLI prints it.
	cmd = exec.Command(astreinteBin, "tokens", "add", "helpdesk", "--person", "alice", "--config", svc.cfgPath)
	tokOut, err := cmd.Output()
	token := strings.TrimSpace(string(tokOut))
	if err != nil || !strings.HasPrefix(token, "ast_") {
		t.Fatalf("tokens add: %v %q", err, tokOut)
	}
	apiGet := func(path string, hdr ...string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := apiGet("/api/tickets?filter=mine"); code != 200 || !strings.Contains(body, `"number": "`+tk.Number+`"`) ||
		!strings.Contains(body, `"acked_by": "alice"`) {
		t.Errorf("GET /api/tickets: %d %s", code, body)
	}
	if code, body := apiGet("/api/tickets/"+tk.Number+"/recording", "Range", "bytes=0-43"); code != http.StatusPartialContent ||
		len(body) != 44 || !strings.HasPrefix(body, "RIFF") {
		t.Errorf("GET recording with a range: %d, %d bytes", code, len(body))
	}
	req, _ := http.NewRequest("GET", base+"/api/tickets", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous API request: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	out, err := svc.cli("tickets", "show", tk.Number, "--json")
	if err != nil {
		t.Fatalf("tickets show: %v\n%s", err, out)
	}
	var shown struct {
		Status   string `json:"status"`
		AckedBy  string `json:"acked_by"`
		Timeline []struct {
			Kind, Actor, Channel string
		} `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("tickets show --json: %v\n%s", err, out)
	}
	acked := false
	for _, e := range shown.Timeline {
		acked = acked || e.Kind == "acknowledged" && e.Actor == "alice" && e.Channel == "web"
	}
	if shown.Status != "acknowledged" || shown.AckedBy != "alice" || !acked {
		t.Errorf("after the click: %s", out)
	}
	for _, l := range con.all() {
		if strings.Contains(l, "Content Security Policy") || strings.HasPrefix(l, "exception") {
			t.Errorf("browser: %s", l)
		}
	}
}
