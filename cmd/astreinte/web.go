package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"slices"

	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/acklink"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/sip"
	"github.com/astreinte/astreinte/web"
)

// newWebServer builds the web pages and API over the env: the tickets
// service, the accounts in the store, the schedule and its overrides, the
// SIP server's figures and the paging channels.
func newWebServer(e *env, srv *sip.Server, links *acklink.Links, ch channels, eng *oncall.Engine, log *slog.Logger) *web.Server {
	var names []string
	for n := range ch.notifiers {
		names = append(names, n)
	}
	slices.Sort(names)
	return &web.Server{Tickets: e.tickets, Recordings: e.recordings(), Key: links.Key, Now: e.now, Log: log, Location: e.location(),
		Service: e.tickets, Accounts: accounts.New(e.db, e.now, log), Schedule: e.sched, Overrides: e.db,
		SIP: srv, Channels: names, Paging: e.db, Customers: customerPages(e), Replies: e.desk, SecureCookies: e.cfg.HTTP.SecureCookies(),
		Approvals: e.approvals(log), Appointments: e.appointments(log),
		Reasons: eng, Swaps: e.swaps(), Pay: e.db}
}

// serveTLS makes h's listener speak HTTPS when the configuration names a
// certificate and key; they are loaded now, so a bad file stops the start.
func serveTLS(h *httpServer, c config.HTTP) error {
	if c.TLSCert == "" {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return fmt.Errorf("http.tls_cert: %w", err)
	}
	h.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	h.ln = tls.NewListener(h.ln, h.srv.TLSConfig)
	return nil
}
