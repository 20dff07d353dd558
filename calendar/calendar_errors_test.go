package calendar

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/astreinte/astreinte"
)

func TestNewCalendarErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"time zone", Config{TimeZone: "Europe/Pariss"}, []string{
			`calendar.timezone: unknown time zone "Europe/Pariss"`,
		}},
		{"hours", Config{Hours: map[string][]string{
			"fryday":    {"09:00-18:00"},
			"wednesday": {"9h-18h", "08:00-25:00"},
			"tuesday":   {"09:00-12:30", "12:00-14:00", "14:00-14:00"},
			"monday":    {"09:00-12:30", "13:30-12:00"},
			"mon":       {"09:00-18:00"},
		}}, []string{
			`calendar.hours.monday[1]: "13:30-12:00": end before start`,
			`calendar.hours.mon: same day as "monday"`,
			`calendar.hours.tuesday[1]: "12:00-14:00" overlaps "09:00-12:30"`,
			`calendar.hours.tuesday[2]: "14:00-14:00": empty interval`,
			`calendar.hours.wednesday[0]: "9h-18h": want HH:MM-HH:MM`,
			`calendar.hours.wednesday[1]: "08:00-25:00": want HH:MM-HH:MM`,
			`calendar.hours.fryday: unknown day (want monday..sunday or mon..sun)`,
		}},
		{"holidays", Config{Holidays: HolidayConfig{
			Country: "XX",
		}}, []string{
			`calendar.holidays.country: unknown country "XX" (supported: AT, BE, CH, DE, ES, FR, FR-ALSACE-MOSELLE, GB, IT, NL, US, none)`,
		}},
		{"extra and ignore", Config{Holidays: HolidayConfig{
			Extra:  []string{"2026-13-01 Oops", "02-30"},
			Ignore: []string{"Lundi de Paques", "Pâques du lundi"},
		}}, []string{
			`calendar.holidays.extra[0]: bad date "2026-13-01" (want YYYY-MM-DD or MM-DD, then an optional label)`,
			`calendar.holidays.extra[1]: bad date "02-30" (want YYYY-MM-DD or MM-DD, then an optional label)`,
			`calendar.holidays.ignore[1]: unknown holiday "Pâques du lundi" (known: Nouvel an, Lundi de Pâques, Fête du Travail, Fête de la Victoire, Ascension, Lundi de Pentecôte, Fête Nationale, Assomption, Toussaint, Armistice de 1918, Noël)`,
		}},
		{"closures and openings", Config{
			Closures: []Closure{
				{From: "2026-08-21", To: "2026-08-10"},
				{From: "2026-08-32"},
				{From: "2026-12-24 12:00"},
				{From: "2026-12-24 12:00", To: "2026-12-24 11:00"},
				{From: "2026-12-24", To: "2026-12-24 25:00"},
			},
			Openings: []Opening{
				{Date: "14/05/2026", Hours: []string{"09:00-12:00"}},
				{Date: "2026-06-06"},
				{Date: "2026-05-14", Hours: []string{"12:00-09:00"}},
				{Date: "2026-05-15", Hours: []string{"09:00-12:00"}},
				{Date: "2026-05-15", Hours: []string{"14:00-16:00"}},
			},
		}, []string{
			`calendar.closures[0].to: "2026-08-10" before from "2026-08-21"`,
			`calendar.closures[1].from: bad date "2026-08-32" (want YYYY-MM-DD or YYYY-MM-DD HH:MM)`,
			`calendar.closures[2].to: required when from has a time`,
			`calendar.closures[3].to: "2026-12-24 11:00" before from "2026-12-24 12:00"`,
			`calendar.closures[4].to: bad date "2026-12-24 25:00" (want YYYY-MM-DD or YYYY-MM-DD HH:MM)`,
			`calendar.openings[0].date: bad date "14/05/2026" (want YYYY-MM-DD)`,
			`calendar.openings[1].hours: required: saturday has no regular hours`,
			`calendar.openings[2].hours[0]: "12:00-09:00": end before start`,
			`calendar.openings[4].date: 2026-05-15: opening already defined for that day`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if err == nil {
				t.Fatalf("New = %v, want an error", c)
			}
			var fe astreinte.FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not astreinte.FieldErrors", err)
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestCalendarFromYAML(t *testing.T) {
	const doc = `
timezone: Europe/Paris
hours:
  monday: ["09:00-12:30", "13:30-18:00"]
  tue: ["09:00-18:00"]
holidays:
  country: FR-ALSACE-MOSELLE
  extra: ["11-02 Lendemain de Toussaint"]
  ignore: ["Lundi de Pentecôte"]
closures:
  - {from: 2026-08-10, to: 2026-08-21, label: Fermeture annuelle}
  - {from: "2026-12-24 12:00", to: "2026-12-24 18:00"}
openings:
  - {date: 2026-05-14, hours: ["09:00-12:00"], label: Permanence}
`
	var cfg Config
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	c := newCal(t, cfg)
	tests := []struct {
		at   string
		want State
	}{
		{"2026-08-11 10:00", State{Reason: ReasonClosure, Label: "Fermeture annuelle"}},
		{"2026-05-14 10:00", State{Open: true, Reason: ReasonOpening, Label: "Permanence"}},
		{"2026-11-02 10:00", State{Reason: ReasonHoliday, Label: "Lendemain de Toussaint"}},
		{"2026-04-03 10:00", State{Reason: ReasonHoliday, Label: "Vendredi saint"}},
		{"2026-12-24 13:00", State{Reason: ReasonClosure, Label: "Closure"}},
		{"2026-12-24 18:00", State{Reason: ReasonWeekend}}, // a Thursday: no hours in this config
		{"2026-05-25 10:00", State{Open: true, Reason: ReasonHours}},
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			checkState(t, c.StateAt(pt(tt.at), nil), tt.want)
		})
	}
}

func TestFieldErrors(t *testing.T) {
	var errs astreinte.FieldErrors
	if errs.Err() != nil {
		t.Fatal("empty astreinte.FieldErrors.Err() != nil")
	}
	errs.Add("web.listen", "bad address %q", ":99999")
	_, calErr := New(Config{TimeZone: "Mars/Olympus"})
	errs.Append(calErr)
	errs.Append(fmt.Errorf("read config: %w", astreinte.FieldError{Path: "store.path", Msg: "required"}))
	errs.Append(errors.New("plain"))
	errs.Append(nil)
	want := "web.listen: bad address \":99999\"\ncalendar.timezone: unknown time zone \"Mars/Olympus\"\nstore.path: required\nplain"
	if got := errs.Err().Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	var one astreinte.FieldError
	if !errors.As(errs.Err(), &one) || one.Path != "web.listen" {
		t.Errorf("errors.As(astreinte.FieldError) = %v", one)
	}
}
