package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/tickets"
)

// view is what every page template gets.
type view struct {
	L     lang.Tag // the reader's language: the whole page is in it
	Title string
	Nav   string // the current tab: tickets, oncall, calls, status
	User  *who
	CSRF  string
	Flash string
	Data  any
	// Appointments shows the menu's appointments link: only when
	// appointments are configured.
	Appointments bool
}

var pageNames = []string{"login", "tickets", "ticket", "oncall", "calls", "status", "customers", "customer", "statement", "appointments", "pay", "me"}

// pageTmpls are the pages, parsed once per language.
var pageTmpls = func() map[lang.Tag]map[string]*template.Template {
	all := map[lang.Tag]map[string]*template.Template{}
	for _, l := range lang.All {
		m := map[string]*template.Template{}
		for _, n := range pageNames {
			m[n] = template.Must(template.New("layout.html").Funcs(funcsFor(l)).ParseFS(templateFS,
				"templates/layout.html", "templates/contract.html", "templates/rows.html", "templates/"+n+".html"))
		}
		all[l] = m
	}
	return all
}()

// telURL is a tel: link to a number, keeping only what a dialler takes.
func telURL(n string) template.URL {
	return template.URL("tel:" + strings.Map(func(r rune) rune {
		if r == '+' || r >= '0' && r <= '9' || r == '*' || r == '#' {
			return r
		}
		return -1
	}, n))
}

func (s *Server) renderPage(w http.ResponseWriter, status int, name string, v *view) {
	if v.User != nil && v.CSRF == "" {
		v.CSRF = v.User.Sess.CSRF
	}
	if v.User != nil && v.L == "" {
		v.L = v.User.L
	}
	v.L = v.L.Or()
	v.Appointments = s.Appointments != nil
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", string(v.L))
	w.Header().Add("Vary", "Accept-Language")
	w.WriteHeader(status)
	if err := pageTmpls[v.L][name].Execute(w, v); err != nil {
		s.log().Error("web: render", "page", name, "error", err)
	}
}

func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/tickets", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /login", s.showLogin)
	mux.HandleFunc("POST /login", s.postLogin)
	mux.HandleFunc("POST /logout", s.page(s.postLogout))
	mux.HandleFunc("GET /tickets", s.page(s.ticketsPage))
	mux.HandleFunc("GET /tickets/{number}", s.page(s.ticketPage))
	mux.HandleFunc("GET /tickets/{number}/recording", s.page(func(w http.ResponseWriter, r *http.Request, _ *who) {
		s.serveRecording(w, r)
	}))
	mux.HandleFunc("GET /tickets/{number}/recordings/{seq}", s.page(func(w http.ResponseWriter, r *http.Request, _ *who) {
		s.serveMessage(w, r)
	}))
	mux.HandleFunc("POST /tickets/{number}/{action}", s.page(s.ticketAction))
	mux.HandleFunc("GET /events", s.page(s.events))
	mux.HandleFunc("GET /calls", s.page(s.callsPage))
	mux.HandleFunc("GET /status", s.page(s.statusPage))
	mux.HandleFunc("GET /oncall", s.page(s.oncallPage))
	mux.HandleFunc("POST /oncall/take", s.page(s.oncallTake))
	mux.HandleFunc("POST /oncall/overrides", s.page(s.oncallAdd))
	mux.HandleFunc("POST /oncall/overrides/{id}/delete", s.page(s.oncallDelete))
	mux.HandleFunc("GET /oncall/pay", s.page(s.payPage))
	mux.HandleFunc("POST /oncall/swaps", s.page(s.swapOffer))
	mux.HandleFunc("POST /oncall/swaps/{id}/{action}", s.page(s.swapAction))
	mux.HandleFunc("GET /me", s.page(s.mePage))
	mux.HandleFunc("POST /me/language", s.page(s.meLanguage))
}

// Ticket list filters.
const (
	filterOpen   = "open"
	filterUrgent = "urgent"
	filterMine   = "mine"
	filterAll    = "all"
)

