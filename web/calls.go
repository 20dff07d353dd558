package web

import (
	"net/http"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/sip"
)

type callRow struct {
	C                     astreinte.Call
	When, Length, Outcome string
	Ticket                string
}

var outcomeWords = map[astreinte.CallOutcome]tr{
	astreinte.OutcomeInProgress: {"en cours", "in progress"}, astreinte.OutcomeVoicemail: {"message", "voicemail"},
	astreinte.OutcomeNoMessage: {"appel manqué, sans message", "missed call, no message"}, astreinte.OutcomeCancelled: {"raccroché avant", "hung up early"},
	astreinte.OutcomeRedirected: {"redirigé", "redirected"}, astreinte.OutcomeRejected: {"rejeté", "rejected"},
	astreinte.OutcomeFailed: {"échec", "failed"}, astreinte.OutcomeMediaTimeout: {"pas de son", "no audio"},
	astreinte.OutcomeCut: {"coupé (serveur perdu)", "cut (node lost)"},
}

func (s *Server) callsPage(w http.ResponseWriter, r *http.Request, u *who) {
	calls, err := s.Service.Calls(r.Context(), 100)
	if err != nil {
		s.pageError(w, u, http.StatusInternalServerError, err)
		return
	}
	var rows []callRow
	for _, c := range calls {
		row := callRow{C: c, When: s.clock(u.L, c.StartedAt), Outcome: outcomeWords[c.Outcome].In(u.L)}
		if row.Outcome == "" {
			row.Outcome = string(c.Outcome)
		}
		if !c.EndedAt.IsZero() {
			row.Length = u.L.Duration(c.EndedAt.Sub(c.StartedAt))
		}
		if c.TicketID != 0 {
			if t, err := s.Service.ByID(r.Context(), c.TicketID); err == nil {
				row.Ticket = t.Number
			}
		}
		rows = append(rows, row)
	}
	s.renderPage(w, http.StatusOK, "calls", &view{Title: u.L.Pick("Appels", "Calls"), Nav: "calls", User: u, Data: rows})
}

type channelRow struct {
	Name, State, When, Error, Ticket, Person string
	Attempts                                 int
	Failed                                   bool
}

// regRow is one trunk registration on the status page.
type regRow struct {
	Trunk, Registrar, Status, Since, Expires, Error string
	OK                                              bool
}

type statusData struct {
	Results              []channelRow
	Registrations        []regRow
	SIP                  bool
	Addr                 string
	Active               int64
	Total, Rejected      uint64
	Channels             []string
	Now, Zone, OpenState string
}

func (s *Server) statusPage(w http.ResponseWriter, r *http.Request, u *who) {
	l := u.L
	d := statusData{Channels: s.Channels, Now: s.long(l, s.now()), Zone: s.loc().String()}
	if s.Paging != nil {
		rs, err := s.Paging.ChannelResults(r.Context())
		if err != nil {
			s.log().Error("web: status: channel results", "error", err)
		}
		for _, c := range rs {
			d.Results = append(d.Results, channelRow{Name: c.Channel, State: c.State, When: s.clock(l, c.CreatedAt),
				Error: c.LastError, Ticket: c.Ticket, Person: c.Person, Attempts: c.Attempts, Failed: c.State == "failed" || c.LastError != ""})
		}
	}
	if s.SIP != nil {
		st := s.SIP.Stats()
		d.SIP, d.Addr, d.Active, d.Total, d.Rejected = true, s.SIP.Addr(), st.ActiveCalls, st.TotalCalls, st.Rejected
		for _, g := range s.SIP.Registrations() {
			row := regRow{Trunk: g.Trunk, Registrar: g.Registrar, Status: string(g.Status), Since: s.clock(l, g.Since),
				Error: g.LastError, OK: g.Status == sip.RegRegistered}
			if !g.Expires.IsZero() {
				row.Expires = s.clock(l, g.Expires)
			}
			d.Registrations = append(d.Registrations, row)
		}
	}
	s.renderPage(w, http.StatusOK, "status", &view{Title: l.Pick("État", "Status"), Nav: "status", User: u, Data: d})
}
