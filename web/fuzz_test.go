package web

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

var rewrittenRE = regexp.MustCompile(`\bat \d{2}:\d{2}:\d{2} CES?T\b`)

// FuzzLocalDetail: rewriting the clock times of a page failure's detail
// never panics and leaves the rest of the text as it was.
func FuzzLocalDetail(f *testing.F) {
	for _, d := range []string{"alice via sip: busy; retry 1/1 at 10:26:25", "at 99:99:99", "at 23:59:59 at 00:00:00", "", "at 1:2:3"} {
		f.Add(d, int64(1764584725))
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	s := &Server{Location: paris}
	f.Fuzz(func(t *testing.T, detail string, unix int64) {
		e := astreinte.Event{Kind: astreinte.EventPageFailed, At: time.Unix(unix%(1<<34), 0).UTC(), Detail: detail}
		out := s.localDetail(e)
		if strings.Contains(detail, "CET") || strings.Contains(detail, "CEST") {
			return
		}
		if got, want := rewrittenRE.ReplaceAllString(out, "·"), clockRE.ReplaceAllString(detail, "·"); got != want {
			t.Fatalf("%q became %q", detail, out)
		}
	})
}

// FuzzParseLocal: a form's time never panics and, when accepted, reads
// back in the calendar's zone.
func FuzzParseLocal(f *testing.F) {
	for _, v := range []string{"2026-11-24T08:00", "2026-03-29T02:30", "2026-11-24 08:00", "2026-11-24T08:00:00Z", "x", ""} {
		f.Add(v)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	s := &Server{Location: paris}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := s.parseLocal(v)
		if err == nil && got.IsZero() {
			t.Fatalf("%q accepted as the zero time", v)
		}
	})
}
