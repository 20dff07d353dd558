package appointments

import (
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/store"
)

// Invitation is a's iCalendar invitation (METHOD:REQUEST), or its
// cancellation (METHOD:CANCEL, STATUS:CANCELLED, a higher SEQUENCE), from
// the desk's address organizer to the contact; now stamps it.
func Invitation(a store.Appointment, organizer string, l lang.Tag, loc *time.Location, cancel bool, now time.Time) []byte {
	cal := ics.NewCalendarFor("astreinte")
	method, status, seq := ics.MethodRequest, ics.ObjectStatusConfirmed, 0
	if cancel {
		method, status, seq = ics.MethodCancel, ics.ObjectStatusCancelled, 1
	}
	cal.SetMethod(method)
	ev := cal.AddEvent(a.UID)
	ev.SetDtStampTime(now.UTC())
	ev.SetCreatedTime(a.CreatedAt.UTC())
	ev.SetStartAt(a.Start.UTC())
	ev.SetEndAt(a.End.UTC())
	ev.SetSequence(seq)
	ev.SetStatus(status)
	ev.SetSummary(l.Pick("Support : ticket ", "Support: ticket ") + a.Number)
	if a.Kind == store.AppointmentVideo {
		ev.SetLocation(a.Room)
		ev.SetURL(a.Room)
		ev.SetDescription(l.Pick("Visioconférence de 45 minutes : ", "45-minute video meeting: ") + a.Room)
	} else {
		ev.SetLocation(l.Pick("Téléphone ", "Phone ") + a.Phone)
		ev.SetDescription(l.Pick("Appel de 45 minutes au ", "45-minute call to ") + a.Phone)
	}
	if organizer != "" {
		ev.SetOrganizer("mailto:" + organizer)
	}
	ev.AddAttendee("mailto:"+a.Contact, ics.CalendarUserTypeIndividual, ics.ParticipationStatusNeedsAction, ics.WithRSVP(false))
	return []byte(cal.Serialize())
}
