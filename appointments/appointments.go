package appointments

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/store"
)

// Store keeps appointments (store.DB).
type Store interface {
	BookAppointment(ctx context.Context, a *store.Appointment, detail string) error
	CancelAppointment(ctx context.Context, id int64, by, detail string) error
	AppointmentsBetween(ctx context.Context, from, to time.Time) ([]store.Appointment, error)
	AppointmentsOfCustomer(ctx context.Context, customer string) ([]store.Appointment, error)
	AppointmentByID(ctx context.Context, id int64) (store.Appointment, error)
}

// Customers gives a customer's language (store.DB).
type Customers interface {
	CustomerByNumber(ctx context.Context, number string) (customers.Customer, error)
}

// Sender sends an email (mailer.Config).
type Sender interface {
	Send(ctx context.Context, m *mailer.Message) error
}

var (
	_ Store     = (*store.DB)(nil)
	_ Customers = (*store.DB)(nil)
	_ Sender    = (*mailer.Config)(nil)
)

// DefaultRoom is the video room pattern when none is configured.
const DefaultRoom = "https://meet.jit.si/astreinte-{ticket}-{token}"

// Service books and cancels appointments. Store, Calendar and Mail are
// required.
type Service struct {
	Store    Store
	Calendar Calendar
	Mail     Sender
	// Desk is the support desk's address: it gets every invitation (the
	// technicians' side); "" sends only the customer's.
	Desk string
	// Room is the video room's address with placeholders: {ticket} (the
	// ticket number), {id} (the appointment's UID) and {token} (a random,
	// unguessable word); e.g. https://meet.jit.si/astreinte-{ticket}-{token},
	// https://bbb.example.com/b/{token}, https://cloud.example.com/call/{token}.
	// Default DefaultRoom.
	Room string
	// Days is the booking window in business days (default Window).
	Days int
	// Customers, when set, gives the language of each customer's mails;
	// Lang is the language of the others (default French).
	Customers Customers
	Lang      lang.Tag
	Now       func() time.Time
	Log       *slog.Logger
}

// Errors of Book.
var (
	ErrNotFree  = errors.New("this slot is not free: choose another / ce créneau n'est pas libre : choisissez-en un autre")
	ErrBadKind  = errors.New("an appointment is by phone or by video / un rendez-vous est par téléphone ou en visio")
	ErrNoPhone  = errors.New("a phone appointment needs a number to call / un rendez-vous téléphonique a besoin d'un numéro")
	ErrFinished = errors.New("the ticket is resolved / le ticket est résolu")
	// ErrNotSent wraps the failure to mail an invitation: the booking or
	// the cancellation itself was recorded.
	ErrNotSent = errors.New("the invitation could not be mailed")
)

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *Service) days() int {
	if s.Days > 0 {
		return s.Days
	}
	return Window
}

// Free returns the slots that can be booked now.
func (s *Service) Free(ctx context.Context) ([]Slot, error) {
	now := s.now()
	taken, err := s.Store.AppointmentsBetween(ctx, now.Add(-Length), now.AddDate(0, 0, 31))
	if err != nil {
		return nil, err
	}
	return Free(s.Calendar, now, s.days(), taken), nil
}

// Booking is what a contact asks for.
type Booking struct {
	Ticket  astreinte.Ticket
	Contact string // the contact's address
	Kind    string // store.AppointmentPhone or store.AppointmentVideo
	Phone   string // the number to call, for a phone appointment
	Start   time.Time
}

