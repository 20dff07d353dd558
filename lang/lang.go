// Package lang is the one place that decides in which language a reader is
// addressed (French or English: the languages of the agreements) and how
// that language writes dates, times and durations. Web pages, emails and
// the customer space pick a Tag per reader with Negotiate and write every
// word and date through it, so one reader never gets two languages side by
// side.
package lang

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Tag is a language astreinte speaks.
type Tag string

// The languages astreinte speaks; French is the default.
const (
	FR Tag = "fr"
	EN Tag = "en"
)

// Default is the language of a reader who states no preference.
const Default = FR

// All lists the languages, default first.
var All = []Tag{FR, EN}

var matcher = language.NewMatcher([]language.Tag{language.French, language.English})

// Parse reads a language setting ("fr", "en", "fr-FR", "English"…); ok is
// false for anything astreinte does not speak, including "".
func Parse(s string) (t Tag, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return "", false
	case s == "fr" || strings.HasPrefix(s, "fr-") || strings.HasPrefix(s, "fr_") || s == "french" || s == "français" || s == "francais":
		return FR, true
	case s == "en" || strings.HasPrefix(s, "en-") || strings.HasPrefix(s, "en_") || s == "english" || s == "anglais":
		return EN, true
	}
	return "", false
}

// Negotiate picks the reader's language: their own setting when it is one
// astreinte speaks, else the best match of an Accept-Language header, else
// French.
func Negotiate(setting, acceptLanguage string) Tag {
	if t, ok := Stated(setting, acceptLanguage); ok {
		return t
	}
	return Default
}

// Stated is the language the reader asked for, by their own setting or
// their browser's Accept-Language; ok is false when neither names a
// language astreinte speaks ("", "de", "*"), for the caller to fall back
// on what it knows (a customer's language) rather than on French.
func Stated(setting, acceptLanguage string) (t Tag, ok bool) {
	if t, ok := Parse(setting); ok {
		return t, true
	}
	if strings.TrimSpace(acceptLanguage) == "" {
		return "", false
	}
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return "", false
	}
	_, i, conf := matcher.Match(prefs...)
	if conf == language.No {
		return "", false
	}
	return All[i], true
}

// Or returns t, or the default language when t is not set.
func (t Tag) Or() Tag {
	if t == EN {
		return EN
	}
	return FR
}

// Pick returns the text in t's language.
func (t Tag) Pick(fr, en string) string {
	if t == EN {
		return en
	}
	return fr
}

var (
	weekdaysFR   = [7]string{"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."}
	weekdaysEN   = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	dayNamesFR   = [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	monthsFR     = [12]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}
	monthsEN     = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	monthNamesFR = [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
		"octobre", "novembre", "décembre"}
)

// Month names a month of a year: "décembre 2026" / "December 2026".
func (t Tag) Month(tm time.Time) string {
	if t == EN {
		return tm.Format("January 2006")
	}
	return fmt.Sprintf("%s %d", monthNamesFR[tm.Month()-1], tm.Year())
}

// Weekday is the short name of a day: "mer." / "Wed".
func (t Tag) Weekday(d time.Weekday) string {
	if t == EN {
		return weekdaysEN[d]
	}
	return weekdaysFR[d]
}

// DayName is the full name of a day: "mercredi" / "Wednesday".
func (t Tag) DayName(d time.Weekday) string {
	if t == EN {
		return d.String()
	}
	return dayNamesFR[d]
}

// Date writes a day as the language does: "mer. 2 déc. 2026" /
// "Wed 2 Dec 2026".
func (t Tag) Date(tm time.Time) string {
	if t == EN {
		return fmt.Sprintf("%s %d %s %d", weekdaysEN[tm.Weekday()], tm.Day(), monthsEN[tm.Month()-1], tm.Year())
	}
	return fmt.Sprintf("%s %d %s %d", weekdaysFR[tm.Weekday()], tm.Day(), monthsFR[tm.Month()-1], tm.Year())
}

// Clock writes the time of day on 24 hours, as both languages do in
// support: "03:12".
func (t Tag) Clock(tm time.Time) string { return tm.Format("15:04") }

// DateTime is Date and Clock: "mer. 2 déc. 2026 à 03:12" /
// "Wed 2 Dec 2026 at 03:12".
func (t Tag) DateTime(tm time.Time) string {
	return t.Date(tm) + t.Pick(" à ", " at ") + t.Clock(tm)
}

// When writes a moment relative to now for a reader in a hurry: the time
// alone today, "hier 23:40" / "yesterday 23:40", else the short date and
// time.
func (t Tag) When(tm, now time.Time) string {
	y1, m1, d1 := tm.Date()
	y2, m2, d2 := now.In(tm.Location()).Date()
	day := time.Date(y1, m1, d1, 0, 0, 0, 0, time.UTC)
	today := time.Date(y2, m2, d2, 0, 0, 0, 0, time.UTC)
	switch today.Sub(day) {
	case 0:
		return t.Clock(tm)
	case 24 * time.Hour:
		return t.Pick("hier ", "yesterday ") + t.Clock(tm)
	case -24 * time.Hour:
		return t.Pick("demain ", "tomorrow ") + t.Clock(tm)
	}
	if t == EN {
		return fmt.Sprintf("%s %d %s %s", weekdaysEN[tm.Weekday()], tm.Day(), monthsEN[tm.Month()-1], t.Clock(tm))
	}
	return fmt.Sprintf("%s %d %s %s", weekdaysFR[tm.Weekday()], tm.Day(), monthsFR[tm.Month()-1], t.Clock(tm))
}

// Duration writes a span as people write it, rounded to what matters:
// "45 s", "5 min", "1 h", "1 h 05", "2 j 3 h" / "2 d 3 h". Negative spans
// are written as their size.
func (t Tag) Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute)/time.Minute))
	case d < 24*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if h == 24 {
			return t.Pick("1 j", "1 d")
		}
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %02d", h, m)
	}
	d = d.Round(time.Hour)
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	unit := t.Pick("j", "d")
	if h == 0 {
		return fmt.Sprintf("%d %s", days, unit)
	}
	return fmt.Sprintf("%d %s %d h", days, unit, h)
}

// Money writes an amount in integer cents as the language writes euros:
// "1 480,00 €" in French (narrow no-break spaces between thousands and
// before the sign, a decimal comma), "€1,480.00" in English.
func (t Tag) Money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	sep, dec := "\u202f", ","
	if t == EN {
		sep, dec = ",", "."
	}
	units := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, r := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	frac := fmt.Sprintf("%s%02d", dec, cents%100)
	if t == EN {
		return sign + "€" + b.String() + frac
	}
	return sign + b.String() + frac + "\u202f€"
}
