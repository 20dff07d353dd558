package voicemail

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/customers"
)

// fakeCustomers is a customer directory: caller IDs (E.164) and customer
// numbers with their contracts.
type fakeCustomers struct {
	phones  map[string]string // E.164 → customer number
	numbers map[string]string // customer number → contract
	asked   []string          // numbers looked up
}

func (f *fakeCustomers) Preview(_ context.Context, t *astreinte.Ticket) bool {
	t.Customer = f.phones[t.CallbackNumber]
	return false
}

func (f *fakeCustomers) CustomerByNumber(ctx context.Context, n string) (customers.Customer, error) {
	if err := ctx.Err(); err != nil { // as the store would: a look-up needs a live context
		return customers.Customer{}, err
	}
	f.asked = append(f.asked, n)
	c, ok := f.numbers[n]
	if !ok {
		return customers.Customer{}, customers.ErrNoCustomer
	}
	return customers.Customer{Number: n, Contract: c}, nil
}

func (f *fakeCustomers) HasCustomers(context.Context) bool { return len(f.numbers) > 0 }

func newFakeCustomers() *fakeCustomers {
	return &fakeCustomers{
		phones:  map[string]string{"+33612345678": "C001"},
		numbers: map[string]string{"C001": "isp", "4711": "isp", "4712": "tickets"},
	}
}

// promptLen is how long a built-in French prompt plays.
func promptLen(t *testing.T, name string) time.Duration {
	t.Helper()
	p, err := audio.LoadPrompts("fr", "")
	if err != nil {
		t.Fatal(err)
	}
	return audio.DurationOf(int64(len(p.Must(name))))
}

// typing adds digits to keys, one every 300 ms from at on.
func typing(keys map[time.Duration]rune, at time.Duration, digits string) {
	for i, d := range digits {
		keys[at+time.Duration(i)*300*time.Millisecond] = d
	}
}

