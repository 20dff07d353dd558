package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
)

// Text reports for the command line. Times are shown in loc (the
// calendar's zone) with the weekday and zone abbreviation; the year only
// when it differs from the report's reference time. Write errors are left
// to the writer (a terminal, a buffer).

// clock formats t in loc, with the year if it is not ref's.
func clock(t time.Time, loc *time.Location, ref time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if loc != nil {
		t, ref = t.In(loc), ref.In(loc)
	}
	if t.Year() != ref.Year() {
		return t.Format("Mon 2 Jan 2006 15:04 MST")
	}
	return t.Format("Mon 2 Jan 15:04 MST")
}

// length formats a duration for people: "45m", "5h30m", "3d 4h".
func length(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < 48*time.Hour:
		h, m := d/time.Hour, (d%time.Hour)/time.Minute
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%02dm", h, m)
	}
	days, h := d/(24*time.Hour), (d%(24*time.Hour))/time.Hour
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// until formats "Mon 24 Nov 09:00 CET (in 5h48m)" relative to at.
func until(t time.Time, loc *time.Location, at time.Time) string {
	if t.IsZero() {
		return "further notice"
	}
	s := clock(t, loc, at)
	if t.After(at) {
		s += " (in " + length(t.Sub(at)) + ")"
	}
	return s
}

func contact(p oncall.Person) string {
	var parts []string
	for _, c := range []string{p.SIP, p.Phone, p.Email} {
		if c != "" {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, "  ")
}

// table aligns cells in columns and trims trailing blanks.
type table struct {
	buf strings.Builder
	tw  *tabwriter.Writer
}

func newTable() *table {
	t := &table{}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *table) writeTo(w io.Writer) {
	t.tw.Flush()
	for line := range strings.Lines(t.buf.String()) {
		io.WriteString(w, strings.TrimRight(line, " \n")+"\n")
	}
}

// overrideNote describes an override, naming the replaced technician with
// names, an id → name map built from the report's own rows.
func overrideNote(o *oncall.ShiftOverride, names map[string]string) string {
	if o == nil {
		return ""
	}
	who := o.Replaced
	if n, ok := names[who]; ok {
		who = n
	}
	s := "(override: replaces " + who
	if o.Note != "" {
		s += ", " + o.Note
	}
	return s + ")"
}

// WriteWho writes whether support is open at at and who is on call, tier
// by tier, with how to reach them and until when.
func writeWho(w io.Writer, at time.Time, st calendar.State, who []oncall.OnCall, loc *time.Location) {
	word := "CLOSED"
	if st.Open {
		word = "OPEN"
	}
	fmt.Fprintf(w, "Now %s\n", clock(at, loc, at))
	fmt.Fprintf(w, "Support is %s (%s) until %s\n\n", word, st.Why(), until(st.Until, loc, at))
	if len(who) == 0 {
		fmt.Fprintln(w, "No escalation tier configured: nobody is paged.")
		return
	}
	names := map[string]string{}
	for _, oc := range who {
		if oc.Person.ID != "" {
			names[oc.Person.ID] = oc.Person.Name
		}
	}
	tw := newTable()
	tw.row("TIER", "ON CALL", "CONTACT", "UNTIL")
	for _, oc := range who {
		name := oc.Person.Name
		if oc.Person.ID == "" {
			name = "(nobody)"
		}
		tw.row(oc.Tier, name, contact(oc.Person), until(oc.Until, loc, at), overrideNote(oc.Override, names))
	}
	tw.writeTo(w)
}

// WriteSchedule writes shifts as a table: rotation, who, from, to, and the
// override that made the shift, if any.
func writeSchedule(w io.Writer, shifts []oncall.Shift, loc *time.Location) {
	if len(shifts) == 0 {
		fmt.Fprintln(w, "No shift in this period.")
		return
	}
	ref := shifts[0].From
	names := map[string]string{}
	for _, sh := range shifts {
		if sh.Person.ID != "" {
			names[sh.Person.ID] = sh.Person.Name
		}
	}
	tw := newTable()
	tw.row("ROTATION", "ON CALL", "FROM", "TO", "LENGTH")
	for _, sh := range shifts {
		name := sh.Person.Name
		if sh.Person.ID == "" {
			name = "(nobody)"
		}
		tw.row(sh.Rotation, name, clock(sh.From, loc, ref), clock(sh.To, loc, ref),
			length(sh.To.Sub(sh.From)), overrideNote(sh.Override, names))
	}
	tw.writeTo(w)
}

// WriteGaps writes the gaps in on-call coverage, or a line saying there
// is none.
func writeGaps(w io.Writer, gaps []oncall.Gap, loc *time.Location) {
	if len(gaps) == 0 {
		fmt.Fprintln(w, "No gap: someone is on call whenever support is closed.")
		return
	}
	plural := "s"
	if len(gaps) == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "%d gap%s: nobody on call while support is closed\n\n", len(gaps), plural)
	ref := gaps[0].From
	tw := newTable()
	tw.row("TIER", "FROM", "TO", "LENGTH")
	for _, g := range gaps {
		tier := g.Tier
		if tier == "" {
			tier = "(no tier)"
		}
		tw.row(tier, clock(g.From, loc, ref), clock(g.To, loc, ref), length(g.To.Sub(g.From)))
	}
	tw.writeTo(w)
}

// WritePeriods writes open and closed periods with their reasons
// (holiday and closure names included).
func writePeriods(w io.Writer, ps []calendar.Period, loc *time.Location) {
	if len(ps) == 0 {
		fmt.Fprintln(w, "No period.")
		return
	}
	ref := ps[0].Start
	tw := newTable()
	tw.row("FROM", "TO", "LENGTH", "STATE", "WHY")
	for _, p := range ps {
		state := "closed"
		if p.State.Open {
			state = "OPEN"
		}
		tw.row(clock(p.Start, loc, ref), clock(p.End, loc, ref), length(p.End.Sub(p.Start)), state, p.State.Why())
	}
	tw.writeTo(w)
}
