package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/tickets"
)

// CustomerStore is what the customer pages read of the store (store.DB).
type CustomerStore interface {
	Customers(ctx context.Context) ([]customers.Customer, error)
	CustomerByNumber(ctx context.Context, number string) (customers.Customer, error)
	// TicketsOfCustomer lists a customer's tickets, oldest first.
	TicketsOfCustomer(ctx context.Context, number string) ([]astreinte.Ticket, error)
}

// CustomerPages is what the customer pages, the customer side of the
// ticket page and the customer API need: the customers, the configured
// contracts and the ledger (time spent, statements). Pricing is the
// ledger's: the pages only show it.
type CustomerPages struct {
	Store     CustomerStore
	Contracts map[string]customers.Contract
	Ledger    *tickets.Ledger
}

// recentTickets is how many of a customer's tickets its page lists.
const recentTickets = 20

func (s *Server) customerRoutes(mux HandleMux) {
	mux.HandleFunc("GET /customers", s.page(s.customersPage))
	mux.HandleFunc("GET /customers/{number}", s.page(s.customerPage))
	mux.HandleFunc("GET /customers/{number}/statement", s.page(s.statementPage))
	mux.HandleFunc("GET /api/customers", s.api(s.apiCustomers))
	mux.HandleFunc("GET /api/customers/{number}", s.api(s.apiCustomer))
	mux.HandleFunc("GET /api/customers/{number}/statement", s.api(s.apiStatement))
}

// HandleMux is the part of http.ServeMux the routes use.
type HandleMux interface {
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
}

// foldAccents lowers s and drops the accents of Latin letters, so that
// "heberge" finds "Hébergé".
var foldAccents = strings.NewReplacer("à", "a", "â", "a", "ä", "a", "á", "a", "ç", "c", "é", "e", "è", "e", "ê", "e",
	"ë", "e", "î", "i", "ï", "i", "í", "i", "ô", "o", "ö", "o", "ó", "o", "ù", "u", "û", "u", "ü", "u", "ú", "u",
	"ÿ", "y", "ñ", "n", "œ", "oe", "æ", "ae")

func fold(s string) string { return foldAccents.Replace(strings.ToLower(s)) }