// TestCustomerNumber: out of hours, a caller whose number is no
// customer's may type a customer number after the message; it is read
// back, confirmed with # or typed again with 2, only a listed number is
// taken, and no key within 4 s goes on without one. The promise follows
// what Take returns for the ticket with its customer.
func TestCustomerNumber(t *testing.T) {
	// The caller (0611111111, no customer's) talks from 1 s to 3 s, over
	// the greeting, which stops at 2.5 s (1.5 s of speech), and ends the
	// message with # at 4 s; the urgency question they did not hear follows
	// with 4 s for key 1, then "2 for another number" and 3 s for that key:
	// the customer-number question starts at ask.
	ask := 4*time.Second + promptLen(t, audio.PromptUrgencyAfter) + urgencyKeyWait + promptLen(t, audio.PromptCallbackOther) + otherWait
	talk := func(at time.Duration) bool { return at >= time.Second && at < 3*time.Second }
	// Take pages only for customer 4711 (its contract has on-call).
	decide := func(tk *astreinte.Ticket) astreinte.Filed { return astreinte.Filed{Paging: tk.Customer == "4711"} }
	tests := []struct {
		name     string
		typed    func(keys map[time.Duration]rune)
		customer string
		asked    []string
		heard    []string
		notHeard []string
	}{
		{"typed and confirmed with #", func(keys map[time.Duration]rune) {
			typing(keys, ask+time.Second, "4711#")
			keys[ask+3500*time.Millisecond] = '#'
		}, "4711", []string{"4711"},
			[]string{audio.PromptCustomerNumber, audio.PromptCustomerReadback, audio.PromptUrgentCallback},
			[]string{audio.PromptCustomerUnknown, audio.PromptCallbackBy}},
		{"typed, 2, typed again, #", func(keys map[time.Duration]rune) {
			typing(keys, ask+time.Second, "4711#")
			keys[ask+3500*time.Millisecond] = '2'
			typing(keys, ask+4500*time.Millisecond, "4712#")
			keys[ask+7*time.Second] = '#'
		}, "4712", []string{"4711", "4712"},
			[]string{audio.PromptCustomerReadback, audio.PromptCallbackBy},
			[]string{audio.PromptUrgentCallback, audio.PromptCustomerUnknown}},
		{"unknown number, then no key", func(keys map[time.Duration]rune) {
			typing(keys, ask+time.Second, "9999#")
		}, "", []string{"9999"},
			[]string{audio.PromptCustomerUnknown, audio.PromptCallbackBy},
			[]string{audio.PromptCustomerReadback, audio.PromptUrgentCallback}},
		{"no key: skipped", func(map[time.Duration]rune) {}, "", nil,
			[]string{audio.PromptCustomerNumber, audio.PromptCallbackBy},
			[]string{audio.PromptCustomerReadback, audio.PromptUrgentCallback}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				keys := map[time.Duration]rune{4 * time.Second: '#'}
				tc.typed(keys)
				dir := newFakeCustomers()
				tk := &fakeTickets{decide: decide}
				m := runFlowWith(t, astreinte.CaseOutOfHours, "0611111111", fakeCall{keys: keys, talk: talk}, tk, true,
					func(h *Handler, _ *Line) { h.Customers = dir })
				if len(tk.got) != 1 || tk.got[0].Kind != astreinte.KindVoicemail || tk.got[0].Customer != tc.customer {
					t.Fatalf("filed %+v, want one voicemail for customer %q", tk.got, tc.customer)
				}
				if !slices.Equal(dir.asked, tc.asked) {
					t.Errorf("looked up %q, want %q", dir.asked, tc.asked)
				}
				if at := m.heardAt(audio.PromptCustomerNumber); at < ask-100*time.Millisecond || at > ask+100*time.Millisecond {
					t.Errorf("the question came at %s, want at %s (after the message and the callback question)", at, ask)
				}
				for _, n := range tc.heard {
					if m.heardAt(n) < 0 {
						t.Errorf("played %+v, want %s", m.played, n)
					}
				}
				for _, n := range tc.notHeard {
					if m.heardAt(n) >= 0 {
						t.Errorf("played %+v, must not play %s", m.played, n)
					}
				}
				if m.heardAt(audio.PromptSavedTicket) < m.heardAt(audio.PromptCustomerNumber) {
					t.Errorf("played %+v: the ticket was filed before the customer number was asked", m.played)
				}
				if tc.customer == "" && len(tc.asked) == 0 {
					// Skipped after 4 s without a key.
					wait := m.heardAt(audio.PromptSavedTicket) - ask - promptLen(t, audio.PromptCustomerNumber)
					if wait < 4*time.Second || wait > 4200*time.Millisecond {
						t.Errorf("the question waited %s for a key, want 4 s", wait)
					}
				}
			})
		})
	}
}

// TestCustomerNumberNotAsked: not asked of a caller the caller ID
// identifies, in hours, without a directory, or with no customer listed.
func TestCustomerNumberNotAsked(t *testing.T) {
	talk := func(at time.Duration) bool { return at >= time.Second && at < 3*time.Second }
	for _, tc := range []struct {
		name string
		cs   astreinte.Case
		from string
		dir  func() Customers
	}{
		{"identified by the caller ID", astreinte.CaseOutOfHours, "0612345678", func() Customers { return newFakeCustomers() }},
		{"in hours", astreinte.CaseOpen, "0611111111", func() Customers { return newFakeCustomers() }},
		{"no customer directory", astreinte.CaseOutOfHours, "0611111111", func() Customers { return nil }},
		{"no customer listed", astreinte.CaseOutOfHours, "0611111111", func() Customers { return &fakeCustomers{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tk := &fakeTickets{}
				m := runFlowWith(t, tc.cs, tc.from, fakeCall{keys: map[time.Duration]rune{4 * time.Second: '#'}, talk: talk}, tk, false,
					func(h *Handler, _ *Line) { h.Customers = tc.dir() })
				if m.heardAt(audio.PromptCustomerNumber) >= 0 {
					t.Errorf("played %+v: the customer number was asked", m.played)
				}
				if len(tk.got) != 1 || tk.got[0].Customer != "" || m.heardAt(audio.PromptSavedTicket) < 0 {
					t.Errorf("filed %+v, want one ticket naming no customer (the tickets service identifies it)", tk.got)
				}
			})
		})
	}
}

