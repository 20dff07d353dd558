package calendar

import (
	"testing"
	"time"
)

var paris = mustLoad("Europe/Paris")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// pt parses "2006-01-02 15:04" as Paris wall-clock time.
func pt(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
	if err != nil {
		panic(err)
	}
	return t
}

func newCal(t *testing.T, cfg Config) *Calendar {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// checkState compares the parts of a State a test cares about; zero
// want.Since / want.Until are not checked.
func checkState(t *testing.T, got, want State) {
	t.Helper()
	if got.Open != want.Open || got.Reason != want.Reason || got.Label != want.Label {
		t.Errorf("state = {%v %s %q}, want {%v %s %q}", got.Open, got.Reason, got.Label, want.Open, want.Reason, want.Label)
	}
	if !want.Since.IsZero() && !got.Since.Equal(want.Since) {
		t.Errorf("Since = %v, want %v", got.Since, want.Since)
	}
	if !want.Until.IsZero() && !got.Until.Equal(want.Until) {
		t.Errorf("Until = %v, want %v", got.Until, want.Until)
	}
}

func TestStateAtDefaultCalendar(t *testing.T) {
	c := newCal(t, Config{})
	ny := mustLoad("America/New_York")
	tests := []struct {
		name string
		at   time.Time
		want State
	}{
		{"friday morning", pt("2026-03-27 10:00"), State{Open: true, Reason: ReasonHours, Since: pt("2026-03-27 09:00"), Until: pt("2026-03-27 18:00")}},
		{"friday closing", pt("2026-03-27 18:00"), State{Reason: ReasonOutOfHours, Since: pt("2026-03-27 18:00"), Until: pt("2026-03-30 09:00")}},
		{"sunday of spring DST change", pt("2026-03-29 12:00"), State{Reason: ReasonWeekend, Since: pt("2026-03-27 18:00"), Until: pt("2026-03-30 09:00")}},
		{"monday after spring change", pt("2026-03-30 09:00"), State{Open: true, Reason: ReasonHours, Since: pt("2026-03-30 09:00"), Until: pt("2026-03-30 18:00")}},
		{"monday before spring change", pt("2026-03-30 08:59"), State{Reason: ReasonOutOfHours, Until: pt("2026-03-30 09:00")}},
		{"sunday of autumn DST change", pt("2026-10-25 02:30"), State{Reason: ReasonWeekend, Since: pt("2026-10-23 18:00"), Until: pt("2026-10-26 09:00")}},
		{"monday after autumn change", pt("2026-10-26 09:00"), State{Open: true, Reason: ReasonHours, Until: pt("2026-10-26 18:00")}},
		{"UTC input, summer time", time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC), State{Open: true, Reason: ReasonHours}},
		{"UTC input, one minute early", time.Date(2026, 3, 30, 6, 59, 0, 0, time.UTC), State{Reason: ReasonOutOfHours}},
		{"UTC input, winter time", time.Date(2026, 10, 26, 7, 30, 0, 0, time.UTC), State{Reason: ReasonOutOfHours, Until: time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC)}},
		{"New York input", time.Date(2026, 7, 13, 3, 0, 0, 0, ny), State{Open: true, Reason: ReasonHours}},
		{"Fête nationale on a Tuesday", pt("2026-07-14 10:00"), State{Reason: ReasonHoliday, Label: "Fête Nationale", Since: pt("2026-07-13 18:00"), Until: pt("2026-07-15 09:00")}},
		{"evening before the holiday", pt("2026-07-13 20:00"), State{Reason: ReasonOutOfHours, Until: pt("2026-07-15 09:00")}},
		{"1 May on a Friday", pt("2026-05-01 11:00"), State{Reason: ReasonHoliday, Label: "Fête du Travail", Until: pt("2026-05-04 09:00")}},
		{"Christmas", pt("2026-12-25 15:00"), State{Reason: ReasonHoliday, Label: "Noël", Until: pt("2026-12-28 09:00")}},
		{"Toussaint on a Sunday", pt("2026-11-01 10:00"), State{Reason: ReasonHoliday, Label: "Toussaint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkState(t, c.StateAt(tt.at, nil), tt.want)
		})
	}
}

