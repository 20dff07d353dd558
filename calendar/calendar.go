package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
)

// DefaultTimeZone is the calendar's zone when Config.TimeZone is empty.
const DefaultTimeZone = "Europe/Paris"

// Config describes when the support line is open. Its zero value is
// a Paris office open Monday to Friday, 09:00–18:00, closed on French public
// holidays.
type Config struct {
	// TimeZone is an IANA zone name; hours, dates and rotations are wall-clock
	// times in it. Default "Europe/Paris".
	TimeZone string `yaml:"timezone"`
	// Hours maps a day ("monday".."sunday", "mon".."sun", or French
	// "lundi".."dimanche") to its opening intervals, e.g.
	// ["09:00-12:30", "13:30-18:00"]. A nil map means Monday to Friday
	// 09:00–18:00; a day absent from a non-nil map is closed.
	Hours map[string][]string `yaml:"hours"`
	// Holidays selects the public holidays on which support is closed.
	Holidays HolidayConfig `yaml:"holidays"`
	// Closures are one-off closures (annual closure, staff training…).
	Closures []Closure `yaml:"closures"`
	// Openings are exceptional openings, on holidays or weekends for instance.
	Openings []Opening `yaml:"openings"`
}

// Closure is a one-off closure. From and To are "2006-01-02" (whole days,
// both included) or "2006-01-02 15:04" (that instant, To excluded); To may be
// empty for a single day.
type Closure struct {
	From  string `yaml:"from"`
	To    string `yaml:"to"`
	Label string `yaml:"label"`
}

// Opening is an exceptional opening: on Date, support is open during Hours
// and only then, even on a holiday, a weekend or during a closure. Empty
// Hours mean that weekday's regular hours.
type Opening struct {
	Date  string   `yaml:"date"`
	Hours []string `yaml:"hours"`
	Label string   `yaml:"label"`
}

// Calendar answers "is support open at this instant, and until when?".
// It is immutable once built and safe for concurrent use.
type Calendar struct {
	loc      *time.Location
	week     [7][]span // regular hours, indexed by time.Weekday
	hol      *holidays
	closures []closure
	openings map[date]opening
	// never: no regular hours and no exceptional opening, the calendar
	// of a line that only ever answers out of hours.
	never bool
}

type closure struct {
	from, to time.Time // [from, to)
	label    string
}

type opening struct {
	spans []span
	label string
}

// span is an opening interval in minutes after local midnight, [start, end).
type span struct{ start, end int }

// String formats s as it is written in the configuration.
func (s span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.start/60, s.start%60, s.end/60, s.end%60)
}

// date is a civil date, without a zone.
type date struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

// at returns the instant at min minutes after midnight of d, wall clock in loc.
func (d date) at(loc *time.Location, min int) time.Time {
	return time.Date(d.y, d.m, d.d, 0, min, 0, 0, loc)
}

func (d date) noon() time.Time { return time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC) }

func (d date) add(n int) date { return dateOf(d.noon().AddDate(0, 0, n)) }

func (d date) weekday() time.Weekday { return d.noon().Weekday() }

// daysBetween returns the number of days from d to e (negative if e < d).
func daysBetween(d, e date) int { return int(e.noon().Sub(d.noon()).Hours() / 24) }

func (d date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d) }

var dayNames = map[string]time.Weekday{
	"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday,
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
	"fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
	"lundi": time.Monday, "mardi": time.Tuesday, "mercredi": time.Wednesday, "jeudi": time.Thursday,
	"vendredi": time.Friday, "samedi": time.Saturday, "dimanche": time.Sunday,
}

