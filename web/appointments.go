package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/appointments"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/store"
)

// The technicians' page of a day's appointments booked by customers (45
// minutes, phone or video) and its API; cancelling one frees the slot and
// mails the cancellation to the customer's contact (appointments.Service).

// apptRow is one appointment of the day's page.
type apptRow struct {
	ID             int64
	From, To       string
	Number         string
	Customer, Name string
	Contact        string
	Video          bool
	Link           string // the video room, or the number to call
}

type apptDay struct {
	Day, Prev, Next string // 2026-12-07
	Label           tr
	Rows            []apptRow
}

func (s *Server) appointmentRoutes(mux *http.ServeMux) {
	if s.Appointments == nil {
		return
	}
	mux.HandleFunc("GET /appointments", s.page(s.appointmentsPage))
	mux.HandleFunc("POST /appointments/{id}/cancel", s.page(s.appointmentCancel))
	mux.HandleFunc("GET /api/appointments", s.api(s.appointmentsAPI))
	mux.HandleFunc("POST /api/appointments/{id}/cancel", s.api(s.appointmentCancelAPI))
}

// day reads ?day=YYYY-MM-DD in the calendar's zone (default today).
func (s *Server) day(r *http.Request) (time.Time, error) {
	d := strings.TrimSpace(r.URL.Query().Get("day"))
	if d == "" {
		n := s.now().In(s.loc())
		return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, s.loc()), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, d, s.loc())
	if err != nil {
		return t, actionError{http.StatusBadRequest, tr{"jour : AAAA-MM-JJ, ex. 2026-12-07", "day: want YYYY-MM-DD, e.g. 2026-12-07"}}
	}
	return t, nil
}

func (s *Server) appointmentsPage(w http.ResponseWriter, r *http.Request, u *who) {
	day, err := s.day(r)
	if err != nil {
		s.pageError(w, u, http.StatusBadRequest, err)
		return
	}
	as, err := s.Appointments.Day(r.Context(), day)
	if err != nil {
		s.pageError(w, u, http.StatusInternalServerError, err)
		return
	}
	d := apptDay{Day: day.Format(time.DateOnly), Prev: day.AddDate(0, 0, -1).Format(time.DateOnly),
		Next: day.AddDate(0, 0, 1).Format(time.DateOnly), Label: both(func(l lang.Tag) string { return l.Date(day) })}
	for _, a := range as {
		row := apptRow{ID: a.ID, From: a.Start.In(s.loc()).Format("15:04"), To: a.End.In(s.loc()).Format("15:04"),
			Number: a.Number, Customer: a.Customer, Contact: a.Contact, Video: a.Kind == store.AppointmentVideo, Link: a.Room}
		if !row.Video {
			row.Link = a.Phone
		}
		if s.Customers != nil && s.Customers.Store != nil {
			if c, err := s.Customers.Store.CustomerByNumber(r.Context(), a.Customer); err == nil {
				row.Name = c.Name
			}
		}
		d.Rows = append(d.Rows, row)
	}
	s.renderPage(w, http.StatusOK, "appointments", &view{Title: u.L.Pick("Rendez-vous", "Appointments"), Nav: "appointments", User: u,
		Flash: doneMessages[r.URL.Query().Get("done")].In(u.L), Data: d})
}

// cancelAppointment cancels the appointment of the path as actor; it
// returns the appointment and whether the customer was mailed.
func (s *Server) cancelAppointment(r *http.Request, actor string) (store.Appointment, bool, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return store.Appointment{}, false, actionError{http.StatusNotFound, tr{"rendez-vous inconnu", "no such appointment"}}
	}
	a, err := s.Appointments.ByID(r.Context(), id)
	if errors.Is(err, astreinte.ErrNotFound) {
		return a, false, actionError{http.StatusNotFound, tr{"rendez-vous inconnu", "no such appointment"}}
	} else if err != nil {
		return a, false, err
	}
	err = s.Appointments.Cancel(r.Context(), a, actor)
	switch {
	case errors.Is(err, appointments.ErrNotSent):
		s.log().Warn("web: appointment cancelled, cancellation not mailed", "ticket", a.Number, "error", err)
		return a, false, nil
	case errors.Is(err, astreinte.ErrNotFound):
		return a, false, actionError{http.StatusConflict, tr{"rendez-vous déjà annulé", "the appointment is already cancelled"}}
	case err != nil:
		return a, false, err
	}
	s.log().Info("web: appointment cancelled", "ticket", a.Number, "start", a.Start, "by", actor)
	return a, true, nil
}

func (s *Server) appointmentCancel(w http.ResponseWriter, r *http.Request, u *who) {
	a, mailed, err := s.cancelAppointment(r, u.User.Actor())
	if s.pageFailed(w, u, err, "web: cancel appointment", "error", err) {
		return
	}
	done := "appointment-cancelled"
	if !mailed {
		done = "asked-unsent"
	}
	http.Redirect(w, r, "/appointments?day="+a.Start.In(s.loc()).Format(time.DateOnly)+"&done="+done, http.StatusSeeOther)
}

// appointmentJSON is an appointment in the API.
type appointmentJSON struct {
	ID          int64      `json:"id"`
	Ticket      string     `json:"ticket"`
	Customer    string     `json:"customer"`
	Contact     string     `json:"contact"`
	Kind        string     `json:"kind"` // phone or video
	Phone       string     `json:"phone,omitempty"`
	Room        string     `json:"room,omitempty"`
	Start       time.Time  `json:"start"`
	End         time.Time  `json:"end"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	CancelledBy string     `json:"cancelled_by,omitempty"`
}

func (s *Server) appointmentToJSON(a store.Appointment) appointmentJSON {
	return appointmentJSON{ID: a.ID, Ticket: a.Number, Customer: a.Customer, Contact: a.Contact, Kind: a.Kind, Phone: a.Phone,
		Room: a.Room, Start: a.Start.UTC(), End: a.End.UTC(), CancelledAt: optTime(a.CancelledAt), CancelledBy: a.CancelledBy}
}

func (s *Server) appointmentsAPI(w http.ResponseWriter, r *http.Request, _ accounts.Token) {
	day, err := s.day(r)
	if err != nil {
		apiFail(w, http.StatusBadRequest, err.Error())
		return
	}
	as, err := s.Appointments.Day(r.Context(), day)
	if err != nil {
		s.log().Error("api: appointments", "error", err)
		apiFail(w, http.StatusInternalServerError, "server error")
		return
	}
	out := struct {
		Day          string            `json:"day"`
		Appointments []appointmentJSON `json:"appointments"`
	}{Day: day.Format(time.DateOnly), Appointments: []appointmentJSON{}}
	for _, a := range as {
		out.Appointments = append(out.Appointments, s.appointmentToJSON(a))
	}
	writeAPI(w, http.StatusOK, out)
}

func (s *Server) appointmentCancelAPI(w http.ResponseWriter, r *http.Request, tok accounts.Token) {
	a, mailed, err := s.cancelAppointment(r, tokenActor(tok))
	if s.apiFailed(w, err, "api: cancel appointment", "error", err) {
		return
	}
	a, err = s.Appointments.ByID(r.Context(), a.ID)
	if err != nil {
		apiFail(w, http.StatusInternalServerError, "server error")
		return
	}
	writeAPI(w, http.StatusOK, struct {
		Mailed      bool            `json:"mailed"`
		Appointment appointmentJSON `json:"appointment"`
	}{mailed, s.appointmentToJSON(a)})
}