// Book takes the slot starting at b.Start for b.Ticket, when it is one of
// the free slots (ErrNotFree otherwise, also when another booking took it
// first: the store refuses a second appointment on one slot), and mails
// the invitation to the contact and the desk. The appointment stands even
// when the mail fails (the error says so).
func (s *Service) Book(ctx context.Context, b Booking) (store.Appointment, error) {
	var a store.Appointment
	if b.Ticket.Status == astreinte.StatusResolved {
		return a, ErrFinished
	}
	switch b.Kind {
	case store.AppointmentVideo:
	case store.AppointmentPhone:
		if strings.TrimSpace(b.Phone) == "" {
			return a, ErrNoPhone
		}
	default:
		return a, ErrBadKind
	}
	free, err := s.Free(ctx)
	if err != nil {
		return a, err
	}
	ok := false
	for _, sl := range free {
		if sl.Start.Equal(b.Start) {
			ok = true
		}
	}
	if !ok {
		return a, ErrNotFree
	}
	token := strings.ToLower(rand.Text()[:16])
	a = store.Appointment{TicketID: b.Ticket.ID, Number: b.Ticket.Number, Customer: b.Ticket.Customer, Contact: b.Contact,
		Kind: b.Kind, Start: b.Start.UTC(), End: b.Start.Add(Length).UTC(),
		UID: fmt.Sprintf("%s-%s@astreinte", b.Ticket.Number, token)}
	if b.Kind == store.AppointmentPhone {
		a.Phone = strings.TrimSpace(b.Phone)
	} else {
		a.Room = s.room(b.Ticket.Number, a.UID, token)
	}
	detail := fmt.Sprintf("appointment booked (%s): %s, %s", a.Kind,
		a.Start.In(s.Calendar.Location()).Format("Mon 02 Jan 2006 15:04"), Length)
	if err := s.Store.BookAppointment(ctx, &a, detail); errors.Is(err, store.ErrSlotTaken) {
		return a, ErrNotFree
	} else if err != nil {
		return a, err
	}
	s.log().Info("appointments: booked", "ticket", a.Number, "start", a.Start, "kind", a.Kind, "contact", a.Contact)
	return a, s.invite(ctx, a, false)
}

// Cancel cancels a, freeing its slot, and mails the cancellation to the
// contact and the desk.
func (s *Service) Cancel(ctx context.Context, a store.Appointment, by string) error {
	detail := fmt.Sprintf("appointment cancelled: %s", a.Start.In(s.Calendar.Location()).Format("Mon 02 Jan 2006 15:04"))
	if err := s.Store.CancelAppointment(ctx, a.ID, by, detail); err != nil {
		return err
	}
	a.CancelledAt, a.CancelledBy = s.now(), by
	s.log().Info("appointments: cancelled", "ticket", a.Number, "start", a.Start, "by", by)
	return s.invite(ctx, a, true)
}

// Of returns an appointment of customer (another customer's is not
// found).
func (s *Service) Of(ctx context.Context, customer string, id int64) (store.Appointment, error) {
	a, err := s.Store.AppointmentByID(ctx, id)
	if err != nil {
		return a, err
	}
	if a.Customer != customer {
		return store.Appointment{}, fmt.Errorf("appointment %d: %w", id, astreinte.ErrNotFound)
	}
	return a, nil
}

// ByID returns any appointment, for the technicians (the space uses Of).
func (s *Service) ByID(ctx context.Context, id int64) (store.Appointment, error) {
	return s.Store.AppointmentByID(ctx, id)
}

// OfTicket returns t's appointment not cancelled, or an error wrapping
// astreinte.ErrNotFound.
func (s *Service) OfTicket(ctx context.Context, t astreinte.Ticket) (store.Appointment, error) {
	if t.Customer != "" {
		as, err := s.Store.AppointmentsOfCustomer(ctx, t.Customer)
		if err != nil {
			return store.Appointment{}, err
		}
		for _, a := range as {
			if a.TicketID == t.ID && a.CancelledAt.IsZero() {
				return a, nil
			}
		}
	}
	return store.Appointment{}, fmt.Errorf("appointment of ticket %s: %w", t.Number, astreinte.ErrNotFound)
}

// OfCustomer lists a customer's appointments.
func (s *Service) OfCustomer(ctx context.Context, customer string) ([]store.Appointment, error) {
	return s.Store.AppointmentsOfCustomer(ctx, customer)
}

