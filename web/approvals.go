package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/approvals"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// What a technician asks of the customer before the work, from the ticket
// page and the API: a quote (an amount or a time, and what it covers) and
// the confirmation of an intervention that may go past the contract's
// threshold. Both go through approvals.Service, which mails the customer's
// contacts a link to the customer space, where they answer; the ticket
// page shows what waits and who answered what, and when.

func init() {
	doneMessages["asked-quote"] = tr{"Devis proposé : le client est prévenu par e-mail.", "Quote proposed: the customer was emailed."}
	doneMessages["asked-confirmation"] = tr{"Confirmation demandée : le client est prévenu par e-mail.", "Confirmation asked: the customer was emailed."}
	doneMessages["asked-unsent"] = tr{"Demande enregistrée, mais le client n'a pas pu être prévenu par e-mail : il la verra dans son espace.",
		"Recorded, but the customer could not be emailed: they will see it in their space."}
	doneMessages["appointment-cancelled"] = tr{"Rendez-vous annulé : le client est prévenu par e-mail.", "Appointment cancelled: the customer was emailed."}
}

func both(f func(l lang.Tag) string) tr { return tr{f(lang.FR), f(lang.EN)} }

// askView is one ask of the customer on the ticket page.
type askView struct {
	What    tr
	State   string // store.QuoteProposed/Accepted/Refused or store.ConfirmationAsked/Confirmed/Refused
	Pending bool
	Answer  tr // "accepted by x at …", "" while pending
	Asked   tr // "asked by x at …"
}

// approvalsView is the "asked of the customer" part of a ticket page.
type approvalsView struct {
	Quote        *askView
	Confirmation *askView
	CanQuote     bool // no quote yet, or not accepted
	CanConfirm   bool // no confirmation given yet
	ConfirmAbove int  // the contract's threshold, in units (0: none)
	Appointment  *apptView
}

// apptView is the ticket's appointment, linked to the day's page.
type apptView struct {
	When tr
	Day  string // 2026-12-07
	Kind string
}

// approvalsOf is t's asks part; nil when approvals are not configured or
// t has no customer to ask.
func (s *Server) approvalsOf(r *http.Request, t astreinte.Ticket) *approvalsView {
	if s.Approvals == nil || t.Customer == "" {
		return nil
	}
	ctx := r.Context()
	p, err := s.Approvals.Of(ctx, t.ID)
	if err != nil {
		s.log().Error("web: ticket asks", "ticket", t.Number, "error", err)
		return nil
	}
	v := &approvalsView{CanQuote: true, CanConfirm: true}
	if q := p.Quote; q != nil {
		v.Quote = s.quoteAsk(*q)
		v.CanQuote = q.State != store.QuoteAccepted
	}
	if c := p.Confirmation; c != nil {
		v.Confirmation = s.confirmationAsk(*c)
		v.CanConfirm = c.State != store.ConfirmationConfirmed
	}
	if l := s.ledger(); l != nil {
		if u, err := l.Usage(ctx, t); err == nil {
			v.ConfirmAbove = u.ConfirmAbove
			if !u.Confirmed.At.IsZero() {
				v.CanConfirm = false
			}
		}
	}
	if s.Appointments != nil {
		if a, err := s.Appointments.OfTicket(ctx, t); err == nil {
			at := a.Start.In(s.loc())
			v.Appointment = &apptView{When: both(func(l lang.Tag) string { return l.DateTime(at) }), Day: at.Format(time.DateOnly),
				Kind: a.Kind}
		} else if !errors.Is(err, astreinte.ErrNotFound) {
			s.log().Error("web: ticket appointment", "ticket", t.Number, "error", err)
		}
	}
	return v
}

// answered writes who did what and when: "accepté par x le …".
func (s *Server) answered(frVerb, enVerb, by string, at time.Time) tr {
	at = at.In(s.loc())
	return tr{fmt.Sprintf("%s par %s le %s", frVerb, by, lang.FR.DateTime(at)),
		fmt.Sprintf("%s by %s on %s", enVerb, by, lang.EN.DateTime(at))}
}

func (s *Server) quoteAsk(q store.Quote) *askView {
	v := &askView{State: q.State, Pending: q.State == store.QuoteProposed,
		What:  both(func(l lang.Tag) string { return approvals.QuoteWords(l, q) }),
		Asked: s.answered("proposé", "proposed", q.SetBy, q.SetAt)}
	if q.Description != "" {
		v.What.FR += " — " + q.Description
		v.What.EN += " — " + q.Description
	}
	switch q.State {
	case store.QuoteAccepted:
		v.Answer = s.answered("accepté", "accepted", q.DecidedBy, q.DecidedAt)
	case store.QuoteRefused:
		v.Answer = s.answered("refusé", "refused", q.DecidedBy, q.DecidedAt)
	}
	return v
}

