package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/store/pgtest"
)

// sseEvent is one server-sent event of the live ticket list (/events).
type sseEvent struct {
	Kind   string `json:"kind"`
	Number string `json:"number"`
	at     time.Time
}

// liveStream logs in to svc's web pages as name (a technician with
// password) and follows /events, as the tickets page does, without a
// browser; the events arrive on the channel until the test ends.
func liveStream(t *testing.T, svc *service, name, password string) <-chan sseEvent {
	t.Helper()
	c := newClient()
	c.Timeout = 0 // the stream lives as long as the test
	base := svc.httpBase()
	tok := formCSRF(t, c, base+"/login")
	resp, err := c.PostForm(base+"/login", url.Values{"csrf": {tok}, "name": {name}, "password": {password}, "next": {"/tickets"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/tickets" {
		t.Fatalf("log in as %s: ended on %s (%d)", name, resp.Request.URL, resp.StatusCode)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("GET /events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 64)
	connected := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == ": connected":
				close(connected)
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "ticket":
				var e sseEvent
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e) == nil {
					e.at = time.Now()
					ch <- e
				}
			case line == "":
				event = ""
			}
		}
	}()
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("/events did not say it was connected")
	}
	return ch
}

// waitEvent returns the first event of the stream that ok accepts.
func waitEvent(t *testing.T, ch <-chan sseEvent, d time.Duration, what string, ok func(sseEvent) bool) sseEvent {
	t.Helper()
	deadline := time.After(d)
	var seen []sseEvent
	for {
		select {
		case e := <-ch:
			if ok(e) {
				return e
			}
			seen = append(seen, e)
		case <-deadline:
			t.Fatalf("no %s on the live stream within %v; heard %+v", what, d, seen)
		}
	}
}

// TestLiveListAcrossNodes: two nodes on one PostgreSQL. A technician's
// live ticket list open on node A hears at once of the ticket a caller
// left on node B and of its acknowledgement through node B's API
// (LISTEN/NOTIFY between the nodes).
func TestLiveListAcrossNodes(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	pg := pgtest.Start(t)
	dsn := pg.Database(t)
	node := func(name string) *service {
		dir := filepath.Join(testDir(t), name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return startAstreinteIn(t, dir, map[string]any{"store": map[string]any{"driver": "postgres", "dsn": dsn}})
	}
	a, b := node("A"), node("B")

	cmd := exec.Command(astreinteBin, "users", "add", "alice", "--role", "technician", "--config", a.cfgPath)
	cmd.Stdin = strings.NewReader("deux-noeuds-2026\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("users add: %v\n%s", err, out)
	}
	live := liveStream(t, a, "alice", "deux-noeuds-2026")

	leaveMessageSIPp(t, b, "0622222222")
	tk, _ := oneTicket(t, b)
	if !strings.Contains(b.log(), "incoming call") || strings.Contains(a.log(), "incoming call") {
		t.Fatal("the call did not go to node B alone")
	}
	e := waitEvent(t, live, 5*time.Second, "creation of "+tk.Number, func(e sseEvent) bool {
		return e.Kind == "created" && e.Number == tk.Number
	})
	t.Logf("node A's live list heard of ticket %s made on node B", e.Number)

	// The acknowledgement through node B's API, with a token made on B.
	out, err := exec.Command(astreinteBin, "tokens", "add", "helpdesk", "--config", b.cfgPath).Output()
	token := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(token, "ast_") {
		t.Fatalf("tokens add: %v %q", err, out)
	}
	req, _ := http.NewRequest("POST", b.httpBase()+"/api/tickets/"+tk.Number+"/acknowledge", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	sent := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /api/tickets/%s/acknowledge on node B: %d", tk.Number, resp.StatusCode)
	}
	e = waitEvent(t, live, time.Second, "acknowledgement of "+tk.Number, func(e sseEvent) bool {
		return e.Kind == "acknowledged" && e.Number == tk.Number
	})
	t.Logf("node A's live list heard of the acknowledgement on node B %v after the request was sent", e.at.Sub(sent))
	if got := ticketStatus(t, a, tk.Number); got != "acknowledged" {
		t.Errorf("ticket %s on node A: status %q, want acknowledged", tk.Number, got)
	}
}

// ticketStatus is the ticket's status as svc's CLI shows it.
func ticketStatus(t *testing.T, svc *service, number string) string {
	t.Helper()
	out, err := svc.cli("tickets", "show", number, "--json")
	if err != nil {
		t.Fatalf("tickets show %s: %v\n%s", number, err, out)
	}
	var shown struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("tickets show --json: %v\n%s", err, out)
	}
	return shown.Status
}
