// Package space is the customer space at /client/: a customer's contacts
// (the email addresses of its customer record) sign in with a one-time
// link sent by email or a password of their own, and see only their
// customer's tickets with their work log, quotes and confirmations to
// accept or refuse, appointments and monthly statements; they open
// requests there, which are the verified tickets the agreements ask for.
// The same session serves the pages and a JSON API under /client/api/.
// Anything that is not the signed-in contact's customer's is a 404.
package space

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/appointments"
	"github.com/astreinte/astreinte/approvals"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/recording"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// Prefix is where the space is served.
const Prefix = "/client/"

// Defaults of Options.
const (
	LinkTTL        = 15 * time.Minute // a sign-in link works this long, once
	SessionTTL     = 12 * time.Hour
	MaxFiles       = 5
	MaxRequestSize = 10 << 20 // the request with all its files
)

// Contacts finds the customer of a contact's address (store.DB).
type Contacts interface {
	CustomerByEmail(ctx context.Context, addr string) (customers.Customer, error)
}

// Auth keeps sign-in links, passwords and sessions (store.DB).
type Auth interface {
	AddContactLink(ctx context.Context, hash, email string, expires time.Time) error
	UseContactLink(ctx context.Context, hash string, now time.Time) (string, error)
	SetContactPassword(ctx context.Context, email, hash string) error
	ContactPassword(ctx context.Context, email string) (string, error)
	AddContactSession(ctx context.Context, s store.ContactSession) error
	ContactSessionByHash(ctx context.Context, hash string) (store.ContactSession, error)
	RemoveContactSession(ctx context.Context, hash string) error
}

// Records is what the pages read of a customer's tickets (store.DB).
type Records interface {
	TicketsOfCustomer(ctx context.Context, number string) ([]astreinte.Ticket, error)
	RequestOf(ctx context.Context, ticketID int64) (store.Request, error)
	Attachments(ctx context.Context, ticketID int64) ([]store.Attachment, error)
	Attachment(ctx context.Context, ticketID, id int64) (store.Attachment, error)
	WorkLog(ctx context.Context, ticketID int64) ([]store.Work, error)
}

// Sender sends an email (mailer.Config).
type Sender interface {
	Send(ctx context.Context, m *mailer.Message) error
}

var (
	_ Contacts = (*store.DB)(nil)
	_ Auth     = (*store.DB)(nil)
	_ Records  = (*store.DB)(nil)
	_ Sender   = (*mailer.Config)(nil)
)

// Calendar says which case applies now, for the tickets of requests
// (calendar.Live).
type Calendar interface {
	CaseAt(ctx context.Context, t time.Time) (astreinte.Case, string)
}

// Server serves the customer space. Contacts, Auth, Records, Tickets,
// Ledger and Mail are required; Approvals and Appointments add their pages
// when set.
type Server struct {
	// Recordings opens the tickets' recordings: the file here, else the
	// store's copy (recording.Opener; nil: files only).
	Recordings *recording.Opener
	Contacts   Contacts
	Auth       Auth
	Records    Records
	Requests   tickets.SpaceStore
	Tickets    *tickets.Service
	Ledger     *tickets.Ledger
	Calendar   Calendar
	Mail       Sender
	// Approvals records the customer's answers to quotes and
	// confirmations; nil: no such forms.
	Approvals *approvals.Service
	// Appointments books and cancels appointments; nil: no booking.
	Appointments *appointments.Service

	BaseURL  string // public address, without the trailing slash
	Line     string // the line of tickets opened here ("" : the default line)
	Location *time.Location
	Now      func() time.Time
	Log      *slog.Logger
	// SecureCookies marks cookies Secure (HTTPS).
	SecureCookies bool
	// MaxFiles and MaxRequestSize bound a request's attachments (0: the
	// defaults).
	MaxFiles       int
	MaxRequestSize int64
	// PasswordCost is the bcrypt cost of contacts' passwords (0:
	// bcrypt.DefaultCost; tests lower it).
	PasswordCost int

	limits    *limits
	dummyOnce sync.Once
	dummy     []byte
}

//go:embed templates/*.html
var templateFS embed.FS

var pageNames = []string{"login", "sent", "link", "tickets", "ticket", "new", "statements", "statement", "account",
	"appointment", "appointments"}

var pageTmpls = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, n := range pageNames {
		m[n] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/"+n+".html"))
	}
	return m
}()

var funcs = template.FuncMap{
	"t": func(l lang.Tag, fr, en string) string { return l.Pick(fr, en) },
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *Server) loc() *time.Location {
	if s.Location == nil {
		return time.Local
	}
	return s.Location
}

func (s *Server) maxFiles() int {
	if s.MaxFiles > 0 {
		return s.MaxFiles
	}
	return MaxFiles
}

func (s *Server) maxRequest() int64 {
	if s.MaxRequestSize > 0 {
		return s.MaxRequestSize
	}
	return MaxRequestSize
}