var openStatuses = []astreinte.Status{astreinte.StatusNew, astreinte.StatusAcknowledged, astreinte.StatusCalledBack}

// listFilter turns the list's query (f, q) into a store filter; mine is
// the actor whose tickets "mine" keeps.
func listFilter(f, q string) (astreinte.TicketFilter, string, error) {
	tf := astreinte.TicketFilter{Search: strings.TrimSpace(q), Limit: 200}
	switch f {
	case "", filterOpen, filterMine:
		tf.Status = openStatuses
	case filterUrgent:
		tf.Status, tf.Urgency = openStatuses, astreinte.Urgent
	case filterAll:
	default:
		return tf, "", errors.New("filter: want open, urgent, mine or all")
	}
	if f == "" {
		f = filterOpen
	}
	return tf, f, nil
}

type ticketRow struct {
	T       astreinte.Ticket
	When    string
	Due     string
	Overdue bool
	Missed  bool // a missed call, no message
	Typed   bool // the number to call back was typed by the caller
}

// listRow is t as a row of a list at now, in l.
func (s *Server) listRow(l lang.Tag, t astreinte.Ticket, now time.Time) ticketRow {
	return ticketRow{T: t, When: s.clock(l, t.CreatedAt), Due: s.clock(l, t.DueAt), Overdue: s.overdue(t, now),
		Missed: t.Kind == astreinte.KindMissedCall,
		Typed:  t.CallbackNumber != "" && t.CallbackNumber != t.CallerNumber}
}

type ticketsData struct {
	Filter, Query string
	Filters       []filterTab
	Rows          []ticketRow
}

type filterTab struct{ Key, FR, EN string }

var filterTabs = []filterTab{{filterOpen, "Ouverts", "Open"}, {filterUrgent, "Urgents", "Urgent"},
	{filterMine, "Les miens", "Mine"}, {filterAll, "Tous", "All"}}

// listTickets returns the tickets of a filter, newest first; "mine" keeps
// those the actor took.
func (s *Server) listTickets(r *http.Request, f, q, actor string) ([]astreinte.Ticket, string, error) {
	tf, f, err := listFilter(f, q)
	if err != nil {
		return nil, f, err
	}
	ts, err := s.Service.List(r.Context(), tf)
	if err != nil {
		return nil, f, err
	}
	if f == filterMine {
		mine := ts[:0]
		for _, t := range ts {
			if t.AckedBy == actor {
				mine = append(mine, t)
			}
		}
		ts = mine
	}
	return ts, f, nil
}

func (s *Server) ticketsPage(w http.ResponseWriter, r *http.Request, u *who) {
	q := r.URL.Query()
	ts, f, err := s.listTickets(r, q.Get("f"), q.Get("q"), u.User.Actor())
	if err != nil {
		s.pageError(w, u, http.StatusBadRequest, err)
		return
	}
	now := s.now()
	d := ticketsData{Filter: f, Query: q.Get("q"), Filters: filterTabs}
	for _, t := range ts {
		d.Rows = append(d.Rows, s.listRow(u.L, t, now))
	}
	s.renderPage(w, http.StatusOK, "tickets", &view{Title: "Tickets", Nav: "tickets", User: u, Data: d})
}

func (s *Server) pageError(w http.ResponseWriter, u *who, status int, err error) {
	msg := errText(u.L, err)
	if status >= 500 {
		s.log().Error("web: page", "error", err)
		msg = u.L.Pick("Erreur du serveur.", "Server error.")
	}
	s.renderPage(w, status, "status", &view{Title: u.L.Pick("Erreur", "Error"), User: u, Flash: msg})
}

// recordingRow is one message on the ticket page.
type recordingRow struct {
	Seq, Of        int    // its number in call order, of how many
	Newest         bool   // the latest call's (with more than one)
	URL            string // where it is served
	When, Duration string
	Urgent         bool
}

