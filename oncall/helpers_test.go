package oncall

import (
	"testing"
	"time"

	"github.com/astreinte/astreinte/calendar"
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

func newCal(t *testing.T, cfg calendar.Config) *calendar.Calendar {
	t.Helper()
	c, err := calendar.New(cfg)
	if err != nil {
		t.Fatalf("calendar.New: %v", err)
	}
	return c
}
