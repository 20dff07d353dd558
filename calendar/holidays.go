package calendar

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
	"github.com/rickar/cal/v2/at"
	"github.com/rickar/cal/v2/be"
	"github.com/rickar/cal/v2/ch"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/es"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/it"
	"github.com/rickar/cal/v2/nl"
	"github.com/rickar/cal/v2/us"

	"github.com/astreinte/astreinte"
)

// HolidayConfig selects the public holidays on which support is closed.
type HolidayConfig struct {
	// Country is "FR" (default), "FR-ALSACE-MOSELLE" (adds Good Friday and
	// St Stephen's day), one of AT, BE, CH, DE, ES, GB, IT, NL, US, or "none".
	Country string `yaml:"country"`
	// Extra adds holidays: a date "2026-11-02" or a yearly "11-02", each
	// optionally followed by a label: "11-02 Lendemain de Toussaint".
	Extra []string `yaml:"extra"`
	// Ignore lists holidays on which support stays open, by name
	// ("Lundi de Pentecôte", case and accents ignored), by date
	// ("2026-05-25") or yearly ("05-25").
	Ignore []string `yaml:"ignore"`
}

// alsaceMoselle adds the two local holidays of Alsace and Moselle.
var alsaceMoselle = []*cal.Holiday{
	aa.GoodFriday.Clone(&cal.Holiday{Name: "Vendredi saint", Type: cal.ObservancePublic}),
	aa.ChristmasDay2.Clone(&cal.Holiday{Name: "Saint-Étienne", Type: cal.ObservancePublic}),
}

// countries maps a HolidayConfig.Country to its holidays. Names are the
// library's, in the country's language.
var countries = map[string][]*cal.Holiday{
	"FR":                fr.Holidays,
	"FR-ALSACE-MOSELLE": slices.Concat(fr.Holidays, alsaceMoselle),
	"AT":                at.Holidays,
	"BE":                be.Holidays,
	"CH":                ch.Holidays,
	"DE":                de.Holidays,
	"ES":                es.Holidays,
	"GB":                gb.Holidays,
	"IT":                it.Holidays,
	"NL":                nl.Holidays,
	"US":                us.Holidays,
}

type monthDay struct {
	m time.Month
	d int
}

// holidays knows which days are holidays. Years are computed on demand and
// cached.
type holidays struct {
	lib          []*cal.Holiday
	fixed        map[date]string
	yearly       map[monthDay]string
	ignoreNames  map[string]bool // folded
	ignoreDates  map[date]bool
	ignoreYearly map[monthDay]bool

	mu    sync.Mutex
	years map[int]map[date]string
}

func newHolidays(cfg HolidayConfig, path string, errs *astreinte.FieldErrors) *holidays {
	h := &holidays{
		fixed: map[date]string{}, yearly: map[monthDay]string{},
		ignoreNames: map[string]bool{}, ignoreDates: map[date]bool{}, ignoreYearly: map[monthDay]bool{},
		years: map[int]map[date]string{},
	}
	country := strings.ToUpper(strings.TrimSpace(cfg.Country))
	switch country {
	case "":
		h.lib = countries["FR"]
	case "NONE":
	default:
		lib, ok := countries[country]
		if !ok {
			errs.Add(path+".country", "unknown country %q (supported: %s, none)",
				cfg.Country, strings.Join(slices.Sorted(maps.Keys(countries)), ", "))
		}
		h.lib = lib
	}

	known := map[string]bool{}
	for _, hol := range h.lib {
		known[fold(hol.Name)] = true
	}
	for i, raw := range cfg.Extra {
		p := fmt.Sprintf("%s.extra[%d]", path, i)
		when, label, _ := strings.Cut(strings.TrimSpace(raw), " ")
		label = strings.TrimSpace(label)
		if label == "" {
			label = "Jour férié"
		}
		known[fold(label)] = true
		if d, err := parseDate(when); err == nil {
			h.fixed[d] = label
		} else if md, ok := parseMonthDay(when); ok {
			h.yearly[md] = label
		} else {
			errs.Add(p, "bad date %q (want YYYY-MM-DD or MM-DD, then an optional label)", when)
		}
	}
	for i, raw := range cfg.Ignore {
		p := fmt.Sprintf("%s.ignore[%d]", path, i)
		s := strings.TrimSpace(raw)
		if d, err := parseDate(s); err == nil {
			h.ignoreDates[d] = true
		} else if md, ok := parseMonthDay(s); ok {
			h.ignoreYearly[md] = true
		} else if known[fold(s)] {
			h.ignoreNames[fold(s)] = true
		} else {
			names := make([]string, 0, len(h.lib))
			for _, hol := range h.lib {
				names = append(names, hol.Name)
			}
			errs.Add(p, "unknown holiday %q (known: %s)", raw, strings.Join(names, ", "))
		}
	}
	return h
}

