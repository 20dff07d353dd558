package space

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/tickets"
)

// The JSON API under /client/api/: the same session cookie as the pages;
// a POST carries the session's CSRF token in X-CSRF-Token (GET
// /client/api/session gives it). Without a session: 401; anything not
// the contact's customer's: 404.
func (s *Server) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /client/api/session", s.api(s.apiSession))
	mux.HandleFunc("GET /client/api/tickets", s.api(s.apiTickets))
	mux.HandleFunc("POST /client/api/tickets", s.api(s.apiCreate))
	mux.HandleFunc("GET /client/api/tickets/{number}", s.api(s.apiTicket))
	mux.HandleFunc("GET /client/api/tickets/{number}/recordings/{seq}", s.api(s.serveRecording))
	mux.HandleFunc("GET /client/api/tickets/{number}/attachments/{id}", s.api(s.serveAttachment))
	mux.HandleFunc("GET /client/api/statements/{month}", s.api(s.apiStatement))
	mux.HandleFunc("GET /client/api/appointments", s.api(s.apiAppointments))
	mux.HandleFunc("/client/api/", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusNotFound, apiError("not found")) })
}

type apiErr struct {
	Error string `json:"error"`
}

func apiError(m string) apiErr { return apiErr{Error: m} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// api wraps an API handler: a session is needed (401 without), and a
// POST the X-CSRF-Token header. Not-found answers are JSON.
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request, c *contact)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.session(r)
		if err != nil {
			if !errors.Is(err, astreinte.ErrNotFound) {
				s.log().Error("space api: session", "error", err)
				writeJSON(w, http.StatusInternalServerError, apiError("server error"))
				return
			}
			writeJSON(w, http.StatusUnauthorized, apiError("not signed in"))
			return
		}
		r = s.withCustomerLang(r, c)
		if r.Method == http.MethodPost && !sameToken(r.Header.Get("X-CSRF-Token"), c.Sess.CSRF) {
			writeJSON(w, http.StatusForbidden, apiError("missing or wrong X-CSRF-Token"))
			return
		}
		h(&jsonNotFound{ResponseWriter: w}, r, c)
	}
}

// jsonNotFound turns the pages' plain 404 into the API's JSON one.
type jsonNotFound struct {
	http.ResponseWriter
	swallow bool
}

func (j *jsonNotFound) WriteHeader(code int) {
	if code == http.StatusNotFound && j.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		j.swallow = true
		writeJSON(j.ResponseWriter, http.StatusNotFound, apiError("not found"))
		return
	}
	j.ResponseWriter.WriteHeader(code)
}

func (j *jsonNotFound) Write(b []byte) (int, error) {
	if j.swallow {
		return len(b), nil
	}
	return j.ResponseWriter.Write(b)
}

type apiSessionOut struct {
	Email    string `json:"email"`
	Customer string `json:"customer"`
	Name     string `json:"name"`
	CSRF     string `json:"csrf"`
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request, c *contact) {
	writeJSON(w, http.StatusOK, apiSessionOut{Email: c.Email, Customer: c.Customer.Number, Name: c.Customer.Name, CSRF: c.Sess.CSRF})
}

type apiTicketOut struct {
	Number   string     `json:"number"`
	Subject  string     `json:"subject"`
	Status   string     `json:"status"`
	Channel  string     `json:"channel"`
	Verified bool       `json:"verified"`
	Created  time.Time  `json:"created_at"`
	Due      *time.Time `json:"due_at,omitempty"`
}

func ticketOut(it ticketItem, t astreinte.Ticket) apiTicketOut {
	o := apiTicketOut{Number: t.Number, Subject: it.Subject, Status: string(t.Status), Channel: string(t.Channel),
		Verified: !t.Unverified, Created: t.CreatedAt}
	if !t.DueAt.IsZero() {
		d := t.DueAt
		o.Due = &d
	}
	return o
}

func (s *Server) apiTickets(w http.ResponseWriter, r *http.Request, c *contact) {
	ts, err := s.customerTickets(r.Context(), c)
	if err != nil {
		s.log().Error("space api: tickets", "error", err)
		writeJSON(w, http.StatusInternalServerError, apiError("server error"))
		return
	}
	out := []apiTicketOut{}
	l := s.lang(r)
	for _, t := range ts {
		out = append(out, ticketOut(s.item(r.Context(), l, t), t))
	}
	writeJSON(w, http.StatusOK, out)
}

type apiWork struct {
	At      time.Time `json:"at"`
	Seconds int64     `json:"seconds"`
	Note    string    `json:"note"`
}

type apiQuote struct {
	AmountHT    int64  `json:"amount_ht_cents"`
	Seconds     int64  `json:"seconds,omitempty"`
	Flat        bool   `json:"flat"`
	Description string `json:"description"`
	State       string `json:"state"`
	DecidedBy   string `json:"decided_by,omitempty"`
}

type apiConfirmation struct {
	Units       int64  `json:"units"`
	Description string `json:"description"`
	State       string `json:"state"`
	DecidedBy   string `json:"decided_by,omitempty"`
}

