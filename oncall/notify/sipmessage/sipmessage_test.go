package sipmessage

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/acklink"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/sip"
)

type sent struct{ target, text string }

type senderFunc func(ctx context.Context, target, text string, o sip.DialOptions) error

func (f senderFunc) SendMessage(ctx context.Context, target, text string, o sip.DialOptions) error {
	return f(ctx, target, text, o)
}

func TestNotify(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 2, 1, 0, 0, time.UTC)
	key := []byte("0123456789abcdef0123456789abcdef")
	var got []sent
	n := &Notifier{
		Sender: senderFunc(func(_ context.Context, target, text string, _ sip.DialOptions) error {
			got = append(got, sent{target, text})
			return nil
		}),
		Links: &acklink.Links{BaseURL: "https://astreinte.example.com/", Key: key, Now: func() time.Time { return now }}, Location: paris,
	}
	tk := astreinte.Ticket{ID: 7, Number: "2026-000007", Urgency: astreinte.Urgent, CallerNumber: "0612345678",
		CallerName: "Dupont SARL", CreatedAt: time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC), Duration: 83 * time.Second}
	joined := tk
	joined.Recordings = []astreinte.Recording{{At: tk.CreatedAt.Add(20 * time.Minute), Duration: 17 * time.Second}, {At: tk.CreatedAt, Duration: tk.Duration}}
	tests := []struct {
		lang string
		want []string
		tk   *astreinte.Ticket // nil: tk
	}{
		{"fr", []string{"URGENT — Ticket 2026-000007, appel de 06 12 34 56 78 (Dupont SARL) à 03:00, message de 1m23s.", "Prendre en charge : https://astreinte.example.com/ack?", "ou : astreinte tickets ack 2026-000007"}, nil},
		{"en", []string{"URGENT — Ticket 2026-000007, call from 06 12 34 56 78 (Dupont SARL) at 03:00, message of 1m23s.", "Acknowledge: https://astreinte.example.com/ack?", "or: astreinte tickets ack 2026-000007"}, nil},
		// A later call joined the ticket: its message is the one paged for.
		{"fr", []string{"URGENT — Ticket 2026-000007, appel de 06 12 34 56 78 (Dupont SARL) à 03:20, message de 17s (2e message du même appelant)."}, &joined},
		{"en", []string{"call from 06 12 34 56 78 (Dupont SARL) at 03:20, message of 17s (message 2 from the same caller)."}, &joined},
	}
	for _, tt := range tests {
		got = nil
		ticket := tk
		if tt.tk != nil {
			ticket = *tt.tk
		}
		res, err := n.Notify(context.Background(), oncall.Notice{Ticket: ticket, Person: oncall.Person{ID: "alice", Name: "Alice", SIP: "sip:alice@pbx", Language: tt.lang}})
		if err != nil || res.Acked || !strings.Contains(res.Detail, "sip:alice@pbx") {
			t.Fatalf("%s: %+v %v", tt.lang, res, err)
		}
		if len(got) != 1 || got[0].target != "sip:alice@pbx" {
			t.Fatalf("%s: sent %+v", tt.lang, got)
		}
		for _, w := range tt.want {
			if !strings.Contains(got[0].text, w) {
				t.Errorf("%s: %q missing from\n%s", tt.lang, w, got[0].text)
			}
		}
		// The link acknowledges ticket 7 for alice.
		i := strings.Index(got[0].text, "/ack?")
		q, err := url.ParseQuery(strings.Fields(got[0].text[i+5:])[0])
		if err != nil {
			t.Fatal(err)
		}
		id, person, err := acklink.VerifyAck(key, q, now)
		if err != nil || id != 7 || person != "alice" {
			t.Errorf("%s: link verifies as %d %q %v", tt.lang, id, person, err)
		}
	}

	// Hidden caller, not urgent, no link configured.
	got = nil
	n2 := &Notifier{Sender: n.Sender, Location: paris}
	tk2 := astreinte.Ticket{Number: "2026-000008", Urgency: astreinte.NotUrgent, CallerNumber: "anonymous"}
	if _, err := n2.Notify(context.Background(), oncall.Notice{Ticket: tk2, Person: oncall.Person{ID: "bob", SIP: "sip:bob@pbx"}}); err != nil {
		t.Fatal(err)
	}
	if txt := got[0].text; !strings.HasPrefix(txt, "NON URGENT — Ticket 2026-000008, appel de numéro masqué.") || strings.Contains(txt, "/ack?") {
		t.Errorf("text:\n%s", txt)
	}

	// No SIP URI, and a refusal: errors, so the engine retries then escalates.
	if _, err := n.Notify(context.Background(), oncall.Notice{Ticket: tk, Person: oncall.Person{ID: "carol", Name: "Carol"}}); err == nil {
		t.Error("no SIP URI: want an error")
	}
	n.Sender = senderFunc(func(context.Context, string, string, sip.DialOptions) error {
		return errors.New("480 Temporarily Unavailable")
	})
	if _, err := n.Notify(context.Background(), oncall.Notice{Ticket: tk, Person: oncall.Person{ID: "alice", SIP: "sip:alice@pbx"}}); err == nil || !strings.Contains(err.Error(), "480") {
		t.Errorf("refused: %v", err)
	}
}