type ticketData struct {
	T                         astreinte.Ticket
	Received, Due, Acked      string
	Duration, Zone            string
	Overdue                   bool
	Missed                    bool           // a missed call: no message to hear
	Nobody                    string         // why nobody was called about this urgent ticket ("" : someone was)
	Recordings                []recordingRow // every message, newest first
	Events                    []eventRow
	CanAck, CanClose, CanOpen bool
	Customer                  ticketCustomer // customer, contract, unverified rule, time spent (customers.go)
	Work                      *workView      // time spent form, confirmation, quote (worklog.go)
	Reply                     *replyView     // the reply form (replies.go)
	Asks                      *approvalsView // quote and confirmation asked of the customer, appointment (approvals.go)
}

// ticketByNumber loads the ticket named in the path, answering 404 itself.
func (s *Server) ticketByNumber(w http.ResponseWriter, r *http.Request) (astreinte.Ticket, bool) {
	t, err := s.Service.ByNumber(r.Context(), r.PathValue("number"))
	if errors.Is(err, astreinte.ErrNotFound) {
		http.Error(w, browserLang(r).Pick("ticket inconnu", "no such ticket"), http.StatusNotFound)
		return t, false
	}
	if err != nil {
		s.log().Error("web: ticket", "number", r.PathValue("number"), "error", err)
		http.Error(w, browserLang(r).Pick("Erreur du serveur.", "Server error."), http.StatusInternalServerError)
		return t, false
	}
	return t, true
}

func (s *Server) ticketPage(w http.ResponseWriter, r *http.Request, u *who) {
	t, ok := s.ticketByNumber(w, r)
	if !ok {
		return
	}
	evs, err := s.Service.Timeline(r.Context(), t.ID)
	if err != nil {
		s.pageError(w, u, http.StatusInternalServerError, err)
		return
	}
	l := u.L
	d := ticketData{T: t, Received: s.long(l, t.CreatedAt), Due: s.long(l, t.DueAt), Acked: s.long(l, t.AckedAt),
		Overdue: s.overdue(t, s.now()), Zone: s.loc().String(), Missed: t.Kind == astreinte.KindMissedCall,
		CanAck:   t.Status == astreinte.StatusNew,
		CanClose: t.Status != astreinte.StatusResolved,
		CanOpen:  t.Status == astreinte.StatusResolved || t.Status == astreinte.StatusCalledBack,
	}
	d.Recordings = s.recordingRows(l, t, "/tickets/")
	d.Customer = s.ticketCustomer(r.Context(), l, t)
	d.Work = s.workOf(r, l, t)
	d.Reply = s.replyOf(r, t)
	d.Asks = s.approvalsOf(r, t)
	if t.Duration > 0 {
		d.Duration = minSec(t.Duration)
	}
	if n := len(t.Recordings); n > 1 {
		d.Duration = fmt.Sprintf("%d messages", n)
	}
	paged := false
	for _, e := range evs {
		paged = paged || e.Kind == astreinte.EventPageQueued
		d.Events = append(d.Events, s.timelineRow(l, e, s.localDetail(e)))
	}
	if !paged {
		d.Nobody = s.whyNobody(r.Context(), l, t)
	}
	s.renderPage(w, http.StatusOK, "ticket", &view{Title: "Ticket " + t.Number, Nav: "tickets", User: u,
		Flash: doneMessages[r.URL.Query().Get("done")].In(l), Data: d})
}

// doneMessages say what a button did, after its redirect.
var doneMessages = map[string]tr{
	"acknowledge": {"Pris en charge : les relances sont arrêtées.", "Acknowledged: paging stopped."},
	"already":     {"Déjà pris en charge.", "Already acknowledged."},
	"note":        {"Note ajoutée.", "Note added."},
	"callback":    {"Rappel noté.", "Callback recorded."},
	"resolve":     {"Ticket résolu.", "Ticket resolved."},
	"reopen":      {"Ticket rouvert.", "Ticket reopened."},
	"taken":       {"Vous êtes d'astreinte.", "You are on call."},
	"added":       {"Remplacement ajouté.", "Override added."},
	"removed":     {"Remplacement supprimé.", "Override removed."},
	"language":    {"Langue enregistrée.", "Language saved."},
}

