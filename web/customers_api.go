package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/tickets"
)

// apiCustomerJSON is a customer in the API.
type apiCustomerJSON struct {
	Number   string   `json:"number"`
	Name     string   `json:"name"`
	Phones   []string `json:"phones"`
	Emails   []string `json:"emails"`
	Contract string   `json:"contract,omitempty"`
	Notes    string   `json:"notes,omitempty"`
	Language string   `json:"language,omitempty"` // of the mails to its contacts: fr or en ("" : the desk's default)
}

func customerJSON(c customers.Customer) apiCustomerJSON {
	j := apiCustomerJSON{Number: c.Number, Name: c.Name, Phones: c.Phones, Emails: c.Emails, Contract: c.Contract, Notes: c.Notes,
		Language: string(c.Language)}
	if j.Phones == nil {
		j.Phones = []string{}
	}
	if j.Emails == nil {
		j.Emails = []string{}
	}
	return j
}

// apiContractJSON is a contract's terms; money in integer cents, VAT in
// basis points (19.6 % is 1960).
type apiContractJSON struct {
	Name          string         `json:"name"`
	Label         string         `json:"label,omitempty"`
	Configured    bool           `json:"configured"`
	OnCall        bool           `json:"on_call"`
	Mode          string         `json:"billing_mode,omitempty"`
	RateCents     int64          `json:"rate_cents"`
	UnitMin       int64          `json:"unit_min"`
	VATBasisPts   int64          `json:"vat_bp"`
	QuoteCap      bool           `json:"quote_cap"`
	QuoteRequired bool           `json:"quote_required"`
	DueDays       map[string]int `json:"due_business_days,omitempty"`
	WarrantyMin   int64          `json:"warranty_min"`
	ConfirmAbove  int            `json:"confirm_above"`
}

func (cp *CustomerPages) contractJSON(name string) *apiContractJSON {
	if name == "" {
		return nil
	}
	c, ok := cp.Contracts[name]
	if !ok {
		return &apiContractJSON{Name: name}
	}
	j := &apiContractJSON{Name: name, Label: c.Label, Configured: true, OnCall: c.OnCall, Mode: c.Billing.Mode,
		RateCents: c.Billing.Rate, UnitMin: int64(c.Billing.Unit / time.Minute), VATBasisPts: c.Billing.VAT,
		QuoteCap: c.Billing.QuoteCap, QuoteRequired: c.Billing.QuoteRequired, WarrantyMin: int64(c.Warranty / time.Minute),
		ConfirmAbove: c.ConfirmAbove}
	for ch, n := range c.Due {
		if j.DueDays == nil {
			j.DueDays = map[string]int{}
		}
		j.DueDays[string(ch)] = n
	}
	return j
}

func (s *Server) apiCustomers(w http.ResponseWriter, r *http.Request, _ accounts.Token) {
	out := []apiCustomerJSON{}
	if s.Customers != nil {
		cs, err := s.Customers.Store.Customers(r.Context())
		if err != nil {
			s.log().Error("api: customers", "error", err)
			apiFail(w, http.StatusInternalServerError, "server error")
			return
		}
		for _, c := range searchCustomers(cs, r.URL.Query().Get("q")) {
			out = append(out, customerJSON(c))
		}
	}
	writeAPI(w, http.StatusOK, out)
}

type apiCustomerDetail struct {
	apiCustomerJSON
	ContractTerms *apiContractJSON `json:"contract_terms,omitempty"`
	// Tickets are the most recent ones, newest first.
	Tickets []tickets.JSON `json:"tickets"`
}

func (s *Server) apiCustomer(w http.ResponseWriter, r *http.Request, _ accounts.Token) {
	c, ok := s.customerByNumber(r, func(st int, msg tr) { apiFail(w, st, msg.EN) })
	if !ok {
		return
	}
	ts, err := s.Customers.Store.TicketsOfCustomer(r.Context(), c.Number)
	if err != nil {
		s.log().Error("api: customer tickets", "error", err)
		apiFail(w, http.StatusInternalServerError, "server error")
		return
	}
	slices.Reverse(ts)
	if len(ts) > recentTickets {
		ts = ts[:recentTickets]
	}
	writeAPI(w, http.StatusOK, apiCustomerDetail{apiCustomerJSON: customerJSON(c),
		ContractTerms: s.Customers.contractJSON(c.Contract), Tickets: s.Service.ListJSON(ts, s.now())})
}

// apiStatementLine is one ticket of a statement; amounts in integer cents.
type apiStatementLine struct {
	Ticket      string `json:"ticket"`
	Contract    string `json:"contract,omitempty"`
	WorkedMin   int64  `json:"worked_min"`
	WarrantyMin int64  `json:"warranty_min"`
	Units       int64  `json:"units"`
	UnitMin     int64  `json:"unit_min"`
	HT          int64  `json:"ht_cents"`
	VAT         int64  `json:"vat_cents"`
	TTC         int64  `json:"ttc_cents"`
	Capped      bool   `json:"capped"`
	Flat        bool   `json:"flat"`
	Free        bool   `json:"free"`
	Unbillable  string `json:"unbillable,omitempty"`
}

type apiStatementJSON struct {
	Customer    string             `json:"customer"`
	Name        string             `json:"name"`
	Month       string             `json:"month"`
	From        time.Time          `json:"from"`
	To          time.Time          `json:"to"`
	Lines       []apiStatementLine `json:"lines"`
	WorkedMin   int64              `json:"worked_min"`
	WarrantyMin int64              `json:"warranty_min"`
	HT          int64              `json:"ht_cents"`
	VAT         int64              `json:"vat_cents"`
	TTC         int64              `json:"ttc_cents"`
}

func minutes(d time.Duration) int64 { return int64(d / time.Minute) }

func (s *Server) apiStatement(w http.ResponseWriter, r *http.Request, tok accounts.Token) {
	if tok.Role != accounts.Admin {
		apiFail(w, http.StatusForbidden, "statements need an admin token")
		return
	}
	c, st, ok := s.statement(r, func(status int, msg tr) { apiFail(w, status, msg.EN) })
	if !ok {
		return
	}
	j := apiStatementJSON{Customer: c.Number, Name: c.Name, Month: st.From.In(s.loc()).Format("2006-01"),
		From: st.From.UTC(), To: st.To.UTC(), Lines: []apiStatementLine{}, WorkedMin: minutes(st.Worked),
		WarrantyMin: minutes(st.WarrantyTotal), HT: st.HT, VAT: st.VAT, TTC: st.TTC}
	for _, l := range st.Lines {
		j.Lines = append(j.Lines, apiStatementLine{Ticket: l.Ticket.Number, Contract: l.Ticket.Contract,
			WorkedMin: minutes(l.Worked), WarrantyMin: minutes(l.Warranty), Units: l.Units,
			UnitMin: minutes(l.Contract.Billing.Unit), HT: l.HT, VAT: l.VAT, TTC: l.TTC,
			Capped: l.Capped, Flat: l.Flat, Free: l.Free, Unbillable: l.Unbillable})
	}
	writeAPI(w, http.StatusOK, j)
}