func TestHolidays(t *testing.T) {
	tests := []struct {
		name    string
		cfg     HolidayConfig
		day     string
		want    string // "" for not a holiday
		country string
	}{
		{name: "Easter Monday 2025", day: "2025-04-21", want: "Lundi de Pâques"},
		{name: "Easter Monday 2026", day: "2026-04-06", want: "Lundi de Pâques"},
		{name: "Easter Monday 2027", day: "2027-03-29", want: "Lundi de Pâques"},
		{name: "Ascension 2026", day: "2026-05-14", want: "Ascension"},
		{name: "Whit Monday 2026", day: "2026-05-25", want: "Lundi de Pentecôte"},
		{name: "8 May", day: "2026-05-08", want: "Fête de la Victoire"},
		{name: "11 November", day: "2026-11-11", want: "Armistice de 1918"},
		{name: "Good Friday is not a French holiday", day: "2026-04-03"},
		{name: "26 December is not a French holiday", day: "2026-12-26"},
		{name: "Alsace-Moselle Good Friday", cfg: HolidayConfig{Country: "FR-ALSACE-MOSELLE"}, day: "2026-04-03", want: "Vendredi saint"},
		{name: "Alsace-Moselle Good Friday 2027", cfg: HolidayConfig{Country: "fr-alsace-moselle"}, day: "2027-03-26", want: "Vendredi saint"},
		{name: "Alsace-Moselle St Stephen", cfg: HolidayConfig{Country: "FR-ALSACE-MOSELLE"}, day: "2026-12-26", want: "Saint-Étienne"},
		{name: "Alsace-Moselle keeps national days", cfg: HolidayConfig{Country: "FR-ALSACE-MOSELLE"}, day: "2026-07-14", want: "Fête Nationale"},
		{name: "ignored by name without accents", cfg: HolidayConfig{Ignore: []string{"lundi de pentecote"}}, day: "2026-05-25"},
		{name: "ignored by date", cfg: HolidayConfig{Ignore: []string{"2026-05-25"}}, day: "2026-05-25"},
		{name: "ignored by date, other year kept", cfg: HolidayConfig{Ignore: []string{"2026-05-25"}}, day: "2027-05-17", want: "Lundi de Pentecôte"},
		{name: "ignored yearly", cfg: HolidayConfig{Ignore: []string{"05-01"}}, day: "2027-05-01"},
		{name: "extra yearly with label", cfg: HolidayConfig{Extra: []string{"11-02 Lendemain de Toussaint"}}, day: "2027-11-02", want: "Lendemain de Toussaint"},
		{name: "extra fixed without label", cfg: HolidayConfig{Extra: []string{"2026-12-24"}}, day: "2026-12-24", want: "Jour férié"},
		{name: "extra fixed, other year", cfg: HolidayConfig{Extra: []string{"2026-12-24"}}, day: "2027-12-24"},
		{name: "none", cfg: HolidayConfig{Country: "none"}, day: "2026-12-25"},
		{name: "GB observed Christmas", cfg: HolidayConfig{Country: "GB"}, day: "2027-12-27", want: "Christmas Day (observed)"},
		{name: "GB actual Christmas", cfg: HolidayConfig{Country: "GB"}, day: "2027-12-25", want: "Christmas Day"},
		{name: "DE Reunification", cfg: HolidayConfig{Country: "DE"}, day: "2026-10-03", want: "Tag der Deutschen Einheit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCal(t, Config{Holidays: tt.cfg})
			got, ok := c.Holiday(pt(tt.day + " 12:00"))
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Holiday(%s) = %q, %v; want %q", tt.day, got, ok, tt.want)
			}
		})
	}
}