// Handler returns the space's handler, to be mounted at Prefix behind
// the pages' security headers (web.SecureHeaders: the same policy as the
// technicians' pages).
func (s *Server) Handler() http.Handler {
	s.limits = newLimits(s.now)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /client/{$}", s.home)
	mux.HandleFunc("POST /client/login/link", s.postLinkRequest)
	mux.HandleFunc("GET /client/link", s.showLink)
	mux.HandleFunc("POST /client/link", s.postLink)
	mux.HandleFunc("POST /client/login/password", s.postPassword)
	mux.HandleFunc("GET /client/lang/{tag}", s.setLang)
	mux.HandleFunc("POST /client/logout", s.page(s.postLogout))
	mux.HandleFunc("GET /client/account", s.page(s.accountPage))
	mux.HandleFunc("POST /client/account/password", s.page(s.postAccountPassword))
	mux.HandleFunc("GET /client/tickets", s.page(s.ticketsPage))
	mux.HandleFunc("GET /client/tickets/new", s.page(s.newPage))
	mux.HandleFunc("POST /client/tickets", s.page(s.postRequest))
	mux.HandleFunc("GET /client/tickets/{number}", s.page(s.ticketPage))
	mux.HandleFunc("GET /client/tickets/{number}/recordings/{seq}", s.page(s.serveRecording))
	mux.HandleFunc("GET /client/tickets/{number}/attachments/{id}", s.page(s.serveAttachment))
	mux.HandleFunc("POST /client/tickets/{number}/quote", s.page(s.postQuote))
	mux.HandleFunc("POST /client/tickets/{number}/confirmation", s.page(s.postConfirmation))
	mux.HandleFunc("GET /client/tickets/{number}/appointment", s.page(s.appointmentPage))
	mux.HandleFunc("POST /client/tickets/{number}/appointment", s.page(s.postAppointment))
	mux.HandleFunc("GET /client/appointments", s.page(s.appointmentsPage))
	mux.HandleFunc("POST /client/appointments/{id}/cancel", s.page(s.postCancel))
	mux.HandleFunc("GET /client/statements", s.page(s.statementsPage))
	mux.HandleFunc("GET /client/statements/{month}", s.page(s.statementPage))
	s.apiRoutes(mux) // api.go
	mux.HandleFunc("/client/", func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) })
	return mux
}

// view is what every page template gets.
type view struct {
	L     lang.Tag
	Title string
	Nav   string
	C     *contact // nil before sign-in
	CSRF  string
	Flash string
	Error string
	Data  any
}

func (s *Server) render(w http.ResponseWriter, status int, name string, v *view) {
	if v.C != nil && v.CSRF == "" {
		v.CSRF = v.C.Sess.CSRF
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pageTmpls[name].Execute(w, v); err != nil {
		s.log().Error("space: render", "page", name, "error", err)
	}
}

// notFound is the one answer to whatever is not the contact's: the same
// page for another customer's ticket, a guessed URL or a removed record.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	http.Error(w, l.Pick("Introuvable.", "Not found."), http.StatusNotFound)
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log().Error("space: "+what, "path", r.URL.Path, "error", err)
	http.Error(w, s.lang(r).Pick("Erreur du serveur.", "Server error."), http.StatusInternalServerError)
}

// langCookie keeps a reader's choice of language.
const langCookie = "astreinte_lang"

// customerLang is the context key of a signed-in reader's customer's
// language (withCustomerLang).
type customerLang struct{}

// withCustomerLang gives r the language of c's customer record for a
// reader who stated none, as the sign-in link is written.
func (s *Server) withCustomerLang(r *http.Request, c *contact) *http.Request {
	if s.statedLang(r) {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), customerLang{}, c.Customer.Lang(lang.Default)))
}

// lang is the reader's language: their choice, else their browser's,
// else (signed in) their customer's.
func (s *Server) lang(r *http.Request) lang.Tag {
	if t, ok := r.Context().Value(customerLang{}).(lang.Tag); ok {
		return t
	}
	setting := ""
	if c, err := r.Cookie(langCookie); err == nil {
		setting = c.Value
	}
	return lang.Negotiate(setting, r.Header.Get("Accept-Language"))
}

// statedLang says whether the reader stated a language astreinte speaks:
// a choice made here or their browser's Accept-Language (a browser asking
// only for German states none), as lang.Negotiate reads them.
func (s *Server) statedLang(r *http.Request) bool {
	setting := ""
	if c, err := r.Cookie(langCookie); err == nil {
		setting = c.Value
	}
	_, ok := lang.Stated(setting, r.Header.Get("Accept-Language"))
	return ok
}

func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	t, ok := lang.Parse(r.PathValue("tag"))
	if !ok {
		s.notFound(w, r)
		return
	}
	s.setCookie(w, langCookie, string(t), 365*24*3600)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge, HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// URL is the space's public address: BaseURL + /client/ (what callers are
// told and `tickets show` prints).
func URL(baseURL string) string { return baseURL + Prefix }
