package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// The work log, the customer's confirmation and quotes from the ticket
// page and the API, through the same tickets.Ledger calls as the CLI
// (worklog add, tickets confirm, quote set/accept/refuse). Confirming and
// quotes are for admins.

func init() {
	doneMessages["work"] = tr{"Temps enregistré.", "Time recorded."}
	doneMessages["confirm"] = tr{"Confirmation du client enregistrée.", "Customer's confirmation recorded."}
	doneMessages["quote"] = tr{"Devis proposé.", "Quote proposed."}
	doneMessages["quote-accept"] = tr{"Devis accepté.", "Quote accepted."}
	doneMessages["quote-refuse"] = tr{"Devis refusé.", "Quote refused."}
}

// workView is the work form, confirmation and quote of a ticket page.
type workView struct {
	Refused      bool // the last work logged was refused (past the threshold)
	ConfirmAbove int
	Confirmed    bool
	Quote        string // "" for none
	Proposed     bool   // the quote waits for the customer's answer
	CanSetQuote  bool   // no quote yet, or not accepted
}

func (s *Server) ledger() *tickets.Ledger {
	if s.Customers == nil {
		return nil
	}
	return s.Customers.Ledger
}

// workOf is the work part of t's page; nil when t has no contract or no
// ledger is configured.
func (s *Server) workOf(r *http.Request, lg lang.Tag, t astreinte.Ticket) *workView {
	l := s.ledger()
	if l == nil || t.Contract == "" {
		return nil
	}
	u, err := l.Usage(r.Context(), t)
	if err != nil {
		s.log().Error("web: ticket work", "ticket", t.Number, "error", err)
		return nil
	}
	v := &workView{Refused: r.URL.Query().Get("done") == "refused", ConfirmAbove: u.ConfirmAbove,
		Confirmed: !u.Confirmed.At.IsZero(), CanSetQuote: true}
	if q := u.Quote; q != nil {
		v.Quote = quoteWithState(lg, q)
		v.Proposed = q.State == store.QuoteProposed
		v.CanSetQuote = q.State != store.QuoteAccepted
	}
	return v
}

func (s *Server) workRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /tickets/{number}/work", s.page(s.workPost("work")))
	mux.HandleFunc("POST /tickets/{number}/confirm", s.page(s.workPost("confirm")))
	mux.HandleFunc("POST /tickets/{number}/quote", s.page(s.workPost("quote")))
	mux.HandleFunc("POST /tickets/{number}/quote/accept", s.page(s.workPost("quote-accept")))
	mux.HandleFunc("POST /tickets/{number}/quote/refuse", s.page(s.workPost("quote-refuse")))
	mux.HandleFunc("POST /api/tickets/{number}/work", s.api(s.workAPI("work")))
	mux.HandleFunc("POST /api/tickets/{number}/confirm", s.api(s.workAPI("confirm")))
	mux.HandleFunc("POST /api/tickets/{number}/quote", s.api(s.workAPI("quote")))
	mux.HandleFunc("POST /api/tickets/{number}/quote/accept", s.api(s.workAPI("quote-accept")))
	mux.HandleFunc("POST /api/tickets/{number}/quote/refuse", s.api(s.workAPI("quote-refuse")))
}

// workInput is what the forms and the API bodies carry.
type workInput struct {
	Duration string `json:"duration"`
	Note     string `json:"note"`
	Amount   string `json:"amount"` // euros before tax, "120.00"
	Hours    string `json:"hours"`  // a time priced at the contract's rate
	Flat     bool   `json:"flat"`
}

// doWork runs one work action on t as actor; admin says whether the user
// or token is an admin. It returns an actionError for what the user did
// wrong (400, 403, 404, 409).
func (s *Server) doWork(r *http.Request, t astreinte.Ticket, action, actor string, admin bool, in workInput) error {
	l := s.ledger()
	if l == nil {
		return actionError{http.StatusNotFound, tr{"pas de suivi du temps", "no work log: customers are not configured"}}
	}
	if action != "work" && !admin {
		return actionError{http.StatusForbidden, tr{"réservé aux administrateurs", "admins only"}}
	}
	ctx := r.Context()
	var err error
	switch action {
	case "work":
		d, perr := tickets.ParseWork(in.Duration)
		if perr != nil {
			return actionError{http.StatusBadRequest, tr{fmt.Sprintf("durée %q : écrivez 30m, 1h15, 1:15 ou un nombre de minutes", in.Duration),
				perr.Error()}}
		}
		_, err = l.AddWork(ctx, t, d, actor, strings.TrimSpace(in.Note))
		if errors.Is(err, tickets.ErrNeedsConfirmation) {
			return actionError{http.StatusConflict, tr{"refusé : la confirmation du client est nécessaire", "refused: " + err.Error()}}
		}
		if err != nil && strings.HasPrefix(err.Error(), "work:") {
			return plainError(http.StatusBadRequest, err)
		}
	case "confirm":
		err = l.Confirm(ctx, t, actor, strings.TrimSpace(in.Note))
	case "quote":
		if (strings.TrimSpace(in.Amount) == "") == (strings.TrimSpace(in.Hours) == "") {
			return actionError{http.StatusBadRequest, tr{"indiquez un montant ou une durée", "give an amount or hours"}}
		}
		var cents int64
		var d time.Duration
		if a := strings.TrimSpace(in.Amount); a != "" {
			if cents, err = billing.ParseCents(a); err != nil || cents <= 0 {
				return actionError{http.StatusBadRequest, tr{fmt.Sprintf("montant %q : des euros au-dessus de 0, ex. 120,00", a),
					fmt.Sprintf("amount %q: want euros above 0, e.g. 120.00", a)}}
			}
		} else if d, err = tickets.ParseWork(in.Hours); err != nil {
			return plainError(http.StatusBadRequest, err)
		}
		err = l.SetQuote(ctx, t, cents, d, in.Flat, actor)
		if errors.Is(err, store.ErrQuoteAccepted) {
			return actionError{http.StatusConflict, tr{"devis déjà accepté", "the quote was accepted: it cannot change"}}
		}
		if err != nil && strings.HasPrefix(err.Error(), "quote:") {
			return plainError(http.StatusBadRequest, err)
		}
	case "quote-accept", "quote-refuse":
		err = l.DecideQuote(ctx, t, action == "quote-accept", actor)
		if errors.Is(err, astreinte.ErrNotFound) {
			return actionError{http.StatusConflict, tr{"pas de devis en attente", "no proposed quote"}}
		}
	}
	if err != nil {
		return err
	}
	s.log().Info("ticket work changed from the web", "ticket", t.Number, "actor", actor, "action", action)
	return nil
}