func TestHolidayUsesCalendarZone(t *testing.T) {
	c := newCal(t, Config{})
	// 13 July 23:30 in UTC is already 14 July in Paris.
	if name, ok := c.Holiday(time.Date(2026, 7, 13, 23, 30, 0, 0, time.UTC)); !ok || name != "Fête Nationale" {
		t.Errorf("Holiday = %q, %v; want Fête Nationale", name, ok)
	}
}

func TestPeriodsAcrossDST(t *testing.T) {
	allWeek := map[string][]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		allWeek[d] = []string{"09:00-18:00"}
	}
	tests := []struct {
		name     string
		cfg      Config
		from, to time.Time
		want     []time.Duration // lengths of the periods, in absolute time
		reasons  []Reason
	}{
		{"spring night, open every day", Config{Hours: allWeek}, pt("2026-03-28 18:00"), pt("2026-03-29 09:00"),
			[]time.Duration{14 * time.Hour}, []Reason{ReasonOutOfHours}},
		{"autumn night, open every day", Config{Hours: allWeek}, pt("2026-10-24 17:00"), pt("2026-10-25 10:00"),
			[]time.Duration{time.Hour, 16 * time.Hour, time.Hour}, []Reason{ReasonHours, ReasonOutOfHours, ReasonHours}},
		{"spring weekend", Config{}, pt("2026-03-27 18:00"), pt("2026-03-30 09:00"),
			[]time.Duration{6 * time.Hour, 47 * time.Hour, 9 * time.Hour}, []Reason{ReasonOutOfHours, ReasonWeekend, ReasonOutOfHours}},
		{"autumn weekend", Config{}, pt("2026-10-23 18:00"), pt("2026-10-26 09:00"),
			[]time.Duration{6 * time.Hour, 49 * time.Hour, 9 * time.Hour}, []Reason{ReasonOutOfHours, ReasonWeekend, ReasonOutOfHours}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCal(t, tt.cfg)
			ps := c.Periods(tt.from, tt.to, nil)
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d periods %v, want %d", len(ps), ps, len(tt.want))
			}
			var total time.Duration
			for i, p := range ps {
				if d := p.End.Sub(p.Start); d != tt.want[i] || p.State.Reason != tt.reasons[i] {
					t.Errorf("period %d: %s %s, want %s %s", i, d, p.State.Reason, tt.want[i], tt.reasons[i])
				}
				total += p.End.Sub(p.Start)
			}
			if !ps[0].Start.Equal(tt.from) || !ps[len(ps)-1].End.Equal(tt.to) || total != tt.to.Sub(tt.from) {
				t.Errorf("periods do not tile [%v, %v)", tt.from, tt.to)
			}
		})
	}
}