type apiAppointment struct {
	ID     int64     `json:"id"`
	Ticket string    `json:"ticket"`
	Kind   string    `json:"kind"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Phone  string    `json:"phone,omitempty"`
	Room   string    `json:"room,omitempty"`
	// Cancelled is set for a cancelled appointment.
	Cancelled *time.Time `json:"cancelled_at,omitempty"`
}

type apiTicketFull struct {
	apiTicketOut
	Text         string           `json:"text,omitempty"`
	Recordings   int              `json:"recordings"`
	Work         []apiWork        `json:"work"`
	Quote        *apiQuote        `json:"quote,omitempty"`
	Confirmation *apiConfirmation `json:"confirmation,omitempty"`
	Appointment  *apiAppointment  `json:"appointment,omitempty"`
}

func (s *Server) apiTicket(w http.ResponseWriter, r *http.Request, c *contact) {
	t, ok := s.ticketOf(w, r, c)
	if !ok {
		return
	}
	l := s.lang(r)
	d, err := s.ticketData(r.Context(), l, c, t)
	if err != nil {
		s.log().Error("space api: ticket", "error", err)
		writeJSON(w, http.StatusInternalServerError, apiError("server error"))
		return
	}
	out := apiTicketFull{apiTicketOut: ticketOut(d.T, t), Recordings: len(t.Recordings), Work: []apiWork{}}
	if d.Request != nil {
		out.Text = d.Request.Body
	}
	ws, _ := s.Records.WorkLog(r.Context(), t.ID)
	for _, wk := range ws {
		out.Work = append(out.Work, apiWork{At: wk.At, Seconds: int64(wk.Duration / time.Second), Note: wk.Note})
	}
	if q := d.Quote; q != nil {
		out.Quote = &apiQuote{AmountHT: q.AmountHT, Seconds: int64(q.Duration / time.Second), Flat: q.Flat,
			Description: q.Description, State: q.State, DecidedBy: q.DecidedBy}
	}
	if k := d.Confirm; k != nil {
		out.Confirmation = &apiConfirmation{Units: k.Units, Description: k.Description, State: k.State, DecidedBy: k.DecidedBy}
	}
	if a := d.Appt; a != nil {
		out.Appointment = &apiAppointment{ID: a.ID, Ticket: a.Number, Kind: a.Kind, Start: a.Start, End: a.End, Phone: a.Phone, Room: a.Room}
	}
	writeJSON(w, http.StatusOK, out)
}

type apiCreateIn struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

func (s *Server) apiCreate(w http.ResponseWriter, r *http.Request, c *contact) {
	var in apiCreateIn
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 128<<10)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError("want JSON {\"subject\": …, \"text\": …}"))
		return
	}
	t, err := s.open(r.Context(), tickets.Request{Customer: c.Customer.Number, Contact: c.Email, Subject: in.Subject, Text: in.Text})
	if errors.Is(err, tickets.ErrEmptyRequest) {
		writeJSON(w, http.StatusBadRequest, apiError(err.Error()))
		return
	} else if err != nil {
		s.log().Error("space api: request", "error", err)
		writeJSON(w, http.StatusInternalServerError, apiError("server error"))
		return
	}
	writeJSON(w, http.StatusCreated, ticketOut(ticketItem{Subject: in.Subject}, t))
}

type apiStatementLine struct {
	Ticket string `json:"ticket"`
	Worked int64  `json:"worked_seconds"`
	Units  int64  `json:"units"`
	HT     int64  `json:"ht_cents"`
	VAT    int64  `json:"vat_cents"`
	TTC    int64  `json:"ttc_cents"`
}

type apiStatementOut struct {
	Customer string             `json:"customer"`
	From     time.Time          `json:"from"`
	To       time.Time          `json:"to"`
	Lines    []apiStatementLine `json:"lines"`
	HT       int64              `json:"ht_cents"`
	VAT      int64              `json:"vat_cents"`
	TTC      int64              `json:"ttc_cents"`
}

func (s *Server) apiStatement(w http.ResponseWriter, r *http.Request, c *contact) {
	_, st, err := s.statement(r.Context(), s.lang(r), c, r.PathValue("month"))
	if errors.Is(err, astreinte.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, apiError("not found"))
		return
	} else if err != nil {
		s.log().Error("space api: statement", "error", err)
		writeJSON(w, http.StatusInternalServerError, apiError("server error"))
		return
	}
	out := apiStatementOut{Customer: st.Customer, From: st.From, To: st.To, Lines: []apiStatementLine{}, HT: st.HT, VAT: st.VAT, TTC: st.TTC}
	for _, ln := range st.Lines {
		out.Lines = append(out.Lines, apiStatementLine{Ticket: ln.Ticket.Number, Worked: int64(ln.Worked / time.Second),
			Units: ln.Units, HT: ln.HT, VAT: ln.VAT, TTC: ln.TTC})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiAppointments(w http.ResponseWriter, r *http.Request, c *contact) {
	out := []apiAppointment{}
	if s.Appointments != nil {
		as, err := s.Appointments.OfCustomer(r.Context(), c.Customer.Number)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, apiError("server error"))
			return
		}
		for _, a := range as {
			o := apiAppointment{ID: a.ID, Ticket: a.Number, Kind: a.Kind, Start: a.Start, End: a.End, Phone: a.Phone, Room: a.Room}
			if !a.CancelledAt.IsZero() {
				ca := a.CancelledAt
				o.Cancelled = &ca
			}
			out = append(out, o)
		}
	}
	writeJSON(w, http.StatusOK, out)
}
