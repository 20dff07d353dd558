package oncall

import "github.com/astreinte/astreinte/calendar/calendartest"

var (
	paris  = calendartest.Paris
	pt     = calendartest.At
	newCal = calendartest.New
)