// New validates cfg and builds the calendar. The error, if any, is a
// astreinte.FieldErrors listing every problem with paths starting with "calendar.".
func New(cfg Config) (*Calendar, error) {
	var errs astreinte.FieldErrors
	c := &Calendar{openings: map[date]opening{}}

	tz := cfg.TimeZone
	if tz == "" {
		tz = DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || strings.EqualFold(tz, "local") {
		errs.Add("calendar.timezone", "unknown time zone %q", tz)
		loc = time.UTC // keep validating the rest
	}
	c.loc = loc

	c.parseWeek(cfg.Hours, &errs)
	c.hol = newHolidays(cfg.Holidays, "calendar.holidays", &errs)

	for i, cl := range cfg.Closures {
		path := fmt.Sprintf("calendar.closures[%d]", i)
		from, fromDay, err := parseDateTime(cl.From, loc)
		if err != nil {
			errs.Add(path+".from", "%v", err)
			continue
		}
		toStr := cl.To
		if toStr == "" {
			if !fromDay {
				errs.Add(path+".to", "required when from has a time")
				continue
			}
			toStr = cl.From
		}
		to, toDay, err := parseDateTime(toStr, loc)
		if err != nil {
			errs.Add(path+".to", "%v", err)
			continue
		}
		if toDay { // a whole day, included
			to = dateOf(to).add(1).at(loc, 0)
		}
		if !to.After(from) {
			errs.Add(path+".to", "%q before from %q", cl.To, cl.From)
			continue
		}
		label := cl.Label
		if label == "" {
			label = "Closure"
		}
		c.closures = append(c.closures, closure{from: from, to: to, label: label})
	}

	for i, op := range cfg.Openings {
		path := fmt.Sprintf("calendar.openings[%d]", i)
		d, err := parseDate(op.Date)
		if err != nil {
			errs.Add(path+".date", "%v", err)
			continue
		}
		if _, dup := c.openings[d]; dup {
			errs.Add(path+".date", "%s: opening already defined for that day", d)
			continue
		}
		var spans []span
		if len(op.Hours) == 0 {
			spans = c.week[d.weekday()]
			if len(spans) == 0 {
				errs.Add(path+".hours", "required: %s has no regular hours", strings.ToLower(d.weekday().String()))
				continue
			}
		} else {
			spans = parseSpans(op.Hours, path+".hours", &errs)
		}
		label := op.Label
		if label == "" {
			label = "Exceptional opening"
		}
		c.openings[d] = opening{spans: spans, label: label}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	c.never = len(c.openings) == 0 && !slices.ContainsFunc(c.week[:], func(spans []span) bool { return len(spans) > 0 })
	return c, nil
}

func (c *Calendar) parseWeek(hours map[string][]string, errs *astreinte.FieldErrors) {
	if hours == nil {
		for wd := time.Monday; wd <= time.Friday; wd++ {
			c.week[wd] = []span{{9 * 60, 18 * 60}}
		}
		return
	}
	keys := make([]string, 0, len(hours))
	for k := range hours {
		keys = append(keys, k)
	}
	// Report in weekday order (full names first), then unknown keys.
	slices.SortFunc(keys, func(a, b string) int {
		wa, oka := dayNames[strings.ToLower(a)]
		wb, okb := dayNames[strings.ToLower(b)]
		switch {
		case oka && okb && wa != wb:
			return int((wa+6)%7) - int((wb+6)%7)
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		}
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	seen := map[time.Weekday]string{}
	for _, k := range keys {
		path := "calendar.hours." + k
		wd, ok := dayNames[strings.ToLower(k)]
		if !ok {
			errs.Add(path, "unknown day (want monday..sunday or mon..sun)")
			continue
		}
		if prev, dup := seen[wd]; dup {
			errs.Add(path, "same day as %q", prev)
			continue
		}
		seen[wd] = k
		c.week[wd] = parseSpans(hours[k], path, errs)
	}
}

// parseSpans parses ["09:00-12:30", …] into sorted, non-overlapping spans.
func parseSpans(list []string, path string, errs *astreinte.FieldErrors) []span {
	type item struct {
		s   span
		raw string
	}
	var items []item
	for i, raw := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		a, b, ok := strings.Cut(raw, "-")
		if !ok {
			errs.Add(p, "%q: want HH:MM-HH:MM", raw)
			continue
		}
		start, err1 := parseClock(a, false)
		end, err2 := parseClock(b, true)
		if err1 != nil || err2 != nil {
			errs.Add(p, "%q: want HH:MM-HH:MM", raw)
			continue
		}
		if end < start {
			errs.Add(p, "%q: end before start", raw)
			continue
		}
		if end == start {
			errs.Add(p, "%q: empty interval", raw)
			continue
		}
		s := span{start, end}
		for _, o := range items {
			if s.start < o.s.end && o.s.start < s.end {
				errs.Add(p, "%q overlaps %q", raw, o.raw)
			}
		}
		items = append(items, item{s, raw})
	}
	spans := make([]span, 0, len(items))
	for _, it := range items {
		spans = append(spans, it.s)
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	return spans
}

// parseClock parses "HH:MM" (or "H:MM") into minutes after midnight;
// "24:00" is accepted as an end.
func parseClock(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(m) != 2 || len(h) == 0 || len(h) > 2 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && (mm != 0 || !end)) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hh*60 + mm, nil
}

// parseDate parses "2006-01-02".
func parseDate(s string) (date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return date{}, fmt.Errorf("bad date %q (want YYYY-MM-DD)", s)
	}
	return dateOf(t), nil
}

// parseDateTime parses "2006-01-02" (dayOnly, at midnight) or
// "2006-01-02 15:04" (also with a "T") as a wall-clock time in loc.
func parseDateTime(s string, loc *time.Location) (t time.Time, dayOnly bool, err error) {
	s = strings.TrimSpace(s)
	if d, err := parseDate(s); err == nil {
		return d.at(loc, 0), true, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, false, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("bad date %q (want YYYY-MM-DD or YYYY-MM-DD HH:MM)", s)
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Holiday reports whether day (its date in the calendar's zone) is a public
// or extra holiday on which support is closed, and its name. Ignored
// holidays are not reported; exceptional openings are not considered.
func (c *Calendar) Holiday(day time.Time) (name string, ok bool) {
	return c.hol.name(dateOf(day.In(c.loc)))
}

// ParseDateTime parses "2006-01-02" (dayOnly, at midnight) or
// "2006-01-02 15:04" (also with a "T") as a wall-clock time in loc.
func ParseDateTime(s string, loc *time.Location) (t time.Time, dayOnly bool, err error) {
	return parseDateTime(s, loc)
}

// DaysBetween counts the calendar days from a's date to b's, each read in
// its own location (negative when b's date is earlier).
func DaysBetween(a, b time.Time) int { return daysBetween(dateOf(a), dateOf(b)) }
