package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/tickets"
)

// apiError is the body of every API error.
type apiError struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

func writeAPI(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func apiFail(w http.ResponseWriter, status int, msg string) {
	writeAPI(w, status, apiError{Error: msg, Status: status})
}

// api wraps an API handler: it needs "Authorization: Bearer TOKEN".
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request, t accounts.Token)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(secret) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="astreinte"`)
			apiFail(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		tok, err := s.Accounts.TokenBySecret(r.Context(), strings.TrimSpace(secret))
		if errors.Is(err, accounts.ErrNotFound) {
			s.log().Warn("api: unknown token", "remote", r.RemoteAddr, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Bearer realm="astreinte", error="invalid_token"`)
			apiFail(w, http.StatusUnauthorized, "invalid token")
			return
		}
		if err != nil {
			s.log().Error("api: token", "error", err)
			apiFail(w, http.StatusInternalServerError, "server error")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		}
		h(w, r, tok)
	}
}

func (s *Server) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/tickets", s.api(s.apiTickets))
	mux.HandleFunc("GET /api/tickets/{number}", s.api(s.apiTicket))
	mux.HandleFunc("GET /api/tickets/{number}/recording", s.api(func(w http.ResponseWriter, r *http.Request, _ accounts.Token) {
		if _, err := s.Service.ByNumber(r.Context(), r.PathValue("number")); errors.Is(err, astreinte.ErrNotFound) {
			apiFail(w, http.StatusNotFound, "no ticket "+r.PathValue("number"))
			return
		}
		s.serveRecording(w, r)
	}))
	mux.HandleFunc("GET /api/tickets/{number}/recordings/{seq}", s.api(func(w http.ResponseWriter, r *http.Request, _ accounts.Token) {
		if _, err := s.Service.ByNumber(r.Context(), r.PathValue("number")); errors.Is(err, astreinte.ErrNotFound) {
			apiFail(w, http.StatusNotFound, "no ticket "+r.PathValue("number"))
			return
		}
		s.serveMessage(w, r)
	}))
	mux.HandleFunc("POST /api/tickets/{number}/{action}", s.api(s.apiAction))
	mux.HandleFunc("GET /api/oncall", s.api(s.apiOnCall))
	mux.HandleFunc("GET /api/calls", s.api(s.apiCalls))
	mux.HandleFunc("/api/", s.api(func(w http.ResponseWriter, r *http.Request, _ accounts.Token) {
		apiFail(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	}))
}

// tokenActor is who an API token acts as on tickets.
func tokenActor(t accounts.Token) string {
	if t.Person != "" {
		return t.Person
	}
	return "api:" + t.Name
}

func (s *Server) apiTickets(w http.ResponseWriter, r *http.Request, tok accounts.Token) {
	q := r.URL.Query()
	f := q.Get("filter")
	if f == "" {
		f = q.Get("f")
	}
	ts, _, err := s.listTickets(r, f, q.Get("q"), tokenActor(tok))
	if err != nil {
		apiFail(w, http.StatusBadRequest, err.Error())
		return
	}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 && n < len(ts) {
		ts = ts[:n]
	}
	writeAPI(w, http.StatusOK, s.Service.ListJSON(ts, s.now()))
}

func (s *Server) apiTicketByNumber(w http.ResponseWriter, r *http.Request) (astreinte.Ticket, bool) {
	t, err := s.Service.ByNumber(r.Context(), r.PathValue("number"))
	if errors.Is(err, astreinte.ErrNotFound) {
		apiFail(w, http.StatusNotFound, "no ticket "+r.PathValue("number"))
		return t, false
	}
	if err != nil {
		s.log().Error("api: ticket", "error", err)
		apiFail(w, http.StatusInternalServerError, "server error")
		return t, false
	}
	return t, true
}

func (s *Server) apiTicket(w http.ResponseWriter, r *http.Request, _ accounts.Token) {
	t, ok := s.apiTicketByNumber(w, r)
	if !ok {
		return
	}
	evs, err := s.Service.Timeline(r.Context(), t.ID)
	if err != nil {
		s.log().Error("api: timeline", "error", err)
		apiFail(w, http.StatusInternalServerError, "server error")
		return
	}
	j := s.Service.JSON(t, evs, s.now())
	for i := range j.Recordings {
		j.Recordings[i].URL = "/api/tickets/" + t.Number + "/recordings/" + strconv.Itoa(j.Recordings[i].Seq)
	}
	writeAPI(w, http.StatusOK, s.withAsks(r.Context(), t, j))
}

