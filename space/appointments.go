package space

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/appointments"
	"github.com/astreinte/astreinte/store"
)

// slotItem is a free slot in the picker.
type slotItem struct {
	Value, Label string // Value: RFC 3339 start
}

type dayItem struct {
	Label string
	Slots []slotItem
}

type appointmentData struct {
	Number string
	Days   []dayItem
	Phone  string
}

func (s *Server) appointmentPage(w http.ResponseWriter, r *http.Request, c *contact) {
	t, ok := s.ticketOf(w, r, c)
	if !ok {
		return
	}
	if s.Appointments == nil {
		s.notFound(w, r)
		return
	}
	s.showAppointment(w, r, c, t, http.StatusOK, "")
}

func (s *Server) showAppointment(w http.ResponseWriter, r *http.Request, c *contact, t astreinte.Ticket, status int, msg string) {
	l := s.lang(r)
	free, err := s.Appointments.Free(r.Context())
	if err != nil {
		s.serverError(w, r, "free slots", err)
		return
	}
	d := appointmentData{Number: t.Number}
	if len(c.Customer.Phones) > 0 {
		d.Phone = c.Customer.Phones[0]
	}
	for _, sl := range free {
		st := sl.Start.In(s.loc())
		label := l.Date(st)
		if len(d.Days) == 0 || d.Days[len(d.Days)-1].Label != label {
			d.Days = append(d.Days, dayItem{Label: label})
		}
		day := &d.Days[len(d.Days)-1]
		day.Slots = append(day.Slots, slotItem{Value: sl.Start.UTC().Format(time.RFC3339), Label: l.Clock(st) + "–" + l.Clock(sl.End.In(s.loc()))})
	}
	s.render(w, status, "appointment", &view{L: l, Title: l.Pick("Prendre rendez-vous", "Book an appointment"), Nav: "appointments",
		C: c, Error: msg, Data: d})
}

func (s *Server) postAppointment(w http.ResponseWriter, r *http.Request, c *contact) {
	t, ok := s.ticketOf(w, r, c)
	if !ok {
		return
	}
	if s.Appointments == nil {
		s.notFound(w, r)
		return
	}
	l := s.lang(r)
	start, err := time.Parse(time.RFC3339, r.PostForm.Get("slot"))
	if err != nil {
		s.showAppointment(w, r, c, t, http.StatusBadRequest, l.Pick("Choisissez un créneau.", "Choose a slot."))
		return
	}
	_, err = s.Appointments.Book(r.Context(), appointments.Booking{Ticket: t, Contact: c.Email, Kind: r.PostForm.Get("kind"),
		Phone: r.PostForm.Get("phone"), Start: start})
	var msg string
	switch {
	case errors.Is(err, appointments.ErrNotFree):
		msg = l.Pick("Ce créneau n'est plus libre : choisissez-en un autre.", "This slot is no longer free: choose another.")
	case errors.Is(err, appointments.ErrNoPhone):
		msg = l.Pick("Donnez le numéro à appeler.", "Give the number to call.")
	case errors.Is(err, appointments.ErrBadKind):
		msg = l.Pick("Choisissez téléphone ou visio.", "Choose phone or video.")
	case errors.Is(err, appointments.ErrFinished), errors.Is(err, store.ErrSlotTaken):
		msg = l.Pick("Ce ticket a déjà un rendez-vous ou est résolu.", "This ticket already has an appointment or is resolved.")
	case errors.Is(err, appointments.ErrNotSent):
		s.log().Error("space: appointment booked, invitation not sent", "ticket", t.Number, "error", err)
	case err != nil:
		s.serverError(w, r, "book", err)
		return
	}
	if msg != "" {
		s.showAppointment(w, r, c, t, http.StatusConflict, msg)
		return
	}
	http.Redirect(w, r, Prefix+"tickets/"+t.Number+"?done=booked", http.StatusSeeOther)
}

type apptItem struct {
	ID                      int64
	Number, When, Kind, How string
	Cancelled, Past         bool
}

func (s *Server) appointmentsPage(w http.ResponseWriter, r *http.Request, c *contact) {
	l := s.lang(r)
	if s.Appointments == nil {
		s.notFound(w, r)
		return
	}
	as, err := s.Appointments.OfCustomer(r.Context(), c.Customer.Number)
	if err != nil {
		s.serverError(w, r, "appointments", err)
		return
	}
	var items []apptItem
	for _, a := range as {
		it := apptItem{ID: a.ID, Number: a.Number, When: l.DateTime(a.Start.In(s.loc())), Cancelled: !a.CancelledAt.IsZero(),
			Past: a.End.Before(s.now()), Kind: l.Pick("téléphone", "phone"), How: a.Phone}
		if a.Kind == store.AppointmentVideo {
			it.Kind, it.How = l.Pick("visio", "video"), a.Room
		}
		items = append(items, it)
	}
	s.render(w, http.StatusOK, "appointments", &view{L: l, Title: l.Pick("Rendez-vous", "Appointments"), Nav: "appointments", C: c,
		Flash: flash(l, r.URL.Query().Get("done")), Data: items})
}

func (s *Server) postCancel(w http.ResponseWriter, r *http.Request, c *contact) {
	if s.Appointments == nil {
		s.notFound(w, r)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	a, err := s.Appointments.Of(r.Context(), c.Customer.Number, id)
	if errors.Is(err, astreinte.ErrNotFound) || err == nil && !a.CancelledAt.IsZero() {
		s.notFound(w, r)
		return
	} else if err != nil {
		s.serverError(w, r, "appointment", err)
		return
	}
	if err := s.Appointments.Cancel(r.Context(), a, c.actor()); errors.Is(err, appointments.ErrNotSent) {
		s.log().Error("space: appointment cancelled, cancellation not sent", "appointment", id, "error", err)
	} else if err != nil && !errors.Is(err, astreinte.ErrNotFound) {
		s.serverError(w, r, "cancel", err)
		return
	}
	http.Redirect(w, r, Prefix+"appointments?done=cancelled", http.StatusSeeOther)
}