// ticketAction runs one of the ticket's buttons, as the logged-in user.
func (s *Server) ticketAction(w http.ResponseWriter, r *http.Request, u *who) {
	t, ok := s.ticketByNumber(w, r)
	if !ok {
		return
	}
	note := strings.TrimSpace(r.PostForm.Get("note"))
	done, err := s.act(r, t, r.PathValue("action"), u.User.Actor(), note)
	if s.pageFailed(w, u, err, "web: ticket action", "ticket", t.Number, "action", r.PathValue("action"), "error", err) {
		return
	}
	http.Redirect(w, r, "/tickets/"+t.Number+"?done="+done, http.StatusSeeOther)
}

// actionError is what a user can fix, in both languages: a page writes
// it in its reader's, the API in English.
type actionError struct {
	status int
	msg    tr
}

func (e actionError) Error() string { return e.msg.EN }

// pageFailed answers a page's failed action and reports whether err was
// one: an actionError says what the user can fix, in their language;
// anything else is logged (msg, args) and answered as a server error.
func (s *Server) pageFailed(w http.ResponseWriter, u *who, err error, msg string, args ...any) bool {
	if err == nil {
		return false
	}
	if ae, ok := errors.AsType[actionError](err); ok {
		http.Error(w, ae.msg.In(u.L), ae.status)
		return true
	}
	s.log().Error(msg, args...)
	http.Error(w, u.L.Pick("Erreur du serveur.", "Server error."), http.StatusInternalServerError)
	return true
}

// apiFailed is pageFailed for the API: JSON, in English.
func (s *Server) apiFailed(w http.ResponseWriter, err error, msg string, args ...any) bool {
	if err == nil {
		return false
	}
	if ae, ok := errors.AsType[actionError](err); ok {
		apiFail(w, ae.status, ae.msg.EN)
		return true
	}
	s.log().Error(msg, args...)
	apiFail(w, http.StatusInternalServerError, "server error")
	return true
}

// errText is err as l reads it: an actionError in l, else the error's
// own (English) words.
func errText(l lang.Tag, err error) string {
	var ae actionError
	if errors.As(err, &ae) {
		return ae.msg.In(l)
	}
	return err.Error()
}

// plainError is an actionError from a package's error, which speaks
// English only.
func plainError(status int, err error) actionError {
	return actionError{status, tr{err.Error(), err.Error()}}
}

// act does action on t as actor through the tickets service; it returns a
// word saying what was done ("acknowledged", "already", "noted"…).
func (s *Server) act(r *http.Request, t astreinte.Ticket, action, actor, note string) (string, error) {
	ctx := r.Context()
	svc := s.Service
	log := s.log().With("ticket", t.Number, "actor", actor, "action", action)
	var err error
	switch action {
	case "acknowledge":
		var changed bool
		changed, err = svc.Acknowledge(ctx, t.ID, actor, "web")
		if err == nil && !changed {
			return "already", nil
		}
		if err == nil && note != "" {
			err = svc.Note(ctx, t.ID, actor, note)
		}
	case "note":
		if note == "" {
			return "", actionError{http.StatusBadRequest, tr{"note vide", "empty note"}}
		}
		err = svc.Note(ctx, t.ID, actor, note)
	case "callback":
		err = svc.CalledBack(ctx, t.ID, actor, note)
	case "resolve":
		err = svc.Resolve(ctx, t.ID, actor, note)
	case "reopen":
		err = svc.Reopen(ctx, t.ID, actor, note)
	default:
		return "", actionError{http.StatusNotFound, tr{"action inconnue : " + action, "unknown action " + action}}
	}
	if err != nil {
		return "", err
	}
	log.Info("ticket changed from the web")
	return action, nil
}

