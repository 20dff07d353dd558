package main

import (
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
)

func TestReports(t *testing.T) {
	cal := newCal(t, calendar.Config{Closures: []calendar.Closure{{From: "2026-12-24 12:00", To: "2026-12-24 18:00", Label: "Veille de Noël"}}})
	s := newTestSchedule(t, cal)
	ovs := []oncall.ShiftOverride{
		{ID: 1, Replaced: "alice", By: "carol", From: pt("2026-12-24 12:00"), To: pt("2026-12-26 12:00"), Note: "échange"},
		{ID: 2, Replaced: "bob", From: pt("2026-12-28 18:00"), To: pt("2026-12-28 20:00")},
	}
	at := pt("2026-12-25 03:12")
	tests := []struct {
		name  string
		write func(b *strings.Builder)
		want  string // the whole output, or lines it must contain
		exact bool
	}{
		{"who, closed on a holiday", func(b *strings.Builder) {
			writeWho(b, at, cal.StateAt(at, nil), s.WhoAt(at, ovs, nil), paris)
		}, `Now Fri 25 Dec 03:12 CET
Support is CLOSED (holiday: Noël) until Mon 28 Dec 09:00 CET (in 3d 5h)

TIER       ON CALL      CONTACT  UNTIL
primary    Carol Petit           Sat 26 Dec 12:00 CET (in 32h48m)  (override: replaces alice, échange)
secondary  Carol Petit           Fri 25 Dec 08:00 CET (in 4h48m)   (override: replaces alice, échange)
manager    dave                  further notice
`, true},
		{"who, open", func(b *strings.Builder) {
			now := pt("2026-12-28 10:00")
			writeWho(b, now, cal.StateAt(now, nil), s.WhoAt(now, nil, nil), paris)
		}, `Now Mon 28 Dec 10:00 CET
Support is OPEN (opening hours) until Mon 28 Dec 18:00 CET (in 8h)

TIER       ON CALL     CONTACT             UNTIL
primary    (nobody)                        Mon 28 Dec 18:00 CET (in 8h)
secondary  Bob Durand  sip:bob@example.fr  Mon 28 Dec 20:00 CET (in 10h)
manager    dave                            further notice
`, true},
		{"who, no tier", func(b *strings.Builder) {
			writeWho(b, at, cal.StateAt(at, nil), nil, paris)
		}, "No escalation tier configured: nobody is paged.", false},
		{"gaps", func(b *strings.Builder) {
			writeGaps(b, s.Gaps(pt("2026-12-21 00:00"), pt("2027-01-04 00:00"), ovs, nil), paris)
		}, `1 gap: nobody on call while support is closed

TIER     FROM                  TO                    LENGTH
primary  Mon 28 Dec 18:00 CET  Mon 28 Dec 20:00 CET  2h
`, true},
		{"no gap", func(b *strings.Builder) { writeGaps(b, nil, paris) },
			"No gap: someone is on call whenever support is closed.\n", true},
		{"schedule", func(b *strings.Builder) {
			var weekly []oncall.Shift
			for _, sh := range s.Shifts(pt("2026-12-24 00:00"), pt("2027-01-05 00:00"), ovs) {
				if sh.Rotation == "astreinte" {
					weekly = append(weekly, sh)
				}
			}
			writeSchedule(b, weekly, paris)
		}, `ROTATION   ON CALL       FROM                      TO                         LENGTH
astreinte  Alice Martin  Mon 21 Dec 09:00 CET      Thu 24 Dec 12:00 CET       3d 3h
astreinte  Carol Petit   Thu 24 Dec 12:00 CET      Sat 26 Dec 12:00 CET       2d      (override: replaces Alice Martin, échange)
astreinte  Alice Martin  Sat 26 Dec 12:00 CET      Mon 28 Dec 09:00 CET       45h
astreinte  Bob Durand    Mon 28 Dec 09:00 CET      Mon 28 Dec 18:00 CET       9h
astreinte  (nobody)      Mon 28 Dec 18:00 CET      Mon 28 Dec 20:00 CET       2h      (override: replaces Bob Durand)
astreinte  Bob Durand    Mon 28 Dec 20:00 CET      Mon 4 Jan 2027 09:00 CET   6d 13h
astreinte  Carol Petit   Mon 4 Jan 2027 09:00 CET  Mon 11 Jan 2027 09:00 CET  7d
`, true},
		{"periods", func(b *strings.Builder) {
			writePeriods(b, cal.Periods(pt("2026-12-24 00:00"), pt("2026-12-29 00:00"), nil), paris)
		}, `FROM                  TO                    LENGTH  STATE   WHY
Thu 24 Dec 00:00 CET  Thu 24 Dec 09:00 CET  9h      closed  out of hours
Thu 24 Dec 09:00 CET  Thu 24 Dec 12:00 CET  3h      OPEN    opening hours
Thu 24 Dec 12:00 CET  Thu 24 Dec 18:00 CET  6h      closed  closure: Veille de Noël
Thu 24 Dec 18:00 CET  Fri 25 Dec 00:00 CET  6h      closed  out of hours
Fri 25 Dec 00:00 CET  Sat 26 Dec 00:00 CET  24h     closed  holiday: Noël
Sat 26 Dec 00:00 CET  Mon 28 Dec 00:00 CET  2d      closed  weekend
Mon 28 Dec 00:00 CET  Mon 28 Dec 09:00 CET  9h      closed  out of hours
Mon 28 Dec 09:00 CET  Mon 28 Dec 18:00 CET  9h      OPEN    opening hours
Mon 28 Dec 18:00 CET  Tue 29 Dec 00:00 CET  6h      closed  out of hours
`, true},
		{"no shift", func(b *strings.Builder) { writeSchedule(b, nil, paris) }, "No shift in this period.\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			tt.write(&b)
			got := b.String()
			if tt.exact && got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if !tt.exact && !strings.Contains(got, tt.want) {
				t.Errorf("got:\n%s\nwant it to contain:\n%s", got, tt.want)
			}
			for i, line := range strings.Split(got, "\n") {
				if strings.TrimRight(line, " ") != line {
					t.Errorf("line %d has trailing blanks: %q", i+1, line)
				}
			}
		})
	}
}

func TestLength(t *testing.T) {
	for _, tt := range []struct {
		d    string
		want string
	}{{"45m", "45m"}, {"1h", "1h"}, {"5h48m", "5h48m"}, {"47h", "47h"}, {"48h", "2d"}, {"77h12m", "3d 5h"}} {
		d, _ := time.ParseDuration(tt.d)
		if got := length(d); got != tt.want {
			t.Errorf("length(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