func TestClosures(t *testing.T) {
	c := newCal(t, Config{Closures: []Closure{
		{From: "2026-08-10", To: "2026-08-21", Label: "Fermeture annuelle"},
		{From: "2026-12-24 12:00", To: "2026-12-24 18:00", Label: "Veille de Noël"},
		{From: "2026-06-05", Label: "Séminaire"},
	}})
	tests := []struct {
		name string
		at   time.Time
		want State
	}{
		{"first day", pt("2026-08-10 10:00"), State{Reason: ReasonClosure, Label: "Fermeture annuelle", Since: pt("2026-08-07 18:00"), Until: pt("2026-08-24 09:00")}},
		{"weekend inside the closure", pt("2026-08-16 10:00"), State{Reason: ReasonClosure, Label: "Fermeture annuelle"}},
		{"holiday inside the closure", pt("2026-08-15 10:00"), State{Reason: ReasonClosure, Label: "Fermeture annuelle"}},
		{"last day, evening", pt("2026-08-21 23:59"), State{Reason: ReasonClosure, Label: "Fermeture annuelle"}},
		{"weekend after", pt("2026-08-22 00:00"), State{Reason: ReasonWeekend, Until: pt("2026-08-24 09:00")}},
		{"morning before a timed closure", pt("2026-12-24 11:00"), State{Open: true, Reason: ReasonHours, Until: pt("2026-12-24 12:00")}},
		{"timed closure, then Christmas and a weekend", pt("2026-12-24 12:00"), State{Reason: ReasonClosure, Label: "Veille de Noël", Since: pt("2026-12-24 12:00"), Until: pt("2026-12-28 09:00")}},
		{"after the timed closure", pt("2026-12-24 19:00"), State{Reason: ReasonOutOfHours}},
		{"single-day closure", pt("2026-06-05 10:00"), State{Reason: ReasonClosure, Label: "Séminaire", Until: pt("2026-06-08 09:00")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkState(t, c.StateAt(tt.at, nil), tt.want)
		})
	}

	t.Run("periods of a closure spanning weekends", func(t *testing.T) {
		ps := c.Periods(pt("2026-08-07 18:00"), pt("2026-08-24 09:00"), nil)
		want := []struct {
			start  time.Time
			reason Reason
		}{
			{pt("2026-08-07 18:00"), ReasonOutOfHours},
			{pt("2026-08-08 00:00"), ReasonWeekend},
			{pt("2026-08-10 00:00"), ReasonClosure},
			{pt("2026-08-22 00:00"), ReasonWeekend},
			{pt("2026-08-24 00:00"), ReasonOutOfHours},
		}
		if len(ps) != len(want) {
			t.Fatalf("got %d periods, want %d: %v", len(ps), len(want), ps)
		}
		for i, w := range want {
			if !ps[i].Start.Equal(w.start) || ps[i].State.Reason != w.reason {
				t.Errorf("period %d = %v %s, want %v %s", i, ps[i].Start, ps[i].State.Reason, w.start, w.reason)
			}
			if !ps[i].State.Since.Equal(pt("2026-08-07 18:00")) || !ps[i].State.Until.Equal(pt("2026-08-24 09:00")) {
				t.Errorf("period %d: since %v until %v, want the closed stretch's edges", i, ps[i].State.Since, ps[i].State.Until)
			}
		}
	})
}

func TestOpenings(t *testing.T) {
	c := newCal(t, Config{
		Closures: []Closure{{From: "2026-08-10", To: "2026-08-21", Label: "Fermeture annuelle"}},
		Openings: []Opening{
			{Date: "2026-05-14", Hours: []string{"09:00-12:00"}, Label: "Permanence Ascension"},
			{Date: "2026-06-06", Hours: []string{"10:00-12:00"}, Label: "Samedi migration"},
			{Date: "2026-08-17"}, // a Monday: regular hours
			{Date: "2026-07-01", Hours: []string{"09:00-12:00"}, Label: "Inventaire"},
		},
	})
	tests := []struct {
		name string
		at   time.Time
		want State
	}{
		{"on a holiday", pt("2026-05-14 10:00"), State{Open: true, Reason: ReasonOpening, Label: "Permanence Ascension", Since: pt("2026-05-14 09:00"), Until: pt("2026-05-14 12:00")}},
		{"holiday afternoon", pt("2026-05-14 13:00"), State{Reason: ReasonHoliday, Label: "Ascension", Until: pt("2026-05-15 09:00")}},
		{"holiday before opening", pt("2026-05-14 08:00"), State{Reason: ReasonHoliday, Label: "Ascension", Until: pt("2026-05-14 09:00")}},
		{"on a Saturday", pt("2026-06-06 11:00"), State{Open: true, Reason: ReasonOpening, Label: "Samedi migration"}},
		{"Saturday afternoon", pt("2026-06-06 14:00"), State{Reason: ReasonWeekend, Until: pt("2026-06-08 09:00")}},
		{"during a closure, regular hours", pt("2026-08-17 17:00"), State{Open: true, Reason: ReasonOpening, Label: "Exceptional opening", Until: pt("2026-08-17 18:00")}},
		{"evening of that day is still closure", pt("2026-08-17 19:00"), State{Reason: ReasonClosure, Label: "Fermeture annuelle"}},
		{"shortened weekday", pt("2026-07-01 14:00"), State{Reason: ReasonOutOfHours, Since: pt("2026-07-01 12:00"), Until: pt("2026-07-02 09:00")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkState(t, c.StateAt(tt.at, nil), tt.want)
		})
	}
}