// recordingRows are t's messages for a page, newest first, served under
// prefix + number + "/recordings/" + their number in call order.
func (s *Server) recordingRows(l lang.Tag, t astreinte.Ticket, prefix string) []recordingRow {
	var out []recordingRow
	for i, r := range t.Recordings {
		seq := len(t.Recordings) - i
		out = append(out, recordingRow{Seq: seq, Of: len(t.Recordings), Newest: i == 0 && len(t.Recordings) > 1,
			URL: prefix + t.Number + "/recordings/" + strconv.Itoa(seq), When: s.long(l, r.At), Duration: minSec(r.Duration),
			Urgent: r.Urgency == astreinte.Urgent})
	}
	return out
}

// minSec writes a message's length as "1 min 05 s".
func minSec(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
}

// serveRecording serves the ticket's first WAV with range requests (seeking).
func (s *Server) serveRecording(w http.ResponseWriter, r *http.Request) {
	t, ok := s.ticketByNumber(w, r)
	if !ok {
		return
	}
	s.serveFile(w, r, t, t.Recording, t.Number+".wav")
}

// serveMessage serves one of the ticket's messages, numbered in call
// order in the path ({seq}: 1 for the first call's).
func (s *Server) serveMessage(w http.ResponseWriter, r *http.Request) {
	t, ok := s.ticketByNumber(w, r)
	if !ok {
		return
	}
	seq, err := strconv.Atoi(r.PathValue("seq"))
	rec, found := tickets.BySeq(t, seq)
	if err != nil || !found {
		http.Error(w, browserLang(r).Pick("message inconnu", "no such message"), http.StatusNotFound)
		return
	}
	s.serveFile(w, r, t, rec.Path, fmt.Sprintf("%s-%d.wav", t.Number, seq))
}

// serveFile serves the recording at path of ticket t, named name.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, t astreinte.Ticket, path, name string) {
	if path == "" {
		http.Error(w, browserLang(r).Pick("pas d'enregistrement", "no recording"), http.StatusNotFound)
		return
	}
	// The file here, else the copy in the store of a recording made by
	// another node.
	f, err := s.Recordings.Open(r.Context(), path)
	if err != nil {
		s.log().Error("web: recording", "ticket", t.Number, "error", err)
		http.Error(w, browserLang(r).Pick("enregistrement indisponible", "recording unavailable"), http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	http.ServeContent(sw, r, name, f.ModTime, f)
	s.log().Info("web: recording", "ticket", t.Number, "range", r.Header.Get("Range"), "status", sw.status,
		"bytes", sw.n, "size", f.Size, "file", name, "from_store", f.FromStore())
}

// statusWriter notes the status and length of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// clockRE finds the clock time the paging engine writes in a failure's
// detail ("retry 1/3 at 10:26:25"), formatted in the engine's zone.
var clockRE = regexp.MustCompile(`\bat (\d{2}):(\d{2}):(\d{2})\b`)

// localDetail shows the clock times in an event's detail in the calendar's
// zone. The engine formats a retry time in its own clock's zone (often
// UTC); the retry is shortly after the event, so the zone is the one (UTC,
// the process's, the calendar's) that puts the time closest after the
// event's own instant.
func (s *Server) localDetail(e astreinte.Event) string {
	if e.Kind != astreinte.EventPageFailed {
		return e.Detail
	}
	return clockRE.ReplaceAllStringFunc(e.Detail, func(m string) string {
		var h, mi, se int
		p := clockRE.FindStringSubmatch(m)
		h, mi, se = atoi(p[1]), atoi(p[2]), atoi(p[3])
		var best time.Time
		for _, z := range []*time.Location{time.UTC, time.Local, s.loc(), e.At.Location()} {
			a := e.At.In(z)
			for day := -1; day <= 1; day++ {
				c := time.Date(a.Year(), a.Month(), a.Day()+day, h, mi, se, 0, z)
				if c.Before(e.At.Add(-time.Second)) {
					continue
				}
				if best.IsZero() || c.Before(best) {
					best = c
				}
			}
		}
		if best.IsZero() {
			return m
		}
		return "at " + best.In(s.loc()).Format("15:04:05 MST")
	})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