// searchCustomers keeps the customers whose number or name contains q
// (any case, any accents) or one of whose phone numbers contains q's
// digits (a national number "06 12 34 56 78" finds "+33612345678").
func searchCustomers(cs []customers.Customer, q string) []customers.Customer {
	q = fold(strings.TrimSpace(q))
	if q == "" {
		return cs
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	national := strings.TrimLeft(digits, "0")
	var out []customers.Customer
	for _, c := range cs {
		match := strings.Contains(fold(c.Number), q) || strings.Contains(fold(c.Name), q)
		for _, p := range c.Phones {
			if match || len(national) < 3 {
				break
			}
			match = strings.Contains(p, national)
		}
		if match {
			out = append(out, c)
		}
	}
	return out
}

// contractView is a contract's main terms, in words, French and English.
type contractView struct {
	Name, Label   string
	Known         bool // false: the customer names a contract the configuration lacks
	OnCall        bool
	Billing       []string
	Due           []string
	Warranty      string
	ConfirmAbove  int
	QuoteCap      bool
	QuoteRequired bool
	UnitsMode     bool
	UnitText      string
	RateText      string
	VATText       string
}

func (cp *CustomerPages) contract(l lang.Tag, name string) *contractView {
	if name == "" {
		return nil
	}
	c, ok := cp.Contracts[name]
	if !ok {
		return &contractView{Name: name}
	}
	v := &contractView{Name: name, Label: c.Label, Known: true, OnCall: c.OnCall, ConfirmAbove: c.ConfirmAbove,
		QuoteCap: c.Billing.QuoteCap, QuoteRequired: c.Billing.QuoteRequired, UnitsMode: c.Billing.Mode == billing.Units,
		UnitText: l.Duration(c.Billing.Unit), RateText: l.Money(c.Billing.Rate), VATText: percent(l, c.Billing.VAT)}
	if c.Billing.Mode == billing.Units {
		v.Billing = append(v.Billing, l.Pick(fmt.Sprintf("unités de %s, chaque unité entamée due, %s HT l'unité, TVA %s",
			v.UnitText, v.RateText, v.VATText), fmt.Sprintf("units of %s, each started unit due, %s before tax each, VAT %s",
			v.UnitText, v.RateText, v.VATText)))
	} else {
		v.Billing = append(v.Billing, l.Pick(fmt.Sprintf("%s HT de l'heure, par tranche de %s entamée, TVA %s",
			v.RateText, v.UnitText, v.VATText), fmt.Sprintf("%s an hour before tax, every started %s due, VAT %s",
			v.RateText, v.UnitText, v.VATText)))
	}
	if c.Billing.QuoteCap {
		v.Billing = append(v.Billing, l.Pick("jamais plus que le devis accepté", "never more than the accepted quote"))
	}
	if c.Billing.QuoteRequired {
		v.Billing = append(v.Billing, l.Pick("seul le travail sur devis accepté est facturé", "only work under an accepted quote is billed"))
	}
	for _, ch := range []astreinte.Channel{astreinte.ChannelPhone, astreinte.ChannelEmail} {
		if n, ok := c.Due[ch]; ok {
			name := map[astreinte.Channel]tr{astreinte.ChannelPhone: {"téléphone", "phone"}, astreinte.ChannelEmail: {"e-mail", "email"}}[ch]
			v.Due = append(v.Due, l.Pick(fmt.Sprintf("%s : %d jours ouvrés", name.FR, n), fmt.Sprintf("%s: %d business days", name.EN, n)))
		}
	}
	if c.Warranty > 0 {
		v.Warranty = l.Duration(c.Warranty)
	}
	return v
}

// percent writes a rate in hundredths of a percent as l does: 1960 is
// "19,60 %" / "19.60 %".
func percent(l lang.Tag, hundredths int64) string {
	p := billing.FormatCents(hundredths)
	if l == lang.FR {
		p = strings.Replace(p, ".", ",", 1)
	}
	return p + "\u00a0%"
}

// customerByNumber loads the customer named in the path; it answers 404
// (or 500) itself through fail.
func (s *Server) customerByNumber(r *http.Request, fail func(status int, msg tr)) (customers.Customer, bool) {
	if s.Customers == nil {
		fail(http.StatusNotFound, tr{"clients non configurés", "customers are not configured"})
		return customers.Customer{}, false
	}
	n := r.PathValue("number")
	c, err := s.Customers.Store.CustomerByNumber(r.Context(), n)
	if errors.Is(err, astreinte.ErrNotFound) {
		fail(http.StatusNotFound, tr{"client inconnu : " + n, "no customer " + n})
		return c, false
	}
	if err != nil {
		s.log().Error("web: customer", "number", n, "error", err)
		fail(http.StatusInternalServerError, tr{"Erreur du serveur.", "server error"})
		return c, false
	}
	return c, true
}

type customersData struct {
	Query string
	Rows  []customerRow
}

type customerRow struct {
	C        customers.Customer
	Contract *contractView
}

func (s *Server) customersPage(w http.ResponseWriter, r *http.Request, u *who) {
	d := customersData{Query: r.URL.Query().Get("q")}
	if s.Customers != nil {
		cs, err := s.Customers.Store.Customers(r.Context())
		if err != nil {
			s.pageError(w, u, http.StatusInternalServerError, err)
			return
		}
		for _, c := range searchCustomers(cs, d.Query) {
			d.Rows = append(d.Rows, customerRow{C: c, Contract: s.Customers.contract(u.L, c.Contract)})
		}
	}
	s.renderPage(w, http.StatusOK, "customers", &view{Title: u.L.Pick("Clients", "Customers"), Nav: "customers", User: u, Data: d})
}

type customerData struct {
	C         customers.Customer
	Contract  *contractView
	Tickets   []ticketRow
	More      int // tickets not listed
	Admin     bool
	ThisMonth string
}

func (s *Server) customerPage(w http.ResponseWriter, r *http.Request, u *who) {
	c, ok := s.customerByNumber(r, func(st int, msg tr) { http.Error(w, msg.In(u.L), st) })
	if !ok {
		return
	}
	ts, err := s.Customers.Store.TicketsOfCustomer(r.Context(), c.Number)
	if err != nil {
		s.pageError(w, u, http.StatusInternalServerError, err)
		return
	}
	now := s.now()
	d := customerData{C: c, Contract: s.Customers.contract(u.L, c.Contract), Admin: u.Admin(),
		ThisMonth: now.In(s.loc()).Format("2006-01")}
	slices.Reverse(ts)
	if len(ts) > recentTickets {
		d.More, ts = len(ts)-recentTickets, ts[:recentTickets]
	}
	for _, t := range ts {
		d.Tickets = append(d.Tickets, s.listRow(u.L, t, now))
	}
	s.renderPage(w, http.StatusOK, "customer", &view{Title: u.L.Pick("Client ", "Customer ") + c.Number, Nav: "customers", User: u, Data: d})
}

// ticketCustomer is the customer side of a ticket's page.
type ticketCustomer struct {
	Shown      bool // customers are configured, or the ticket names one
	Number     string
	Name       string
	Known      bool // the customer is still in the database
	Contract   *contractView
	Unverified bool
	Rule       string
	Usage      *usageView
}

// usageView is a ticket's time spent, as the ledger counts it.
type usageView struct {
	Total        string
	Units        int64
	Unit         string
	UnitsMode    bool
	ConfirmAbove int
	Confirmed    string
	Quote        string
}

// ticketCustomer gathers the customer, contract, rule and time spent
// shown on a ticket's page; errors are logged, the page still shows.
func (s *Server) ticketCustomer(ctx context.Context, l lang.Tag, t astreinte.Ticket) ticketCustomer {
	tc := ticketCustomer{Unverified: t.Unverified, Rule: astreinte.UnverifiedRule, Number: t.Customer,
		Shown: s.Customers != nil || t.Customer != ""}
	cp := s.Customers
	if cp == nil {
		return tc
	}
	if t.Customer != "" {
		c, err := cp.Store.CustomerByNumber(ctx, t.Customer)
		if err == nil {
			tc.Known, tc.Name = true, c.Name
		} else if !errors.Is(err, astreinte.ErrNotFound) {
			s.log().Error("web: ticket customer", "ticket", t.Number, "error", err)
		}
	}
	tc.Contract = cp.contract(l, t.Contract)
	if cp.Ledger == nil {
		return tc
	}
	u, err := cp.Ledger.Usage(ctx, t)
	if err != nil {
		s.log().Error("web: ticket usage", "ticket", t.Number, "error", err)
		return tc
	}
	if u.Total <= 0 && u.Quote == nil {
		return tc
	}
	uv := &usageView{Total: l.Duration(u.Total), Units: u.Units, Unit: l.Duration(u.Unit), UnitsMode: u.Mode == billing.Units,
		ConfirmAbove: u.ConfirmAbove}
	if u.Mode == "" {
		uv.Unit = ""
	}
	if !u.Confirmed.At.IsZero() {
		uv.Confirmed = s.long(l, u.Confirmed.At) + " — " + u.Confirmed.By
	}
	if q := u.Quote; q != nil {
		uv.Quote = quoteWithState(l, q)
	}
	tc.Usage = uv
	return tc
}

// statementMonth reads ?month=2026-12 in the calendar's zone (default:
// this month) and returns [from, to).
func (s *Server) statementMonth(r *http.Request) (from, to time.Time, err error) {
	loc := s.loc()
	if m := r.URL.Query().Get("month"); m != "" {
		from, err = time.ParseInLocation("2006-01", m, loc)
		if err != nil {
			return from, to, actionError{http.StatusBadRequest, tr{fmt.Sprintf("mois %q : AAAA-MM, ex. 2026-12", m),
				fmt.Sprintf("month %q: want YYYY-MM, e.g. 2026-12", m)}}
		}
	} else {
		now := s.now().In(loc)
		from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	}
	return from, from.AddDate(0, 1, 0), nil
}

type statementRow struct {
	Number, Contract  string
	Worked, Billed    string
	HT, VAT, TTC      string // as the reader writes money
	HTc, VATc, TTCc   int64  // the same in cents, for scripts and tests
	Notes             []string
	Unbillable        bool
	UnitsMode, Capped bool
}

type statementData struct {
	C                 customers.Customer
	Month, Prev, Next string
	MonthName         string // "décembre 2026"
	Rows              []statementRow
	Worked, Warranty  string
	HT, VAT, TTC      string
	HTc, VATc, TTCc   int64
	HasWarranty       bool
}

// statementNotes says, in l, what the ledger applied to a line: cap,
// fixed price, free support, warranty, why unpriced.
func statementNotes(l lang.Tag, ln tickets.StatementLine) []string {
	var n []string
	if ln.Capped {
		n = append(n, l.Pick("plafonné au devis accepté", "capped by the accepted quote"))
	}
	if ln.Flat {
		n = append(n, l.Pick("forfait (devis accepté)", "fixed price (accepted quote)"))
	}
	if ln.Free {
		n = append(n, l.Pick("support gratuit (pas de devis accepté)", "free support (no accepted quote)"))
	}
	if ln.Warranty > 0 {
		n = append(n, l.Pick("%s sous garantie, non facturé", "%s under warranty, not billed"))
		n[len(n)-1] = fmt.Sprintf(n[len(n)-1], l.Duration(ln.Warranty))
	}
	if ln.Unbillable != "" {
		n = append(n, unbillableWords(l, ln))
	}
	return n
}

// unbillableWords says in l why ln is not priced: waived (with the
// reason given), or its contract missing from the configuration.
func unbillableWords(l lang.Tag, ln tickets.StatementLine) string {
	if ln.Waived != "" {
		return l.Pick("non facturé : ", "waived: ") + ln.Waived
	}
	return l.Pick(fmt.Sprintf("non tarifé : le contrat %q n'est pas dans la configuration", ln.Ticket.Contract),
		fmt.Sprintf("not priced: contract %q is not in the configuration", ln.Ticket.Contract))
}

// billed writes a line's billed quantity: "2 × 30 min" or "-".
func billed(l lang.Tag, ln tickets.StatementLine) string {
	if ln.Unbillable != "" {
		return "-"
	}
	return fmt.Sprintf("%d × %s", ln.Units, l.Duration(ln.Contract.Billing.Unit))
}

// statement loads the customer and its statement for the month asked. A
// customer removed since has a statement still when its tickets have work
// in the month (as `astreinte statement` does).
func (s *Server) statement(r *http.Request, fail func(int, tr)) (customers.Customer, tickets.Statement, bool) {
	n := r.PathValue("number")
	if s.Customers == nil {
		fail(http.StatusNotFound, tr{"clients non configurés", "customers are not configured"})
		return customers.Customer{}, tickets.Statement{}, false
	}
	c, err := s.Customers.Store.CustomerByNumber(r.Context(), n)
	gone := errors.Is(err, astreinte.ErrNotFound)
	if err != nil && !gone {
		s.log().Error("web: customer", "number", n, "error", err)
		fail(http.StatusInternalServerError, tr{"Erreur du serveur.", "server error"})
		return c, tickets.Statement{}, false
	}
	if gone {
		c = customers.Customer{Number: n}
	}
	if s.Customers.Ledger == nil {
		fail(http.StatusNotFound, tr{"facturation non configurée", "billing is not configured"})
		return c, tickets.Statement{}, false
	}
	from, to, err := s.statementMonth(r)
	if err != nil {
		var ae actionError
		errors.As(err, &ae)
		fail(http.StatusBadRequest, ae.msg)
		return c, tickets.Statement{}, false
	}
	st, err := s.Customers.Ledger.Statement(r.Context(), c.Number, from, to)
	if err != nil {
		s.log().Error("web: statement", "customer", c.Number, "error", err)
		fail(http.StatusInternalServerError, tr{"Erreur du serveur.", "server error"})
		return c, st, false
	}
	if gone && len(st.Lines) == 0 {
		fail(http.StatusNotFound, tr{"client inconnu : " + n, "no customer " + n})
		return c, st, false
	}
	return c, st, true
}

func (s *Server) statementPage(w http.ResponseWriter, r *http.Request, u *who) {
	if !u.Admin() {
		http.Error(w, u.L.Pick("réservé aux administrateurs", "admins only"), http.StatusForbidden)
		return
	}
	c, st, ok := s.statement(r, func(status int, msg tr) { http.Error(w, msg.In(u.L), status) })
	if !ok {
		return
	}
	from := st.From.In(s.loc())
	l := u.L
	d := statementData{C: c, Month: from.Format("2006-01"), Prev: from.AddDate(0, -1, 0).Format("2006-01"),
		Next: from.AddDate(0, 1, 0).Format("2006-01"), MonthName: l.Month(from), Worked: l.Duration(st.Worked),
		HasWarranty: st.WarrantyTotal > 0, Warranty: l.Duration(st.WarrantyTotal), HT: l.Money(st.HT), VAT: l.Money(st.VAT),
		TTC: l.Money(st.TTC), HTc: st.HT, VATc: st.VAT, TTCc: st.TTC}
	for _, ln := range st.Lines {
		d.Rows = append(d.Rows, statementRow{Number: ln.Ticket.Number, Contract: ln.Ticket.Contract, Worked: l.Duration(ln.Worked),
			Billed: billed(l, ln), HT: l.Money(ln.HT), VAT: l.Money(ln.VAT), TTC: l.Money(ln.TTC), HTc: ln.HT, VATc: ln.VAT,
			TTCc: ln.TTC, Notes: statementNotes(l, ln), Unbillable: ln.Unbillable != "", Capped: ln.Capped})
	}
	s.renderPage(w, http.StatusOK, "statement", &view{Title: l.Pick("Relevé ", "Statement ") + c.Number + " " + d.Month,
		Nav: "customers", User: u, Data: d})
}
