package sip

import (
	"sort"
	"time"
)

// CallInfo is a snapshot of a call in progress.
type CallInfo struct {
	ID        string        `json:"call_id"`
	Line      string        `json:"line,omitempty"`
	Inbound   bool          `json:"inbound"`
	From      string        `json:"from"`
	To        string        `json:"to"`
	Source    string        `json:"source,omitempty"`
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"duration"`
	Answered  bool          `json:"answered"`
}

// Calls lists the calls in progress, oldest first.
func (s *Server) Calls() []CallInfo {
	s.mu.Lock()
	out := make([]CallInfo, 0, len(s.calls))
	for _, c := range s.calls {
		out = append(out, CallInfo{
			ID: c.ID, Line: c.Line, Inbound: c.Inbound, From: c.From.User, To: c.To.User, Source: c.Source,
			StartedAt: c.StartedAt, Duration: time.Since(c.StartedAt).Round(time.Second), Answered: c.answered.Load(),
		})
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].StartedAt.Before(out[j].StartedAt) })
	return out
}

// Now is the server's clock (Config.Now): the time registrations are
// stamped with.
func (s *Server) Now() time.Time { return s.now() }
