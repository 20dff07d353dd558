package main

import (
	"log/slog"
	"net/http"

	"github.com/astreinte/astreinte/appointments"
	"github.com/astreinte/astreinte/approvals"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/space"
	"github.com/astreinte/astreinte/tickets"
	"github.com/astreinte/astreinte/web"
)

// mailerOf is the line's mail transport; a configuration that cannot
// build it (a CA file gone) sends nothing, and says so when asked to.
func (e *env) mailer(log *slog.Logger) *mailer.Config {
	m, err := e.cfg.Mailer()
	if err != nil {
		log.Error("mail to customers disabled", "error", err)
		return &mailer.Config{}
	}
	return &m
}

// approvals is what technicians ask of customers over e.
func (e *env) approvals(log *slog.Logger) *approvals.Service {
	return &approvals.Service{Ledger: e.ledger(), Store: e.db, Quotes: e.db, Customers: e.db, Mail: e.mailer(log),
		BaseURL: e.cfg.HTTP.BaseURL, Lang: e.cfg.CustomerLanguage(), Log: log}
}

// appointments books over e's calendar.
func (e *env) appointments(log *slog.Logger) *appointments.Service {
	return &appointments.Service{Store: e.db, Calendar: e.cal.Calendar, Mail: e.mailer(log), Desk: e.cfg.DeskAddress(),
		Room: e.cfg.Space.VideoRoom, Customers: e.db, Lang: e.cfg.CustomerLanguage(), Now: e.now, Log: log}
}

// newSpace builds the customer space over e.
func newSpace(e *env, log *slog.Logger) *space.Server {
	return &space.Server{Recordings: e.recordings(), Contacts: e.db, Auth: e.db, Records: e.db, Requests: e.db, Tickets: e.tickets,
		Ledger: tickets.NewLedger(e.tickets, e.db), Calendar: e.cal, Mail: e.mailer(log),
		Approvals: e.approvals(log), Appointments: e.appointments(log),
		BaseURL: e.cfg.HTTP.BaseURL, Line: e.cfg.DefaultLine(), Location: e.location(), Now: e.now, Log: log,
		SecureCookies: e.cfg.HTTP.SecureCookies(), MaxFiles: e.cfg.Space.MaxFiles, MaxRequestSize: int64(e.cfg.Space.MaxUploadMB) << 20}
}

// withSpace serves the customer space under /client/ beside h.
func withSpace(e *env, h http.Handler, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(space.Prefix, web.SecureHeaders(newSpace(e, log).Handler()))
	mux.Handle("/", h)
	return mux
}
