package oncall

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/astreinte/astreinte/calendar"
)

// Person is a technician who can be paged.
type Person struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name"` // default: the ID
	SIP      string `yaml:"sip"`
	Phone    string `yaml:"phone"`
	Email    string `yaml:"email"`
	Language string `yaml:"language"` // "fr" (default) or "en"
}

// SIPTarget is the SIP address p is reached at: their SIP URI, else their
// phone number at proxy ("host:port", the paging proxy or trunk), else ""
// (no proxy, or no phone number). Calls and SIP MESSAGEs go to the same
// address.
func (p Person) SIPTarget(proxy string) string {
	switch {
	case p.SIP != "":
		return p.SIP
	case p.Phone != "" && proxy != "":
		return "sip:" + strings.ReplaceAll(p.Phone, " ", "") + "@" + proxy
	}
	return ""
}

// MessageTarget is the SIP address p's text messages go to: their SIP
// URI, else, when phones is set (a proxy of one's own, which delivers
// MESSAGE to the registered phone), their phone number at proxy; "" for
// none.
func (p Person) MessageTarget(proxy string, phones bool) string {
	if p.SIP == "" && !phones {
		return ""
	}
	return p.SIPTarget(proxy)
}

// RotationConfig is a rota of technicians taking turns.
type RotationConfig struct {
	Name         string   `yaml:"name"`
	Participants []string `yaml:"participants"` // person ids, in turn order; one may appear twice
	// Shift is each turn's length: "12h", "24h" (absolute hours), "1d",
	// "7d", "1w" (calendar days: hand-offs keep their wall-clock time across
	// DST changes). Default "1w".
	Shift string `yaml:"shift"`
	// Start is the first hand-off, "2026-01-05 09:00" in the calendar's zone:
	// the first participant starts then. Before it the rotation is empty.
	Start string `yaml:"start"`
	// Coverage is "out_of_hours" (default: the rotation's tier only counts
	// while support is closed) or "all".
	Coverage string `yaml:"coverage"`
}

// Coverage values.
const (
	CoverageOutOfHours = "out_of_hours"
	CoverageAll        = "all"
)

// rotation is a validated RotationConfig.
type rotation struct {
	name   string
	people []string // ids
	days   int      // shift in calendar days, or
	dur    time.Duration
	start  time.Time
	all    bool // coverage "all"
	loc    *time.Location
}

// parseShift parses "12h", "1d", "1w" into hours or calendar days.
func parseShift(s string) (days int, dur time.Duration, err error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err = strconv.Atoi(n)
	} else if n, ok := strings.CutSuffix(s, "w"); ok {
		days, err = strconv.Atoi(n)
		days *= 7
	} else {
		dur, err = time.ParseDuration(s)
		if err == nil && dur <= 0 {
			err = fmt.Errorf("not positive")
		}
		return 0, dur, err
	}
	if err == nil && days <= 0 {
		err = fmt.Errorf("not positive")
	}
	return days, 0, err
}

// boundary returns the k-th hand-off (k = 0 is Start).
func (r *rotation) boundary(k int) time.Time {
	if r.days > 0 {
		h, m, s := r.start.Clock()
		y, mo, d := r.start.Date()
		return time.Date(y, mo, d+k*r.days, h, m, s, 0, r.loc)
	}
	return r.start.Add(time.Duration(k) * r.dur)
}

// index returns k such that boundary(k) <= t < boundary(k+1), or false
// before Start.
func (r *rotation) index(t time.Time) (int, bool) {
	if t.Before(r.start) {
		return 0, false
	}
	var k int
	if r.days > 0 {
		k = calendar.DaysBetween(r.start, t.In(r.loc)) / r.days
	} else {
		k = int(t.Sub(r.start) / r.dur)
	}
	for k > 0 && r.boundary(k).After(t) {
		k--
	}
	for !r.boundary(k + 1).After(t) {
		k++
	}
	return k, true
}

// shift returns the k-th shift: who and when.
func (r *rotation) shift(k int) (id string, from, to time.Time) {
	return r.people[k%len(r.people)], r.boundary(k), r.boundary(k + 1)
}

// Far instants stand for "no bound" in internal pieces; they are reported
// as zero times.
var (
	farPast   = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
)

func unbound(t time.Time) time.Time {
	if !t.After(farPast) || !t.Before(farFuture) {
		return time.Time{}
	}
	return t
}

// piece is part of a shift after overrides: id "" means nobody.
type piece struct {
	from, to time.Time
	id       string
	ov       *ShiftOverride
}

// overridden cuts the stretch [from, to) that person id would be on call
// into pieces, applying the overrides that replace id. Where overrides
// overlap, the latest SetAt wins, then the higher ID, then the later one in
// ovs. Overrides are not transitive: an override of Bob applies where the
// rotation puts Bob, not where another override does.
func overridden(id string, from, to time.Time, ovs []ShiftOverride) []piece {
	var mine []int
	pts := []time.Time{from, to}
	for i, o := range ovs {
		if o.Replaced != id || !o.From.Before(o.To) || !o.From.Before(to) || !o.To.After(from) {
			continue
		}
		mine = append(mine, i)
		if o.From.After(from) {
			pts = append(pts, o.From)
		}
		if o.To.Before(to) {
			pts = append(pts, o.To)
		}
	}
	if len(mine) == 0 {
		return []piece{{from: from, to: to, id: id}}
	}
	slices.SortFunc(pts, time.Time.Compare)
	pts = slices.CompactFunc(pts, time.Time.Equal)
	var out []piece
	for i := 0; i+1 < len(pts); i++ {
		p := piece{from: pts[i], to: pts[i+1], id: id}
		best := -1
		for _, j := range mine {
			o := &ovs[j]
			if o.From.After(p.from) || !o.To.After(p.from) {
				continue
			}
			if best < 0 || newerOverride(o, &ovs[best]) >= 0 {
				best = j
			}
		}
		if best >= 0 {
			o := ovs[best]
			p.id, p.ov = o.By, &o
		}
		if n := len(out); n > 0 && out[n-1].id == p.id && sameOverride(out[n-1].ov, p.ov) {
			out[n-1].to = p.to
			continue
		}
		out = append(out, p)
	}
	return out
}

// newerOverride compares a and b by SetAt, then ID: positive if a wins.
func newerOverride(a, b *ShiftOverride) int {
	if c := a.SetAt.Compare(b.SetAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

func sameOverride(a, b *ShiftOverride) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