func (s *Server) confirmationAsk(c store.ConfirmationRequest) *askView {
	v := &askView{State: c.State, Pending: c.State == store.ConfirmationAsked,
		What: tr{fmt.Sprintf("jusqu'à %d unité(s) — %s", c.Units, c.Description),
			fmt.Sprintf("up to %d unit(s) — %s", c.Units, c.Description)},
		Asked: s.answered("demandée", "asked", c.AskedBy, c.AskedAt)}
	switch c.State {
	case store.ConfirmationConfirmed:
		v.Answer = s.answered("confirmée", "confirmed", c.DecidedBy, c.DecidedAt)
	case store.ConfirmationRefused:
		v.Answer = s.answered("refusée", "refused", c.DecidedBy, c.DecidedAt)
	}
	return v
}

func (s *Server) approvalRoutes(mux *http.ServeMux) {
	if s.Approvals == nil {
		return
	}
	mux.HandleFunc("POST /tickets/{number}/quotes", s.page(s.askPost(askQuote)))
	mux.HandleFunc("POST /tickets/{number}/confirmations", s.page(s.askPost(askConfirmation)))
	mux.HandleFunc("POST /api/tickets/{number}/quotes", s.api(s.askAPI(askQuote)))
	mux.HandleFunc("POST /api/tickets/{number}/confirmations", s.api(s.askAPI(askConfirmation)))
}

// askKind is what is asked of the customer.
type askKind int

const (
	askQuote askKind = iota
	askConfirmation
)

// askInput is what the forms and the API bodies carry.
type askInput struct {
	Amount      string `json:"amount"` // euros before tax, "120.00"
	Hours       string `json:"hours"`  // or a time priced at the contract's rate, "2h"
	Flat        bool   `json:"flat"`
	Description string `json:"description"`
	Units       int64  `json:"units"`
	Note        string `json:"note"`
}

// doAsk asks the customer; mailed is false when the ask is recorded but
// the customer could not be emailed. An actionError says what the user
// can fix.
func (s *Server) doAsk(ctx context.Context, t astreinte.Ticket, kind askKind, actor string, in askInput) (mailed bool, err error) {
	switch kind {
	case askQuote:
		q := store.Quote{Flat: in.Flat, Description: strings.TrimSpace(in.Description), SetBy: actor}
		amount, hours := strings.TrimSpace(in.Amount), strings.TrimSpace(in.Hours)
		if (amount == "") == (hours == "") {
			return false, actionError{http.StatusBadRequest, tr{"indiquez un montant ou une durée", "give an amount or hours"}}
		}
		if amount != "" {
			if q.AmountHT, err = billing.ParseCents(amount); err != nil || q.AmountHT <= 0 {
				return false, actionError{http.StatusBadRequest, tr{fmt.Sprintf("montant %q : des euros au-dessus de 0, ex. 120,00", amount),
					fmt.Sprintf("amount %q: want euros above 0, e.g. 120.00", amount)}}
			}
		} else if q.Duration, err = tickets.ParseWork(hours); err != nil {
			return false, plainError(http.StatusBadRequest, err)
		}
		err = s.Approvals.ProposeQuote(ctx, t, q)
	case askConfirmation:
		err = s.Approvals.AskConfirmation(ctx, t, in.Units, in.Note, actor)
	}
	switch {
	case err == nil:
		s.log().Info("customer asked from the web", "ticket", t.Number, "actor", actor, "kind", kind)
		return true, nil
	case errors.Is(err, approvals.ErrNotSent):
		s.log().Warn("customer asked from the web but not mailed", "ticket", t.Number, "actor", actor, "kind", kind, "error", err)
		return false, nil
	case errors.Is(err, approvals.ErrNoCustomer):
		return false, actionError{http.StatusConflict, tr{"le ticket n'a pas de client à qui demander", "the ticket has no customer to ask"}}
	case errors.Is(err, approvals.ErrBadConfirmation):
		return false, actionError{http.StatusBadRequest, tr{"indiquez les unités et l'intervention", "give the units (above 0) and what the intervention is"}}
	case errors.Is(err, store.ErrQuoteAccepted):
		return false, actionError{http.StatusConflict, tr{"devis déjà accepté", "the quote was accepted: it cannot change"}}
	case errors.Is(err, store.ErrAlreadyConfirmed):
		return false, actionError{http.StatusConflict, tr{"le client a déjà confirmé", "the customer already confirmed this intervention"}}
	case strings.HasPrefix(err.Error(), "quote:"):
		return false, plainError(http.StatusBadRequest, err)
	}
	return false, err
}

func (s *Server) askPost(kind askKind) func(http.ResponseWriter, *http.Request, *who) {
	return func(w http.ResponseWriter, r *http.Request, u *who) {
		t, ok := s.ticketByNumber(w, r)
		if !ok {
			return
		}
		f := r.PostForm
		in := askInput{Amount: f.Get("amount"), Hours: f.Get("hours"), Flat: f.Get("flat") != "",
			Description: f.Get("description"), Note: f.Get("note")}
		if units := strings.TrimSpace(f.Get("units")); units != "" {
			if _, err := fmt.Sscan(units, &in.Units); err != nil {
				http.Error(w, u.L.Pick("unités : un nombre entier", "units: want a whole number"), http.StatusBadRequest)
				return
			}
		}
		mailed, err := s.doAsk(r.Context(), t, kind, u.User.Actor(), in)
		if s.pageFailed(w, u, err, "web: ask the customer", "ticket", t.Number, "error", err) {
			return
		}
		done := "asked-quote"
		if kind == askConfirmation {
			done = "asked-confirmation"
		}
		if !mailed {
			done = "asked-unsent"
		}
		http.Redirect(w, r, "/tickets/"+t.Number+"?done="+done+"#asks", http.StatusSeeOther)
	}
}

