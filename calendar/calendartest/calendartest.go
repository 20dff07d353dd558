// Package calendartest gives tests the calendar's usual fixtures: Paris
// time, wall-clock times written as in the configuration, and calendars.
package calendartest

import (
	"testing"
	"time"

	"github.com/astreinte/astreinte/calendar"
)

// Paris is Europe/Paris, the default calendar's zone.
var Paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}()

// At parses "2006-01-02 15:04" as Paris wall-clock time; it panics on a
// malformed time (a mistake in the test itself).
func At(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Paris)
	if err != nil {
		panic(err)
	}
	return t
}

// New returns the calendar of cfg, failing the test if cfg is invalid.
func New(t testing.TB, cfg calendar.Config) *calendar.Calendar {
	t.Helper()
	c, err := calendar.New(cfg)
	if err != nil {
		t.Fatalf("calendar.New: %v", err)
	}
	return c
}
