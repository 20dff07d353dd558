package web

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/acklink"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/tickets"
)

func TestTicketPage(t *testing.T) {
	a := newApp(t)
	tk := a.ticket("+33612345678", astreinte.Urgent, 2*time.Minute)
	b := a.browser()
	csrf := b.mustLogin("alice")
	path := "/tickets/" + tk.Number

	resp, page := b.do("GET", path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{`href="tel:+33612345678"`, "Client +33612345678", "support", "hors heures",
		"URGENT", `<audio id="recording" class="message" data-seq="1" controls preload="metadata" src="/tickets/` + tk.Number + `/recordings/1">`,
		"mar. 1 déc. 2026 à 23:08", // received, in the calendar's zone
		`id="ack"`, "Europe/Paris"} {
		if !strings.Contains(page, want) {
			t.Errorf("ticket page lacks %q", want)
		}
	}

	t.Run("a form without the CSRF token changes nothing", func(t *testing.T) {
		resp, _ := b.do("POST", path+"/acknowledge", url.Values{})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
		resp, _ = b.do("POST", path+"/acknowledge", url.Values{"csrf": {"x" + csrf}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("wrong token: status %d", resp.StatusCode)
		}
		if got, _ := a.svc.ByID(context.Background(), tk.ID); got.Status != astreinte.StatusNew {
			t.Fatalf("status %s", got.Status)
		}
	})
	t.Run("actions run as the user's person", func(t *testing.T) {
		steps := []struct {
			action, note string
			status       astreinte.Status
			event        astreinte.EventKind
		}{
			{"acknowledge", "", astreinte.StatusAcknowledged, astreinte.EventAcknowledged},
			{"note", "called, no answer", astreinte.StatusAcknowledged, astreinte.EventNote},
			{"callback", "reset the router", astreinte.StatusCalledBack, astreinte.EventCalledBack},
			{"resolve", "", astreinte.StatusResolved, astreinte.EventResolved},
			{"reopen", "came back", astreinte.StatusNew, astreinte.EventReopened},
		}
		for _, st := range steps {
			resp, _ := b.do("POST", path+"/"+st.action, url.Values{"csrf": {csrf}, "note": {st.note}})
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), path) {
				t.Fatalf("%s: %d %s", st.action, resp.StatusCode, resp.Header.Get("Location"))
			}
			got, _ := a.svc.ByID(context.Background(), tk.ID)
			if got.Status != st.status {
				t.Errorf("%s: status %s, want %s", st.action, got.Status, st.status)
			}
			evs, _ := a.svc.Timeline(context.Background(), tk.ID)
			last := evs[len(evs)-1]
			if last.Kind != st.event || last.Actor != "alice" {
				t.Errorf("%s: last event %+v", st.action, last)
			}
			if st.action == "acknowledge" && last.Channel != "web" {
				t.Errorf("acknowledged via %q, want web", last.Channel)
			}
		}
		resp, _ := b.do("POST", path+"/note", url.Values{"csrf": {csrf}, "note": {"  "}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("empty note: %d", resp.StatusCode)
		}
		resp, _ = b.do("POST", path+"/explode", url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown action: %d", resp.StatusCode)
		}
	})
	t.Run("recording answers range requests", func(t *testing.T) {
		resp, body := b.do("GET", path+"/recording", nil, "Range", "bytes=100-199")
		if resp.StatusCode != http.StatusPartialContent || len(body) != 100 ||
			resp.Header.Get("Content-Range") != "bytes 100-199/16000" || resp.Header.Get("Content-Type") != "audio/wav" {
			t.Fatalf("range: %d, %d bytes, %q %q", resp.StatusCode, len(body), resp.Header.Get("Content-Range"), resp.Header.Get("Content-Type"))
		}
		if body[0] != byte(100) {
			t.Errorf("first byte %d, want 100", body[0])
		}
		resp, body = b.do("GET", path+"/recording", nil)
		if resp.StatusCode != http.StatusOK || len(body) != 16000 || resp.Header.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("whole: %d, %d bytes", resp.StatusCode, len(body))
		}
		if resp, _ := a.browser().do("GET", path+"/recording", nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("anonymous recording: %d", resp.StatusCode)
		}
	})
	t.Run("unknown ticket", func(t *testing.T) {
		if resp, _ := b.do("GET", "/tickets/2026-999999", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

// TestTimelineZone: every time on the timeline is in the calendar's zone,
// including the retry time the paging engine writes in its own (UTC).
func TestTimelineZone(t *testing.T) {
	a := newApp(t)
	tk := a.ticket("+33612345678", astreinte.Urgent, 0)
	for _, e := range []struct {
		at     time.Time
		detail string
	}{
		{time.Date(2026, 12, 1, 10, 25, 25, 0, time.UTC), "alice via sip: busy; retry 1/1 at 10:26:25"},
		{time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC), "bob via email: refused; retry 2/3 at 00:01:00"}, // past midnight
	} {
		if err := a.db.AddEvent(context.Background(), astreinte.Event{TicketID: tk.ID, At: e.at, Kind: astreinte.EventPageFailed,
			Detail: e.detail}); err != nil {
			t.Fatal(err)
		}
	}
	b := a.browser()
	b.mustLogin("alice")
	_, page := b.do("GET", "/tickets/"+tk.Number, nil)
	for _, want := range []string{"mar. 1 déc. 2026 à 11:25", "nouvel essai 1/1 à 11:26", "retry 1/1 at 11:26:25 CET", "nouvel essai 2/3 à 01:01", "retry 2/3 at 01:01:00 CET"} {
		if !strings.Contains(page, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if strings.Contains(page, "10:26:25") {
		t.Errorf("timeline still shows the UTC retry time")
	}
}

// TestLiveEvents: a change reaches an open stream, also after the server's
// read and write timeouts (which end ordinary requests) have passed.
func TestLiveEvents(t *testing.T) {
	const timeout = 300 * time.Millisecond
	a := newApp(t, func(s *http.Server) { s.ReadTimeout, s.WriteTimeout = timeout, timeout })
	b := a.browser()
	b.mustLogin("alice")
	req, _ := http.NewRequest("GET", a.ts.URL+"/events", nil)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	for { // the stream says it is connected, so the subscription is in place
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, ": connected") {
			break
		}
	}
	time.Sleep(3 * timeout) // past the server's deadlines: the stream must still carry the change
	tk := a.ticket("+33699999999", astreinte.Urgent, 0)
	var ev, data string
	for data == "" {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			ev = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			data = strings.TrimSpace(v)
		}
	}
	if ev != "ticket" || data != `{"kind":"`+string(tickets.Created)+`","number":"`+tk.Number+`"}` {
		t.Fatalf("event %q data %q", ev, data)
	}
}

func TestOnCallPage(t *testing.T) {
	a := newApp(t)
	b := a.browser()
	csrf := b.mustLogin("alice")
	_, page := b.do("GET", "/oncall", nil)
	for _, want := range []string{"primary", "Bob", `action="/oncall/take"`, "Alice", `id="feed"`, "/oncall/alice.ics?token="} {
		if !strings.Contains(page, want) {
			t.Errorf("on-call page lacks %q", want)
		}
	}
	if strings.Contains(page, `action="/oncall/overrides"`) {
		t.Errorf("a technician sees the admin's override form")
	}
	// Alice takes bob's night until 08:00.
	resp, body := b.do("POST", "/oncall/take", url.Values{"csrf": {csrf}, "until": {"2026-12-02T08:00"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("take: %d %s", resp.StatusCode, body)
	}
	ovs, err := a.db.ShiftOverrides(context.Background(), time.Time{}, time.Time{})
	if err != nil || len(ovs) != 1 {
		t.Fatalf("overrides %v %v", ovs, err)
	}
	o := ovs[0]
	if o.Replaced != "bob" || o.By != "alice" || !o.From.Equal(a.clock()) || !o.To.Equal(time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)) {
		t.Fatalf("override %+v", o)
	}
	_, page = b.do("GET", "/oncall", nil)
	if !strings.Contains(page, "<strong>primary</strong> :\nAlice") || !strings.Contains(page, `id="mine"`) ||
		strings.Contains(page, `action="/oncall/take"`) {
		t.Errorf("alice not on call now, or still offered to take it:\n%s", page)
	}
	// A technician cannot remove it; an admin can.
	del := "/oncall/overrides/" + itoa(o.ID) + "/delete"
	if resp, _ := b.do("POST", del, url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("technician removed an override: %d", resp.StatusCode)
	}
	root := a.browser()
	rcsrf := root.mustLogin("root")
	if resp, _ := root.do("POST", del, url.Values{"csrf": {rcsrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin remove: %d", resp.StatusCode)
	}
	if ovs, _ := a.db.ShiftOverrides(context.Background(), time.Time{}, time.Time{}); len(ovs) != 0 {
		t.Fatalf("override still there: %v", ovs)
	}
	// The admin adds one leaving nobody: a gap shows.
	resp, body = root.do("POST", "/oncall/overrides", url.Values{"csrf": {rcsrf}, "replaced": {"bob"}, "by": {""},
		"from": {"2026-12-02T20:00"}, "to": {"2026-12-03T06:00"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin add: %d %s", resp.StatusCode, body)
	}
	_, page = root.do("GET", "/oncall", nil)
	if !strings.Contains(page, "⚠ demain 20:00 → jeu. 3 déc. 06:00") {
		t.Errorf("gap not shown:\n%s", page)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestCallsAndStatus(t *testing.T) {
	a := newApp(t)
	c := astreinte.Call{Line: "support", CallerNumber: "+33611111111", StartedAt: a.clock().Add(-time.Minute),
		Case: astreinte.CaseOutOfHours, Outcome: astreinte.OutcomeInProgress}
	if err := a.svc.StartCall(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	c.EndedAt, c.Outcome, c.HangupBy = a.clock(), astreinte.OutcomeNoMessage, "caller"
	if err := a.svc.EndCall(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	b.mustLogin("alice")
	_, page := b.do("GET", "/calls", nil)
	for _, want := range []string{"06 11 11 11 11", "appel manqué, sans message", "1 min"} {
		if !strings.Contains(page, want) {
			t.Errorf("calls page lacks %q", want)
		}
	}
	_, page = b.do("GET", "/status", nil)
	if !strings.Contains(page, "email, sip") || !strings.Contains(page, "Aucune alerte envoyée") {
		t.Errorf("status page lacks the channels:\n%s", page)
	}
	// An urgent ticket pages (support line policy): its email fails.
	tk := a.ticket("+33622222222", astreinte.Urgent, 0)
	ctx := context.Background()
	pg, err := a.db.PageByTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	send := oncall.Send{PageID: pg.ID, TicketID: tk.ID, Step: 0, Channel: "email", Person: "bob", State: oncall.SendPending,
		NextTryAt: a.clock()}
	if ok, err := a.db.AdvancePage(ctx, pg.ID, pg.Step, pg.Step+1, a.clock().Add(time.Hour), []oncall.Send{send}, nil); err != nil || !ok {
		t.Fatalf("advance page: %v %v", ok, err)
	}
	sends, err := a.db.DueSends(ctx, a.clock(), 10)
	if err != nil || len(sends) != 1 {
		t.Fatalf("due sends %v %v", sends, err)
	}
	if _, err := a.db.ClaimSend(ctx, sends[0].ID, a.clock().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := a.db.FinishSend(ctx, sends[0].ID, oncall.SendFailed, time.Time{}, "smtp: 550 no such user", nil); err != nil {
		t.Fatal(err)
	}
	_, page = b.do("GET", "/status", nil)
	for _, want := range []string{"<strong>email</strong> · failed → bob", tk.Number, "smtp: 550 no such user"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
}

// TestAckLinkPage: the email's link shows the recording (through the same
// signed parameters), a tel: link and the way to the ticket's page.
func TestAckLinkPage(t *testing.T) {
	a := newApp(t)
	tk := a.ticket("+33612345678", astreinte.Urgent, time.Minute)
	link := acklink.AckURL(a.ts.URL, testKey, tk.ID, "alice", a.clock().Add(time.Hour))
	b := a.browser() // not logged in: the link is enough
	resp, page := b.do("GET", strings.TrimPrefix(link, a.ts.URL), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ack page: %d", resp.StatusCode)
	}
	src := regexp.MustCompile(`<audio id="recording" controls preload="metadata" src="([^"]+)"`).FindStringSubmatch(page)
	if src == nil || !strings.Contains(page, `href="tel:+33612345678"`) || !strings.Contains(page, `href="tickets/`+tk.Number+`"`) {
		t.Fatalf("ack page lacks the player, the tel: link or the ticket link:\n%s", page)
	}
	resp, body := b.do("GET", "/"+src[1], nil, "Range", "bytes=0-99")
	if resp.StatusCode != http.StatusPartialContent || len(body) != 100 {
		t.Fatalf("recording through the link: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, _ = b.do("GET", "/"+strings.Replace(src[1], "p=alice", "p=bob", 1), nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("altered link: %d", resp.StatusCode)
	}
	a.advance(2 * time.Hour)
	if resp, _ = b.do("GET", "/"+src[1], nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("expired link: %d", resp.StatusCode)
	}
}
