package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/correspondence"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/mailer/mailertest"
)

// TestReplyForm: the ticket page of an emailed request has a reply form;
// sending it mails the requester through a real SMTP server and keeps the
// reply on the timeline; an empty reply or a missing CSRF token sends
// nothing.
func TestReplyForm(t *testing.T) {
	a := newApp(t)
	sink := mailertest.Start(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	desk := &correspondence.Desk{Store: a.db, Tickets: a.svc, Now: a.clock, Log: log, Location: a.loc,
		Mail:      &mailer.Config{Addr: sink.Addr, From: "Support <support@example.com>", TLS: mailer.TLSNone, Timeout: 10 * time.Second},
		Addresses: []string{"support@example.com"}}
	s := &Server{Tickets: a.svc, Key: testKey, Now: a.clock, Log: log, Location: a.loc, Service: a.svc,
		Accounts: a.acc, Schedule: nil, Overrides: a.db, Paging: a.db, Replies: desk}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { s.CloseStreams(); ts.Close() })
	a.ts = ts

	tk := astreinte.Ticket{Line: "support", Channel: astreinte.ChannelEmail, CallerNumber: "claire@client.example",
		CallerName: "Claire", Case: astreinte.CaseOpen, CreatedAt: a.clock()}
	if err := a.svc.Create(context.Background(), &tk); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	b.mustLogin("alice")
	path := "/tickets/" + tk.Number
	_, page := b.do("GET", path, nil)
	for _, want := range []string{`action="` + path + `/reply"`, `id="reply-to">claire@client.example<`, `id="reply-text"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("ticket page lacks %q", want)
		}
	}
	csrf := csrfOf(t, page)

	if resp, _ := b.do("POST", path+"/reply", url.Values{"text": {"Bonjour"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF: status %d", resp.StatusCode)
	}
	if resp, _ := b.do("POST", path+"/reply", url.Values{"csrf": {csrf}, "text": {"   "}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("empty reply: status %d", resp.StatusCode)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("%d messages sent by refused forms", n)
	}

	resp, _ := b.do("POST", path+"/reply", url.Values{"csrf": {csrf}, "text": {"Bonjour Claire, redémarrez l'imprimante."}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=reply") {
		t.Fatalf("reply: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	msgs := sink.Wait(1, 5*time.Second)
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "claire@client.example" {
		t.Fatalf("sent %+v", msgs)
	}
	if !strings.Contains(string(msgs[0].Data), "red=C3=A9marrez l'imprimante") && !strings.Contains(string(msgs[0].Data), "redémarrez l'imprimante") {
		t.Errorf("the mail lacks the reply:\n%s", msgs[0].Data)
	}
	if !strings.Contains(msgs[0].Header().Get("Subject"), tk.Number) {
		t.Errorf("subject %q lacks the ticket number", msgs[0].Header().Get("Subject"))
	}
	evs, err := a.svc.Timeline(context.Background(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kept bool
	for _, e := range evs {
		if e.Kind == astreinte.EventReply && e.Actor == "alice" && strings.Contains(e.Detail, "redémarrez") {
			kept = true
		}
	}
	if !kept {
		t.Errorf("no reply by alice on the timeline: %+v", evs)
	}
	_, page = b.do("GET", path+"?done=reply", nil)
	if !strings.Contains(page, "redémarrez l'imprimante") {
		t.Errorf("the ticket page does not show the reply")
	}
}