func TestOverride(t *testing.T) {
	c := newCal(t, Config{})
	closed := &Override{Open: false, Until: pt("2026-03-30 12:00"), Reason: "Panne électrique", SetAt: pt("2026-03-30 09:30")}
	open := &Override{Open: true, Until: pt("2026-03-28 14:00"), Reason: "Migration", SetAt: pt("2026-03-28 08:00")}
	noSetAt := &Override{Open: false, Until: pt("2026-03-30 12:00")}
	tests := []struct {
		name string
		at   time.Time
		o    *Override
		want State
	}{
		{"forced closed", pt("2026-03-30 10:00"), closed, State{Reason: ReasonForcedClosed, Label: "Panne électrique", Since: pt("2026-03-30 09:30"), Until: pt("2026-03-30 12:00")}},
		{"forced closed before it was set", pt("2026-03-30 09:10"), closed, State{Reason: ReasonForcedClosed, Label: "Panne électrique"}},
		{"forced closed over a closed night", pt("2026-03-30 07:00"), closed, State{Reason: ReasonForcedClosed, Until: pt("2026-03-30 12:00"), Label: "Panne électrique"}},
		{"expired", pt("2026-03-30 12:00"), closed, State{Open: true, Reason: ReasonHours, Since: pt("2026-03-30 12:00"), Until: pt("2026-03-30 18:00")}},
		{"expired later", pt("2026-03-30 20:00"), closed, State{Reason: ReasonOutOfHours, Since: pt("2026-03-30 18:00"), Until: pt("2026-03-31 09:00")}},
		{"forced open on a Saturday", pt("2026-03-28 10:00"), open, State{Open: true, Reason: ReasonForcedOpen, Label: "Migration", Since: pt("2026-03-28 08:00"), Until: pt("2026-03-28 14:00")}},
		{"after forced open", pt("2026-03-28 15:00"), open, State{Reason: ReasonWeekend, Since: pt("2026-03-28 14:00"), Until: pt("2026-03-30 09:00")}},
		{"without SetAt", pt("2026-03-30 10:00"), noSetAt, State{Reason: ReasonForcedClosed, Until: pt("2026-03-30 12:00")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkState(t, c.StateAt(tt.at, tt.o), tt.want)
		})
	}

	t.Run("NextOpen", func(t *testing.T) {
		for _, tc := range []struct {
			at   time.Time
			o    *Override
			want time.Time
		}{
			{pt("2026-03-27 20:00"), nil, pt("2026-03-30 09:00")},
			{pt("2026-03-30 10:00"), nil, pt("2026-03-30 10:00")},
			{pt("2026-03-30 08:00"), closed, pt("2026-03-30 12:00")},
			{pt("2026-03-28 07:00"), open, pt("2026-03-28 07:00")},
		} {
			if got := c.NextOpen(tc.at, tc.o); !got.Equal(tc.want) {
				t.Errorf("NextOpen(%v) = %v, want %v", tc.at, got, tc.want)
			}
		}
	})

	t.Run("Periods", func(t *testing.T) {
		ps := c.Periods(pt("2026-03-30 00:00"), pt("2026-03-31 00:00"), closed)
		want := []struct {
			start  time.Time
			reason Reason
		}{
			{pt("2026-03-30 00:00"), ReasonForcedClosed},
			{pt("2026-03-30 12:00"), ReasonHours},
			{pt("2026-03-30 18:00"), ReasonOutOfHours},
		}
		if len(ps) != len(want) {
			t.Fatalf("got %v", ps)
		}
		for i, w := range want {
			if !ps[i].Start.Equal(w.start) || ps[i].State.Reason != w.reason {
				t.Errorf("period %d = %v %s, want %v %s", i, ps[i].Start, ps[i].State.Reason, w.start, w.reason)
			}
		}
	})
}

