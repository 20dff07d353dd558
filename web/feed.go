package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/feed"
)

// feedRoutes serves each technician's on-call shifts as iCalendar, behind
// the secret token of their feed (no login: calendar applications
// subscribe with the URL alone).
func (s *Server) feedRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /oncall/{file}", s.oncallFeed)
}

// feedDays is how far ahead (and back) the feed lists shifts.
const feedDays = 90

func (s *Server) oncallFeed(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok || s.Schedule == nil {
		http.NotFound(w, r)
		return
	}
	p, known := s.Schedule.Person(id)
	if !known || !feed.Valid(s.Key, id, r.URL.Query().Get("token")) {
		http.NotFound(w, r) // a wrong token says no more than an unknown person
		return
	}
	now := s.now()
	from, to := now.AddDate(0, 0, -7), now.AddDate(0, 0, feedDays)
	ovs := s.overridesOrNil(r, from, to)
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=900")
	w.Write([]byte(feed.ICS(p, s.Schedule.Shifts(from, to, ovs), now)))
}

func (s *Server) overridesOrNil(r *http.Request, from, to time.Time) []oncall.ShiftOverride {
	if s.Overrides == nil {
		return nil
	}
	ovs, err := s.Overrides.ShiftOverrides(r.Context(), from, to)
	if err != nil {
		s.log().Error("feed: overrides", "error", err)
		return nil
	}
	return ovs
}

// feedURL is person's feed address as this request reached the server.
func (s *Server) feedURL(r *http.Request, person string) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return feed.URL(scheme+"://"+r.Host, s.Key, person)
}