// TestTextGivesTheCallbackNumber: a hidden caller who typed a number is
// announced with that number, not as hidden.
func TestTextGivesTheCallbackNumber(t *testing.T) {
	n := &Notifier{Location: time.UTC}
	for _, tc := range []struct {
		tk   astreinte.Ticket
		want string
	}{
		{astreinte.Ticket{Number: "2026-000008", CallerNumber: "anonymous", CallbackNumber: "+33123456789"}, "appel de 01 23 45 67 89"},
		{astreinte.Ticket{Number: "2026-000009", CallerNumber: "anonymous"}, "appel de numéro masqué"},
		{astreinte.Ticket{Number: "2026-000010", CallerNumber: "0612345678", CallbackNumber: "+33612345678"}, "appel de 06 12 34 56 78"},
	} {
		if text := n.Text(oncall.Notice{Ticket: tc.tk}); !strings.Contains(text, tc.want) {
			t.Errorf("ticket %s: text %q lacks %q", tc.tk.Number, text, tc.want)
		}
	}
}

// The people already paged are told, in their language, who took the
// ticket and when (Paris time), in one line with no acknowledge link:
// at their SIP URI, or, paged by phone through a proxy of one's own, at
// the phone number the call-out rang there. Without that proxy a person
// with only a phone number cannot be messaged.
func TestTakenNotice(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	takenAt := time.Date(2026, 11, 24, 2, 12, 0, 0, time.UTC) // 03:12 in Paris
	key := []byte("0123456789abcdef0123456789abcdef")
	links := &acklink.Links{BaseURL: "https://astreinte.example.com/", Key: key, Now: func() time.Time { return takenAt }}
	tk := astreinte.Ticket{ID: 123, Number: "2026-000123", Urgency: astreinte.Urgent, CallerNumber: "0612345678",
		CreatedAt: takenAt.Add(-10 * time.Minute)}
	bob := oncall.Person{ID: "bob", Name: "Bob", SIP: "sip:bob@pbx.example.com", Language: "fr"}
	carol := oncall.Person{ID: "carol", Name: "Carol", Phone: "+33 6 11 22 33 44", Language: "en"}
	for _, tt := range []struct {
		name         string
		person       oncall.Person
		phoneByProxy bool
		target, text string // target "": not reached, Notify fails
	}{
		{"SIP URI, French", bob, false, "sip:bob@pbx.example.com", "2026-000123 pris en charge par Alice à 03:12."},
		{"SIP URI, English", oncall.Person{ID: "bob", Name: "Bob", SIP: bob.SIP, Language: "en"}, false, bob.SIP, "2026-000123 taken by Alice at 03:12."},
		{"phone through the proxy", carol, true, "sip:+33611223344@pbx.example.com:5060", "2026-000123 taken by Alice at 03:12."},
		{"phone through a carrier's trunk", carol, false, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []sent
			n := &Notifier{
				Sender: senderFunc(func(_ context.Context, target, text string, _ sip.DialOptions) error {
					got = append(got, sent{target, text})
					return nil
				}),
				Options: sip.DialOptions{Proxy: "pbx.example.com:5060"}, Links: links, Location: paris, PhoneByProxy: tt.phoneByProxy,
			}
			no := oncall.Notice{Ticket: tk, Person: tt.person, Event: oncall.NoticeTaken, TakenBy: "Alice", TakenAt: takenAt}
			if reached := n.Reaches(tt.person); reached != (tt.target != "") {
				t.Errorf("Reaches = %t, want %t", reached, tt.target != "")
			}
			res, err := n.Notify(context.Background(), no)
			if tt.target == "" {
				if err == nil || len(got) != 0 {
					t.Errorf("Notify sent %+v (%v), want an error and nothing sent", got, err)
				}
				return
			}
			if err != nil || res.Acked || !strings.Contains(res.Detail, tt.target) {
				t.Fatalf("Notify: %+v, %v", res, err)
			}
			if len(got) != 1 || got[0] != (sent{tt.target, tt.text}) {
				t.Errorf("sent %+v, want [{%s %q}]", got, tt.target, tt.text)
			}
		})
	}
}