func TestAlwaysClosed(t *testing.T) {
	c := newCal(t, Config{Hours: map[string][]string{}})
	st := c.StateAt(pt("2026-03-30 10:00"), nil)
	checkState(t, st, State{Reason: ReasonWeekend})
	if !st.Until.IsZero() || !st.Since.IsZero() {
		t.Errorf("Since, Until = %v, %v; want zero (no boundary within the search)", st.Since, st.Until)
	}
	if got := c.NextOpen(pt("2026-03-30 10:00"), nil); !got.IsZero() {
		t.Errorf("NextOpen = %v, want zero", got)
	}
}

func TestLunchBreakAndHourForms(t *testing.T) {
	c := newCal(t, Config{TimeZone: "Europe/Brussels", Holidays: HolidayConfig{Country: "BE"}, Hours: map[string][]string{
		"Monday": {"13:30-18:00", "9:00-12:30"}, "fri": {"09:00-17:00"}, "samedi": {"10:00-24:00"},
	}})
	bxl := c.Location()
	at := func(s string) time.Time {
		t, _ := time.ParseInLocation("2006-01-02 15:04", s, bxl)
		return t
	}
	checkState(t, c.StateAt(at("2026-03-30 12:45"), nil), State{Reason: ReasonOutOfHours, Since: at("2026-03-30 12:30"), Until: at("2026-03-30 13:30")})
	checkState(t, c.StateAt(at("2026-03-31 10:00"), nil), State{Reason: ReasonWeekend, Until: at("2026-04-03 09:00")})
	checkState(t, c.StateAt(at("2026-04-04 23:00"), nil), State{Open: true, Reason: ReasonHours, Until: at("2026-04-05 00:00")})
	checkState(t, c.StateAt(at("2026-04-06 10:00"), nil), State{Reason: ReasonHoliday, Label: "Paasmaandag"})
}

// overridesAround are no override, and the line forced closed and forced
// open for some days around base, to try a calendar's answers under.
func overridesAround(base time.Time) map[string]*Override {
	return map[string]*Override{
		"none":          nil,
		"forced closed": {Open: false, Until: base.Add(100 * time.Hour), Reason: "incident", SetAt: base.Add(-time.Hour)},
		"forced open":   {Open: true, Until: base.Add(250 * time.Hour), Reason: "astreinte renforcée", SetAt: base.Add(30 * time.Hour)},
	}
}

// benchCal is a calendar a per-call benchmark runs on.
type benchCal struct {
	name string
	cal  *Calendar
}

// benchCalendars are a line never open (the load benchmark's) and the
// default week.
func benchCalendars(b *testing.B) []benchCal {
	var out []benchCal
	for _, name := range []string{"never-open", "default"} {
		cfg := Config{}
		if name == "never-open" {
			cfg = Config{Hours: map[string][]string{}, Holidays: HolidayConfig{Country: "none"}}
		}
		c, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, benchCal{name, c})
	}
	return out
}

