package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/astreinte/astreinte/oncall/pay"
)

// PayStore is what the pay page reads (store.DB): the same as the CSV
// export, astreinte oncall pay.
type PayStore = pay.Store

type payRow struct {
	pay.Line
	WeekdayNight, Weekend, Holiday, Worked string // as hours and minutes
	Amount                                 string // euros
}

type payData struct {
	Month, Prev, Next string
	Rates             pay.Rates
	RateText          [4]string
	Rows              []payRow
	Total             string
}

// hm writes a span as "12 h 30" (hours may pass 24: a month's nights).
func hm(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if m == 0 {
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %02d", h, m)
}

// payPage shows an admin the month's on-call pay, per person: the same
// figures as `astreinte oncall pay --month`, at the configured rates.
func (s *Server) payPage(w http.ResponseWriter, r *http.Request, u *who) {
	l := u.L
	if !u.Admin() {
		s.pageError(w, u, http.StatusForbidden, errString(l.Pick("Réservé aux administrateurs.", "For admins only.")))
		return
	}
	if s.Schedule == nil || s.Pay == nil {
		s.pageError(w, u, http.StatusNotFound, errString(l.Pick("Pas d'astreinte configurée.", "No on-call configured.")))
		return
	}
	loc := s.Schedule.Calendar().Location()
	month := r.URL.Query().Get("month")
	if month == "" {
		month = s.now().In(loc).Format("2006-01")
	}
	from, _, err := pay.Month(month, loc)
	if err != nil {
		s.pageError(w, u, http.StatusBadRequest, err)
		return
	}
	rates := s.Schedule.PayRates()
	lines, err := pay.Report(r.Context(), s.Pay, s.Schedule, month, rates)
	if err != nil {
		s.pageError(w, u, http.StatusInternalServerError, err)
		return
	}
	d := payData{Month: month, Prev: from.AddDate(0, -1, 0).Format("2006-01"), Next: from.AddDate(0, 1, 0).Format("2006-01"),
		Rates: rates, RateText: [4]string{l.Money(rates.WeekdayNight), l.Money(rates.Weekend),
			l.Money(rates.Holiday), l.Money(rates.Intervention)}}
	var total int64
	for _, ln := range lines {
		total += ln.Cents
		d.Rows = append(d.Rows, payRow{Line: ln, WeekdayNight: hm(ln.WeekdayNight), Weekend: hm(ln.Weekend),
			Holiday: hm(ln.Holiday), Worked: hm(ln.Worked), Amount: l.Money(ln.Cents)})
	}
	d.Total = l.Money(total)
	s.renderPage(w, http.StatusOK, "pay", &view{Title: l.Pick("Indemnités d'astreinte ", "On-call pay ") + month, Nav: "oncall", User: u, Data: d})
}

type errString string

func (e errString) Error() string { return string(e) }