// askJSON is a quote or confirmation asked of the customer, in the API.
type askJSON struct {
	State       string     `json:"state"` // proposed|accepted|refused for a quote, asked|confirmed|refused for a confirmation
	AmountHT    int64      `json:"amount_ht_cents,omitempty"`
	Minutes     int64      `json:"minutes,omitempty"`
	Flat        bool       `json:"flat,omitempty"`
	Units       int64      `json:"units,omitempty"`
	Description string     `json:"description,omitempty"`
	Text        string     `json:"text"`
	AskedBy     string     `json:"asked_by"`
	AskedAt     time.Time  `json:"asked_at"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
}

// approvalsJSON is what a ticket asks of its customer, in the API.
type approvalsJSON struct {
	Quote        *askJSON `json:"quote,omitempty"`
	Confirmation *askJSON `json:"confirmation,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func approvalsToJSON(p approvals.Pending) *approvalsJSON {
	if p.Quote == nil && p.Confirmation == nil {
		return nil
	}
	j := &approvalsJSON{}
	if q := p.Quote; q != nil {
		j.Quote = &askJSON{State: q.State, AmountHT: q.AmountHT, Minutes: int64(q.Duration / time.Minute), Flat: q.Flat,
			Description: q.Description, Text: approvals.QuoteWords(lang.EN, *q), AskedBy: q.SetBy, AskedAt: q.SetAt.UTC(),
			DecidedBy: q.DecidedBy, DecidedAt: optTime(q.DecidedAt)}
	}
	if c := p.Confirmation; c != nil {
		j.Confirmation = &askJSON{State: c.State, Units: c.Units, Description: c.Description,
			Text: fmt.Sprintf("up to %d unit(s)", c.Units), AskedBy: c.AskedBy, AskedAt: c.AskedAt.UTC(),
			DecidedBy: c.DecidedBy, DecidedAt: optTime(c.DecidedAt)}
	}
	return j
}

// ticketAsksJSON is a ticket in the API with what it asks of its customer
// and its appointment.
type ticketAsksJSON struct {
	tickets.JSON
	Approvals   *approvalsJSON   `json:"approvals,omitempty"`
	Appointment *appointmentJSON `json:"appointment,omitempty"`
}

// withAsks adds t's asks and appointment to j (as they are; nothing when
// they are not configured).
func (s *Server) withAsks(ctx context.Context, t astreinte.Ticket, j tickets.JSON) any {
	out := ticketAsksJSON{JSON: j}
	if s.Approvals != nil {
		p, err := s.Approvals.Of(ctx, t.ID)
		if err != nil {
			s.log().Error("api: ticket asks", "ticket", t.Number, "error", err)
		}
		out.Approvals = approvalsToJSON(p)
	}
	if s.Appointments != nil {
		if a, err := s.Appointments.OfTicket(ctx, t); err == nil {
			aj := s.appointmentToJSON(a)
			out.Appointment = &aj
		}
	}
	return out
}

// askResultJSON is the API's answer to an ask.
type askResultJSON struct {
	Ticket    string         `json:"ticket"`
	Mailed    bool           `json:"mailed"` // false: recorded, but the customer could not be emailed
	Approvals *approvalsJSON `json:"approvals"`
}

func (s *Server) askAPI(kind askKind) func(http.ResponseWriter, *http.Request, accounts.Token) {
	return func(w http.ResponseWriter, r *http.Request, tok accounts.Token) {
		t, ok := s.apiTicketByNumber(w, r)
		if !ok {
			return
		}
		var in askInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			want := `{"amount": "120.00", "description": "…"} or {"hours": "2h", …}`
			if kind == askConfirmation {
				want = `{"units": 3, "note": "…"}`
			}
			apiFail(w, http.StatusBadRequest, "body: want "+want+": "+err.Error())
			return
		}
		mailed, err := s.doAsk(r.Context(), t, kind, tokenActor(tok), in)
		if s.apiFailed(w, err, "api: ask the customer", "ticket", t.Number, "error", err) {
			return
		}
		p, err := s.Approvals.Of(r.Context(), t.ID)
		if err != nil {
			s.log().Error("api: ticket asks", "ticket", t.Number, "error", err)
			apiFail(w, http.StatusInternalServerError, "server error")
			return
		}
		writeAPI(w, http.StatusCreated, askResultJSON{Ticket: t.Number, Mailed: mailed, Approvals: approvalsToJSON(p)})
	}
}

func (k askKind) String() string {
	if k == askConfirmation {
		return "confirmation"
	}
	return "quote"
}
