package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/sip"
)

// sipStatus stands for the SIP server on the status page.
type sipStatus struct{ regs []sip.RegState }

func (s sipStatus) Addr() string                  { return "127.0.0.1:5060" }
func (s sipStatus) Stats() sip.Stats              { return sip.Stats{ActiveCalls: 2, TotalCalls: 7, Rejected: 1} }
func (s sipStatus) Registrations() []sip.RegState { return s.regs }

// TestStatusShowsRegistrations: the status page lists each trunk with its
// state, a lapsed one marked and with its error.
func TestStatusShowsRegistrations(t *testing.T) {
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	s := &Server{Now: func() time.Time { return now }, Location: time.UTC, SIP: sipStatus{regs: []sip.RegState{
		{Trunk: "ovh", Registrar: "sip.example.net:5060/udp", Status: sip.RegRegistered, Since: now.Add(-time.Hour), Expires: now.Add(9 * time.Minute)},
		{Trunk: "backup", Registrar: "sip2.example.net:5060/udp", Status: sip.RegFailed, Since: now.Add(-time.Minute), LastError: "403 Forbidden: check the username and password"},
	}}}
	rec := httptest.NewRecorder()
	s.statusPage(rec, httptest.NewRequest("GET", "/status", nil), &who{User: accounts.User{Name: "alice", Role: accounts.Technician}})
	page := rec.Body.String()
	for _, want := range []string{"écoute 127.0.0.1:5060", `id="active">2<`, "ovh", "registered", "backup", "403 Forbidden", `class="card gap"><strong>backup`} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if strings.Contains(page, `class="card gap"><strong>ovh`) {
		t.Error("a registered trunk is marked as failing")
	}
}
