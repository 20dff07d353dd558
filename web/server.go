package web

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/appointments"
	"github.com/astreinte/astreinte/approvals"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/swaps"
	"github.com/astreinte/astreinte/recording"
	"github.com/astreinte/astreinte/sip"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Tickets is what the acknowledge pages need of the tickets service.
type Tickets interface {
	// ByID returns the ticket, or an error wrapping
	// astreinte.ErrNotFound.
	ByID(ctx context.Context, id int64) (astreinte.Ticket, error)
	// Acknowledge records that by took the ticket through via and stops
	// paging; it returns false (and no error) when the ticket was no
	// longer new, which makes a second acknowledgement harmless.
	Acknowledge(ctx context.Context, ticketID int64, by, via string) (bool, error)
}

// Overrides is what the on-call page needs of the store (store.DB).
type Overrides interface {
	ShiftOverrides(ctx context.Context, from, to time.Time) ([]oncall.ShiftOverride, error)
	AddShiftOverride(ctx context.Context, o oncall.ShiftOverride) (int64, error)
	DeleteShiftOverride(ctx context.Context, id int64) error
	CalendarOverride(ctx context.Context) (*calendar.Override, error)
}

// SIPStatus is what the status page shows of the SIP server (sip.Server).
type SIPStatus interface {
	Addr() string
	Stats() sip.Stats
	Registrations() []sip.RegState
}

// PagingStatus is the latest result of each paging channel (store.DB).
type PagingStatus interface {
	ChannelResults(ctx context.Context) ([]store.ChannelResult, error)
}

// Server serves the acknowledge pages and, when Service and Accounts are
// set, the technicians' pages and the JSON API. Only Tickets and Key are
// required.
type Server struct {
	Tickets Tickets
	// Recordings opens the tickets' recordings: the file here, else the
	// store's copy (recording.Opener; nil: files only).
	Recordings *recording.Opener
	Key        []byte           // link signing key (acklink.LoadOrCreateKey)
	Now        func() time.Time // default time.Now
	Log        *slog.Logger     // default slog.Default()
	// Location is the zone of times shown on the pages (default
	// time.Local): the calendar's.
	Location *time.Location

	Service   *tickets.Service  // the pages and API; nil: acknowledge links only
	Accounts  *accounts.Service // who may log in
	Schedule  *oncall.Schedule  // the on-call page (optional)
	Overrides Overrides         // shift overrides (with Schedule)
	SIP       SIPStatus         // the status page (optional)
	Channels  []string          // paging channels configured, for the status page
	Paging    PagingStatus      // their latest results (optional)
	Customers *CustomerPages    // the customer pages and API (optional)
	Replies   Replies           // replies to requesters by email (optional; replies.go)
	// Approvals asks customers for quotes and confirmations (optional;
	// approvals.go); Appointments lists and cancels the day's
	// appointments (optional; appointments.go).
	Approvals    *approvals.Service
	Appointments *appointments.Service
	// Reasons says on a ticket's page why nobody was called about it
	// (optional: oncall.Engine).
	Reasons Reasons
	// Swaps, when set, lets technicians swap shifts on the on-call page.
	Swaps *swaps.Service
	// Pay, when set, shows admins the month's on-call pay (pay.go).
	Pay PayStore
	// SecureCookies marks cookies Secure: set it when the pages are
	// served over HTTPS (TLS here, or base_url https behind a proxy).
	SecureCookies bool

	closeOnce sync.Once
	closed    chan struct{}
	initOnce  sync.Once
}

func (s *Server) init() {
	s.initOnce.Do(func() { s.closed = make(chan struct{}) })
}

// CloseStreams ends the live-update streams, so that an HTTP shutdown does
// not wait for them (http.Server.RegisterOnShutdown).
func (s *Server) CloseStreams() {
	s.init()
	s.closeOnce.Do(func() { close(s.closed) })
}

// csp allows only this origin's own scripts, styles and media: no inline
// script, no framing.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Handler returns the HTTP handler: "GET /ack" shows the ticket and an
// acknowledge button, "POST /ack" acknowledges, "GET /healthz" answers ok;
// with Service set, the pages (/tickets, /oncall, /calls, /status,
// /login) and the JSON API under /api/. Every response carries
// restrictive security headers.
func (s *Server) Handler() http.Handler {
	s.init()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ack", s.showAck)
	mux.HandleFunc("POST /ack", s.postAck)
	mux.HandleFunc("GET /ack/recording", s.ackRecording)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	static, _ := fs.Sub(staticFS, "static")
	fileServer := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	}))
	s.feedRoutes(mux) // feed.go
	if s.Service != nil && s.Accounts != nil {
		s.routes(mux)
		s.apiRoutes(mux)
		s.customerRoutes(mux)
		s.workRoutes(mux)        // worklog.go
		s.replyRoutes(mux)       // replies.go
		s.approvalRoutes(mux)    // approvals.go
		s.appointmentRoutes(mux) // appointments.go
	}
	return SecureHeaders(mux)
}

// SecureHeaders sets the pages' security headers (CSP, no framing, no
// sniffing, no referrer, no caching): the technicians' pages and the
// customer space answer under the same policy.
func SecureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