// TestSensitiveNotice: the first agreement's rule is said after the ticket
// number, before goodbye, when the line says it; never before the beep,
// which comes when it came without it.
func TestSensitiveNotice(t *testing.T) {
	talk := func(at time.Duration) bool { return at >= 3*time.Second && at < 6*time.Second }
	var beeps []time.Duration
	for _, on := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			tk := &fakeTickets{}
			m := runFlowWith(t, astreinte.CaseOutOfHours, "0612345678", fakeCall{talk: talk}, tk, false,
				func(_ *Handler, l *Line) { l.SensitiveNotice = on })
			beeps = append(beeps, m.heardAt(audio.PromptBeep))
			saved, notice, bye := m.heardAt(audio.PromptSavedTicket), m.heardAt(audio.PromptSensitiveRequests), m.heardAt(audio.PromptGoodbye)
			if len(tk.got) != 1 || saved < 0 || bye < 0 {
				t.Fatalf("filed %+v, played %+v: want a ticket, its number and goodbye", tk.got, m.played)
			}
			switch {
			case on && (notice < saved || notice > bye):
				t.Errorf("notice on: played %+v, want the sensitive-requests rule between the ticket number and goodbye", m.played)
			case !on && notice >= 0:
				t.Errorf("notice off: played %+v, the rule was said", m.played)
			}
		})
	}
	if beeps[0] != beeps[1] || beeps[0] < 0 {
		t.Errorf("beep at %s with the notice, %s without: the notice must not move it", beeps[0], beeps[1])
	}
}

// fakeMail is the desk deciding whether a call is acknowledged by mail.
type fakeMail struct {
	mails bool
	asked []string // ticket numbers asked about
}

func (f *fakeMail) AcknowledgesCall(ctx context.Context, t astreinte.Ticket) bool {
	f.asked = append(f.asked, t.Number)
	return f.mails && ctx.Err() == nil
}

// TestSpaceLinkMailed: when the desk mails the call's acknowledgement
// with the customer space's link, the caller hears so after the ticket
// number and before goodbye; not when the desk does not, nor without a
// desk. The desk is asked about the ticket filed.
func TestSpaceLinkMailed(t *testing.T) {
	talk := func(at time.Duration) bool { return at >= 3*time.Second && at < 6*time.Second }
	for _, tc := range []struct {
		name string
		mail *fakeMail
		want bool
	}{
		{"the desk mails it", &fakeMail{mails: true}, true},
		{"the desk does not", &fakeMail{}, false},
		{"no desk", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tk := &fakeTickets{}
				m := runFlowWith(t, astreinte.CaseOutOfHours, "0612345678", fakeCall{talk: talk, keys: map[time.Duration]rune{}}, tk, false,
					func(h *Handler, _ *Line) {
						if tc.mail != nil {
							h.Mail = tc.mail
						}
					})
				saved, link, bye := m.heardAt(audio.PromptSavedTicket), m.heardAt(audio.PromptSpaceLinkMailed), m.heardAt(audio.PromptGoodbye)
				if saved < 0 || bye < 0 {
					t.Fatalf("played %+v: want the ticket number and goodbye", m.played)
				}
				switch {
				case tc.want && (link < saved || link > bye):
					t.Errorf("played %+v: want space_link_mailed between the ticket number and goodbye", m.played)
				case !tc.want && link >= 0:
					t.Errorf("played %+v: space_link_mailed said", m.played)
				}
				if tc.mail != nil && (len(tc.mail.asked) == 0 || tc.mail.asked[0] != "2026-000042") {
					t.Errorf("the desk was asked about %v, want the filed ticket 2026-000042", tc.mail.asked)
				}
			})
		})
	}
}