// parseMonthDay parses "MM-DD" (29 February allowed).
func parseMonthDay(s string) (monthDay, bool) {
	m, d, ok := strings.Cut(s, "-")
	if !ok || len(m) != 2 || len(d) != 2 {
		return monthDay{}, false
	}
	mm, err1 := strconv.Atoi(m)
	dd, err2 := strconv.Atoi(d)
	if err1 != nil || err2 != nil || mm < 1 || mm > 12 || dd < 1 {
		return monthDay{}, false
	}
	if dd > time.Date(2024, time.Month(mm)+1, 0, 0, 0, 0, 0, time.UTC).Day() { // 2024 is a leap year
		return monthDay{}, false
	}
	return monthDay{time.Month(mm), dd}, true
}

// fold lowercases s and strips the accents of Western European letters, so
// that "Lundi de Pentecote" matches "Lundi de Pentecôte".
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case 'à', 'â', 'ä', 'á':
			return 'a'
		case 'é', 'è', 'ê', 'ë':
			return 'e'
		case 'î', 'ï', 'í':
			return 'i'
		case 'ô', 'ö', 'ó':
			return 'o'
		case 'ù', 'û', 'ü', 'ú':
			return 'u'
		case 'ç':
			return 'c'
		case 'ñ':
			return 'n'
		case '’':
			return '\''
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// name reports whether d is a holiday that closes support, and its name.
func (h *holidays) name(d date) (string, bool) {
	if h.ignoreDates[d] || h.ignoreYearly[monthDay{d.m, d.d}] {
		return "", false
	}
	if n, ok := h.year(d.y)[d]; ok {
		return n, true
	}
	if n, ok := h.fixed[d]; ok && !h.ignoreNames[fold(n)] {
		return n, true
	}
	if n, ok := h.yearly[monthDay{d.m, d.d}]; ok && !h.ignoreNames[fold(n)] {
		return n, true
	}
	return "", false
}

// year returns the library's holidays falling in year y, ignored names
// left out. A holiday observed on another day (GB, US substitution days)
// closes both days.
func (h *holidays) year(y int) map[date]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m, ok := h.years[y]; ok {
		return m
	}
	m := map[date]string{}
	// Observed days may cross the year boundary (1 January observed on
	// 31 December), hence the neighbouring years.
	for yy := y - 1; yy <= y+1; yy++ {
		for _, hol := range h.lib {
			if h.ignoreNames[fold(hol.Name)] {
				continue
			}
			actual, observed := hol.Calc(yy)
			if actual.IsZero() {
				continue
			}
			// Calc returns midnight in cal.DefaultLoc; only the civil date matters.
			if a := dateOf(actual); a.y == y {
				if _, taken := m[a]; !taken {
					m[a] = hol.Name
				}
			}
			if o := dateOf(observed); o != dateOf(actual) && o.y == y {
				if _, taken := m[o]; !taken {
					m[o] = hol.Name + " (observed)"
				}
			}
		}
	}
	h.years[y] = m
	return m
}
