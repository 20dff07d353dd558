// Package feed publishes a technician's on-call shifts as an iCalendar
// (RFC 5545) feed their calendar application subscribes to: one event per
// shift or piece of a shift left by an override, overrides applied, behind
// a secret token derived from the link key.
package feed

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/astreinte/astreinte/oncall"
)

// Token is the secret of person's feed: an HMAC of their id under key.
// Changing the key (the acknowledge-link key) revokes every feed.
func Token(key []byte, person string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("oncall-feed\x00" + person))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Valid reports whether token is person's feed token.
func Valid(key []byte, person, token string) bool {
	return hmac.Equal([]byte(Token(key, person)), []byte(token))
}

// URL is where person's feed is served under base (the web listener's
// public address): base/oncall/<person>.ics?token=…
func URL(base string, key []byte, person string) string {
	return strings.TrimRight(base, "/") + "/oncall/" + url.PathEscape(person) + ".ics?token=" + Token(key, person)
}

// ICS is person's shifts among shifts as an iCalendar, named in their
// language. now stamps the events.
func ICS(person oncall.Person, shifts []oncall.Shift, now time.Time) string {
	en := strings.EqualFold(person.Language, "en")
	cal := ics.NewCalendarFor("astreinte")
	cal.SetMethod(ics.MethodPublish)
	name := "Astreinte — " + person.Name
	if en {
		name = "On call — " + person.Name
	}
	cal.SetName(name)
	cal.SetXWRCalName(name)
	cal.SetRefreshInterval("PT1H")
	for _, s := range shifts {
		if s.Person.ID != person.ID {
			continue
		}
		ev := cal.AddEvent(fmt.Sprintf("%s-%s-%d@astreinte", person.ID, s.Rotation, s.From.Unix()))
		ev.SetDtStampTime(now.UTC())
		ev.SetStartAt(s.From.UTC())
		ev.SetEndAt(s.To.UTC())
		summary := "Astreinte (" + s.Rotation + ")"
		if en {
			summary = "On call (" + s.Rotation + ")"
		}
		if s.Override != nil {
			by := "remplacement"
			if en {
				by = "cover"
			}
			summary += " — " + by
			if s.Override.Note != "" {
				ev.SetDescription(s.Override.Note)
			}
		}
		ev.SetSummary(summary)
	}
	return cal.Serialize()
}