// Day lists the appointments of the local day of t, for the technicians.
func (s *Service) Day(ctx context.Context, t time.Time) ([]store.Appointment, error) {
	loc := s.Calendar.Location()
	l := t.In(loc)
	from := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	return s.Store.AppointmentsBetween(ctx, from, from.AddDate(0, 0, 1))
}

// room fills the room pattern.
func (s *Service) room(number, uid, token string) string {
	p := s.Room
	if p == "" {
		p = DefaultRoom
	}
	return strings.NewReplacer("{ticket}", number, "{id}", strings.TrimSuffix(uid, "@astreinte"), "{token}", token).Replace(p)
}

// invite mails the invitation (or its cancellation) to the contact and
// the desk.
func (s *Service) invite(ctx context.Context, a store.Appointment, cancel bool) error {
	l := s.Lang.Or()
	if s.Customers != nil && a.Customer != "" {
		c, err := s.Customers.CustomerByNumber(ctx, a.Customer)
		if err == nil {
			l = c.Lang(s.Lang)
		} else if !errors.Is(err, astreinte.ErrNotFound) {
			s.log().Warn("appointments: customer's language", "customer", a.Customer, "error", err)
		}
	}
	from := ""
	if mc, ok := s.Mail.(*mailer.Config); ok {
		from = mc.From
	}
	org := s.Desk
	if org == "" {
		if addr, err := mail.ParseAddress(from); err == nil {
			org = addr.Address
		}
	}
	ics := Invitation(a, org, l, s.Calendar.Location(), cancel, s.now())
	when := l.DateTime(a.Start.In(s.Calendar.Location()))
	how := l.Pick("Par téléphone : nous appelons le "+a.Phone+".", "By phone: we call "+a.Phone+".")
	if a.Kind == store.AppointmentVideo {
		how = l.Pick("En visioconférence : ", "By video: ") + a.Room
	}
	subject := l.Pick("Rendez-vous", "Appointment") + " — " + when
	text := l.Pick(fmt.Sprintf("Rendez-vous de 45 minutes pour le ticket %s, le %s.\n%s\n", a.Number, when, how),
		fmt.Sprintf("45-minute appointment for ticket %s, on %s.\n%s\n", a.Number, when, how))
	method := "REQUEST"
	if cancel {
		subject = l.Pick("Annulé : ", "Cancelled: ") + subject
		text = l.Pick(fmt.Sprintf("Le rendez-vous du %s pour le ticket %s est annulé ; le créneau est libéré.\n", when, a.Number),
			fmt.Sprintf("The appointment of %s for ticket %s is cancelled; the slot is free again.\n", when, a.Number))
		method = "CANCEL"
	}
	var errs []error
	for _, to := range []string{a.Contact, s.Desk} {
		if to == "" {
			continue
		}
		m := &mailer.Message{To: []*mail.Address{{Address: to}}, Subject: "[" + a.Number + "] " + subject, Text: text,
			Parts: []mailer.Part{{ContentType: "text/calendar; method=" + method + "; charset=utf-8", Name: "invitation.ics",
				Body: bytes.NewReader(ics)}}}
		m.Add("Auto-Submitted", "auto-generated")
		m.Add("X-Astreinte-Ticket", a.Number)
		m.Add("Content-Language", string(l))
		if err := s.Mail.Send(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("invitation to %s: %w", to, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrNotSent, errors.Join(errs...))
	}
	return nil
}

// Summary is how an appointment reads in a list: "10:30–11:15 video
// 2026-000123".
func Summary(l lang.Tag, a store.Appointment, loc *time.Location) string {
	kind := l.Pick("téléphone", "phone")
	if a.Kind == store.AppointmentVideo {
		kind = l.Pick("visio", "video")
	}
	return l.Clock(a.Start.In(loc)) + "–" + l.Clock(a.End.In(loc)) + " " + kind + " " + a.Number
}