// TestAtAgreesWithStateAt: At, the call's decision, says what StateAt says
// of the instant (open, reason, label) every 23 minutes over four weeks, for
// calendars never open, always open, with hours, holidays, closures and
// openings, with and without overrides.
func TestAtAgreesWithStateAt(t *testing.T) {
	base := time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC)
	cfgs := map[string]Config{
		"default":     {},
		"never open":  {Hours: map[string][]string{}, Holidays: HolidayConfig{Country: "none"}},
		"always open": {Hours: map[string][]string{"mon": {"00:00-24:00"}, "tue": {"00:00-24:00"}, "wed": {"00:00-24:00"}, "thu": {"00:00-24:00"}, "fri": {"00:00-24:00"}, "sat": {"00:00-24:00"}, "sun": {"00:00-24:00"}}, Holidays: HolidayConfig{Country: "none"}},
		"split hours": {Hours: map[string][]string{"lundi": {"09:00-12:30", "13:30-18:00"}, "samedi": {"10:00-12:00"}}},
		"closures":    {Closures: []Closure{{From: "2026-12-24", To: "2026-12-31", Label: "fermeture annuelle"}, {From: "2027-01-05 14:00", To: "2027-01-05 16:30", Label: "formation"}}, Openings: []Opening{{Date: "2026-12-28"}}},
		"other zone":  {TimeZone: "America/Montreal"},
	}
	overrides := overridesAround(base)
	for name, cfg := range cfgs {
		c := newCal(t, cfg)
		for oname, o := range overrides {
			for at := base; at.Before(base.Add(4 * 7 * 24 * time.Hour)); at = at.Add(23 * time.Minute) {
				want := c.StateAt(at, o)
				want.Since, want.Until = time.Time{}, time.Time{}
				if got := c.At(at, o); got != want {
					t.Fatalf("%s, override %s, at %v: At = %+v, StateAt = %+v", name, oname, at, got, want)
				}
			}
		}
	}
}

// BenchmarkAt is the call's calendar decision, At, beside StateAt, which
// also finds the boundaries: on a line never open (the load benchmark's)
// and on the default week.
func BenchmarkAt(b *testing.B) {
	at := time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)
	for _, cfg := range benchCalendars(b) {
		c := cfg.cal
		b.Run(cfg.name+"/At", func(b *testing.B) {
			for b.Loop() {
				c.At(at, nil)
			}
		})
		b.Run(cfg.name+"/StateAt", func(b *testing.B) {
			for b.Loop() {
				c.StateAt(at, nil)
			}
		})
	}
}

// TestNextOpenNeverOpen: on calendars without regular hours, NextOpen and
// AddBusinessDays answer as the 400-day search does, which a calendar with
// nothing to open on skips; an override forcing the line open still opens it.
func TestNextOpenNeverOpen(t *testing.T) {
	base := time.Date(2026, 12, 14, 3, 0, 0, 0, time.UTC)
	cfgs := map[string]Config{
		"never open":          {Hours: map[string][]string{}, Holidays: HolidayConfig{Country: "none"}},
		"never open, closure": {Hours: map[string][]string{}, Closures: []Closure{{From: "2026-12-24", Label: "Noël"}}},
		"one opening":         {Hours: map[string][]string{"mon": {"09:00-12:00"}}, Openings: []Opening{{Date: "2026-12-20", Hours: []string{"10:00-11:00"}}}},
	}
	overrides := overridesAround(base)
	for name, cfg := range cfgs {
		c := newCal(t, cfg)
		for oname, o := range overrides {
			for at := base; at.Before(base.Add(3 * 7 * 24 * time.Hour)); at = at.Add(7 * time.Hour) {
				var want time.Time
				for s := range c.forward(at, o, searchDays) {
					if s.open {
						want = s.start
						break
					}
				}
				if got := c.NextOpen(at, o); !got.Equal(want) {
					t.Fatalf("%s, override %s, at %v: NextOpen = %v, the search %v", name, oname, at, got, want)
				}
			}
		}
		if name != "one opening" && !c.AddBusinessDays(base, 2).IsZero() {
			t.Errorf("%s: AddBusinessDays = %v; want zero (never a business day)", name, c.AddBusinessDays(base, 2))
		}
	}
	if c := newCal(t, cfgs["one opening"]); c.never {
		t.Error("a calendar with hours is taken for one never open")
	}
}

// BenchmarkNextOpen is the due-date's first step (tickets.Plan →
// AddBusinessDays) on a line never open and on the default week.
func BenchmarkNextOpen(b *testing.B) {
	at := time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC)
	for _, cfg := range benchCalendars(b) {
		c := cfg.cal
		b.Run(cfg.name, func(b *testing.B) {
			for b.Loop() {
				c.AddBusinessDays(at, 1)
			}
		})
	}
}