// apiAction takes an optional JSON body {"note": "…"} (or a form).
func (s *Server) apiAction(w http.ResponseWriter, r *http.Request, tok accounts.Token) {
	t, ok := s.apiTicketByNumber(w, r)
	if !ok {
		return
	}
	var body struct {
		Note string `json:"note"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			apiFail(w, http.StatusBadRequest, "body: "+err.Error())
			return
		}
	} else {
		body.Note = r.FormValue("note")
	}
	done, err := s.act(r, t, r.PathValue("action"), tokenActor(tok), strings.TrimSpace(body.Note))
	if s.apiFailed(w, err, "api: action", "error", err) {
		return
	}
	t, err = s.Service.ByID(r.Context(), t.ID)
	if err != nil {
		apiFail(w, http.StatusInternalServerError, "server error")
		return
	}
	writeAPI(w, http.StatusOK, struct {
		Result string       `json:"result"`
		Ticket tickets.JSON `json:"ticket"`
	}{done, s.Service.JSON(t, nil, s.now())})
}

type apiOnCallNow struct {
	Tier     string     `json:"tier"`
	Person   string     `json:"person"` // "" for nobody
	Name     string     `json:"name,omitempty"`
	Until    *time.Time `json:"until,omitempty"`
	Override bool       `json:"override"`
}

type apiShift struct {
	Rotation string    `json:"rotation,omitempty"`
	Tier     string    `json:"tier,omitempty"`
	Person   string    `json:"person,omitempty"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Override bool      `json:"override,omitempty"`
}

func (s *Server) apiOnCall(w http.ResponseWriter, r *http.Request, _ accounts.Token) {
	if s.Schedule == nil || s.Overrides == nil {
		apiFail(w, http.StatusNotFound, "no on-call schedule configured")
		return
	}
	now := s.now()
	end := now.Add(horizon)
	ovs, calOv, err := s.overridesNow(r, now, end)
	if err != nil {
		s.log().Error("api: oncall", "error", err)
		apiFail(w, http.StatusInternalServerError, "server error")
		return
	}
	out := struct {
		At     time.Time      `json:"at"`
		Zone   string         `json:"zone"`
		Now    []apiOnCallNow `json:"now"`
		Shifts []apiShift     `json:"shifts"`
		Gaps   []apiShift     `json:"gaps"`
	}{At: now.UTC(), Zone: s.loc().String(), Now: []apiOnCallNow{}, Shifts: []apiShift{}, Gaps: []apiShift{}}
	for _, oc := range s.Schedule.WhoAt(now, ovs, calOv) {
		n := apiOnCallNow{Tier: oc.Tier, Person: oc.Person.ID, Name: oc.Person.Name, Override: oc.Override != nil}
		if !oc.Until.IsZero() {
			u := oc.Until.UTC()
			n.Until = &u
		}
		out.Now = append(out.Now, n)
	}
	for _, sh := range s.Schedule.Shifts(now, end, ovs) {
		out.Shifts = append(out.Shifts, apiShift{Rotation: sh.Rotation, Person: sh.Person.ID, From: sh.From.UTC(),
			To: sh.To.UTC(), Override: sh.Override != nil})
	}
	for _, g := range s.Schedule.Gaps(now, end, ovs, calOv) {
		out.Gaps = append(out.Gaps, apiShift{Tier: g.Tier, From: g.From.UTC(), To: g.To.UTC()})
	}
	writeAPI(w, http.StatusOK, out)
}

type apiCall struct {
	ID           int64      `json:"id"`
	Line         string     `json:"line"`
	CallerNumber string     `json:"caller_number"`
	CallerName   string     `json:"caller_name,omitempty"`
	Case         string     `json:"case"`
	StartedAt    time.Time  `json:"started_at"`
	EndedAt      *time.Time `json:"ended_at,omitempty"`
	Outcome      string     `json:"outcome"`
	HangupBy     string     `json:"hangup_by,omitempty"`
	Ticket       string     `json:"ticket,omitempty"`
}

func (s *Server) apiCalls(w http.ResponseWriter, r *http.Request, _ accounts.Token) {
	limit := 50
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n <= 1000 {
		limit = n
	}
	calls, err := s.Service.Calls(r.Context(), limit)
	if err != nil {
		s.log().Error("api: calls", "error", err)
		apiFail(w, http.StatusInternalServerError, "server error")
		return
	}
	out := make([]apiCall, 0, len(calls))
	for _, c := range calls {
		a := apiCall{ID: c.ID, Line: c.Line, CallerNumber: c.CallerNumber, CallerName: c.CallerName, Case: string(c.Case),
			StartedAt: c.StartedAt.UTC(), Outcome: string(c.Outcome), HangupBy: c.HangupBy}
		if !c.EndedAt.IsZero() {
			e := c.EndedAt.UTC()
			a.EndedAt = &e
		}
		if c.TicketID != 0 {
			if t, err := s.Service.ByID(r.Context(), c.TicketID); err == nil {
				a.Ticket = t.Number
			}
		}
		out = append(out, a)
	}
	writeAPI(w, http.StatusOK, out)
}