// workPost handles a form of the ticket page and goes back to the page.
func (s *Server) workPost(action string) func(http.ResponseWriter, *http.Request, *who) {
	return func(w http.ResponseWriter, r *http.Request, u *who) {
		t, ok := s.ticketByNumber(w, r)
		if !ok {
			return
		}
		f := r.PostForm
		in := workInput{Duration: f.Get("duration"), Note: f.Get("note"), Amount: f.Get("amount"),
			Hours: f.Get("hours"), Flat: f.Get("flat") != ""}
		err := s.doWork(r, t, action, u.User.Actor(), u.Admin(), in)
		var ae actionError
		if errors.As(err, &ae) && ae.status == http.StatusConflict && action == "work" {
			http.Redirect(w, r, "/tickets/"+t.Number+"?done=refused", http.StatusSeeOther)
			return
		}
		if s.pageFailed(w, u, err, "web: ticket work", "ticket", t.Number, "action", action, "error", err) {
			return
		}
		http.Redirect(w, r, "/tickets/"+t.Number+"?done="+action, http.StatusSeeOther)
	}
}

// workAPI handles the API's work endpoints: the answer is the ticket's
// usage after the change.
func (s *Server) workAPI(action string) func(http.ResponseWriter, *http.Request, accounts.Token) {
	return func(w http.ResponseWriter, r *http.Request, tok accounts.Token) {
		t, ok := s.apiTicketByNumber(w, r)
		if !ok {
			return
		}
		var in workInput
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				apiFail(w, http.StatusBadRequest, "body: "+err.Error())
				return
			}
		}
		err := s.doWork(r, t, action, tokenActor(tok), tok.Role == accounts.Admin, in)
		if s.apiFailed(w, err, "api: work", "ticket", t.Number, "action", action, "error", err) {
			return
		}
		u, err := s.ledger().Usage(r.Context(), t)
		if err != nil {
			s.log().Error("api: usage", "ticket", t.Number, "error", err)
			apiFail(w, http.StatusInternalServerError, "server error")
			return
		}
		out := usageJSON{Result: action, Ticket: t.Number, TotalMinutes: int64(u.Total / time.Minute), Units: u.Units,
			UnitMinutes: int64(u.Unit / time.Minute), ConfirmAbove: u.ConfirmAbove, Confirmed: !u.Confirmed.At.IsZero()}
		if q := u.Quote; q != nil {
			out.Quote = &quoteJSON{AmountHT: q.AmountHT, Minutes: int64(q.Duration / time.Minute), Flat: q.Flat, State: q.State,
				Text: tickets.QuoteText(lang.EN, q.AmountHT, q.Duration, q.Flat)}
		}
		writeAPI(w, http.StatusOK, out)
	}
}

type usageJSON struct {
	Result       string     `json:"result"`
	Ticket       string     `json:"ticket"`
	TotalMinutes int64      `json:"total_minutes"`
	Units        int64      `json:"units"`
	UnitMinutes  int64      `json:"unit_minutes"`
	ConfirmAbove int        `json:"confirm_above"`
	Confirmed    bool       `json:"confirmed"`
	Quote        *quoteJSON `json:"quote,omitempty"`
}

type quoteJSON struct {
	AmountHT int64  `json:"amount_ht_cents"`
	Minutes  int64  `json:"minutes"`
	Flat     bool   `json:"flat"`
	State    string `json:"state"`
	Text     string `json:"text"`
}

var quoteStates = map[string]tr{
	store.QuoteProposed: {"proposé", "proposed"}, store.QuoteAccepted: {"accepté", "accepted"},
	store.QuoteRefused: {"refusé", "refused"},
}

// quoteWithState writes a quote and where it stands, in l: "au plus
// 120,00 € HT (proposé)".
func quoteWithState(l lang.Tag, q *store.Quote) string {
	st := q.State
	if w, ok := quoteStates[q.State]; ok {
		st = w.In(l)
	}
	return tickets.QuoteText(l, q.AmountHT, q.Duration, q.Flat) + " (" + st + ")"
}
