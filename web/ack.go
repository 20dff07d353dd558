package web

import (
	"errors"
	"fmt"
	"github.com/astreinte/astreinte/phone"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/acklink"
	"github.com/astreinte/astreinte/lang"
)

// ackTmpls is the acknowledge page, parsed once per language.
var ackTmpls = func() map[lang.Tag]*template.Template {
	m := map[lang.Tag]*template.Template{}
	for _, l := range lang.All {
		m[l] = template.Must(template.New("ack.html").Funcs(funcsFor(l)).ParseFS(templateFS, "templates/ack.html"))
	}
	return m
}()

// linkLang is the language of the reader of an acknowledge link: the
// paged person's when it is English, else their browser's.
func (s *Server) linkLang(r *http.Request, person string) lang.Tag {
	setting := ""
	if s.Schedule != nil {
		if p, ok := s.Schedule.Person(person); ok && p.Language == string(lang.EN) {
			setting = p.Language
		}
	}
	return lang.Negotiate(setting, r.Header.Get("Accept-Language"))
}

// ackVia is the channel recorded for acknowledgements made with a link.
// Links are sent by email (and webhooks), so the timeline says "email".
const ackVia = "email"

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Server) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.Local
}

// showAck shows the ticket and a form that POSTs the same signed
// parameters. It never acknowledges: mail scanners fetch links.
func (s *Server) showAck(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, person, err := acklink.VerifyAck(s.Key, q, s.now())
	l := s.linkLang(r, person)
	if err != nil {
		s.linkError(w, r, l, id, err)
		return
	}
	t, ok := s.ticket(w, r, l, id)
	if !ok {
		return
	}
	p := page{L: l, Ticket: s.view(l, t)}
	s.ackExtras(&p, t, q)
	if t.Status != astreinte.StatusNew {
		p.Tone = "info"
		p.Msg = s.alreadyText(l, t)
		s.render(w, http.StatusOK, p)
		return
	}
	p.Person = person
	for _, k := range []string{"t", "p", "e", "s"} {
		p.Fields = append(p.Fields, field{k, q.Get(k)})
	}
	s.render(w, http.StatusOK, p)
}

// postAck verifies the signed parameters again and acknowledges.
func (s *Server) postAck(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		l := browserLang(r)
		s.render(w, http.StatusBadRequest, page{L: l, Tone: "error", Msg: l.Pick("Requête illisible.", "Unreadable request.")})
		return
	}
	id, person, err := acklink.VerifyAck(s.Key, r.PostForm, s.now())
	l := s.linkLang(r, person)
	if err != nil {
		s.linkError(w, r, l, id, err)
		return
	}
	log := s.log().With("ticket_id", id, "person", person)
	changed, err := s.Tickets.Acknowledge(r.Context(), id, person, ackVia)
	if errors.Is(err, astreinte.ErrNotFound) {
		s.render(w, http.StatusNotFound, notFoundPage.in(l))
		return
	}
	if err != nil {
		log.Error("web: acknowledge", "error", err)
		s.render(w, http.StatusInternalServerError, internalErrorPage.in(l))
		return
	}
	if changed {
		log.Info("ticket acknowledged by link")
	}
	t, ok := s.ticket(w, r, l, id)
	if !ok {
		return
	}
	p := page{L: l, Ticket: s.view(l, t), Tone: "ok"}
	s.ackExtras(&p, t, r.PostForm)
	if changed {
		p.Msg = l.Pick(fmt.Sprintf("Ticket %s pris en charge par %s. Les relances d'astreinte sont arrêtées.", t.Number, person),
			fmt.Sprintf("Ticket %s acknowledged by %s. Paging stopped.", t.Number, person))
	} else {
		p.Tone = "info"
		p.Msg = s.alreadyText(l, t)
	}
	s.render(w, http.StatusOK, p)
}

// ackExtras gives the page the recording (through the same signed link)
// and, when the technicians' pages are served, a link to the ticket there.
func (s *Server) ackExtras(p *page, t astreinte.Ticket, q url.Values) {
	if len(t.Recordings) > 0 {
		signed := url.Values{}
		for _, k := range []string{"t", "p", "e", "s"} {
			signed.Set(k, q.Get(k))
		}
		p.Recording = "ack/recording?" + signed.Encode()
	}
	if s.Service != nil {
		p.Open = "tickets/" + t.Number
	}
}

// ackRecording serves the ticket's newest message (the one the email was
// about) to whoever holds a valid acknowledge link for its ticket (the
// email's reader), with range requests.
func (s *Server) ackRecording(w http.ResponseWriter, r *http.Request) {
	id, _, err := acklink.VerifyAck(s.Key, r.URL.Query(), s.now())
	if err != nil {
		s.log().Warn("web: refused recording link", "error", err, "remote", r.RemoteAddr)
		http.Error(w, browserLang(r).Pick("lien invalide ou expiré", "invalid or expired link"), http.StatusForbidden)
		return
	}
	t, ok := s.ticket(w, r, browserLang(r), id)
	if !ok {
		return
	}
	if len(t.Recordings) == 0 {
		http.Error(w, browserLang(r).Pick("pas d'enregistrement", "no recording"), http.StatusNotFound)
		return
	}
	s.serveFile(w, r, t, t.Recordings[0].Path, t.Number+".wav")
}

// ticket loads a ticket, rendering the error page itself when it cannot.
func (s *Server) ticket(w http.ResponseWriter, r *http.Request, l lang.Tag, id int64) (astreinte.Ticket, bool) {
	t, err := s.Tickets.ByID(r.Context(), id)
	if errors.Is(err, astreinte.ErrNotFound) {
		s.render(w, http.StatusNotFound, notFoundPage.in(l))
		return t, false
	}
	if err != nil {
		s.log().Error("web: load ticket", "ticket_id", id, "error", err)
		s.render(w, http.StatusInternalServerError, internalErrorPage.in(l))
		return t, false
	}
	return t, true
}

// linkError answers 403 for an expired or invalid link, naming the
// ticket when the link is genuine but expired.
func (s *Server) linkError(w http.ResponseWriter, r *http.Request, l lang.Tag, id int64, err error) {
	s.log().Warn("web: refused acknowledge link", "error", err, "remote", r.RemoteAddr)
	p := page{L: l, Tone: "error", Cmd: "astreinte tickets ack <number>"}
	if errors.Is(err, acklink.ErrLinkExpired) && id > 0 {
		if t, terr := s.Tickets.ByID(r.Context(), id); terr == nil {
			p.Ticket = s.view(l, t)
			p.Cmd = "astreinte tickets ack " + t.Number
		}
	}
	if errors.Is(err, acklink.ErrLinkExpired) {
		p.Msg = l.Pick("Ce lien de prise en charge a expiré.", "This acknowledge link has expired.")
	} else {
		p.Msg = l.Pick("Ce lien de prise en charge n'est pas valable (incomplet ou modifié).",
			"This acknowledge link is not valid (truncated or altered).")
	}
	p.Msg += l.Pick(" Prenez le ticket en charge depuis le serveur avec la commande ci-dessous.",
		" Acknowledge the ticket on the server with the command below.")
	s.render(w, http.StatusForbidden, p)
}

// alreadyText says who took the ticket and when, in l.
func (s *Server) alreadyText(l lang.Tag, t astreinte.Ticket) string {
	at := s.clock(l, t.AckedAt)
	st := statusWords[t.Status].In(l)
	var msg string
	switch {
	case t.AckedBy != "" && at != "":
		msg = l.Pick(fmt.Sprintf("Ticket %s déjà pris en charge par %s à %s.", t.Number, t.AckedBy, at),
			fmt.Sprintf("Ticket %s already acknowledged by %s at %s.", t.Number, t.AckedBy, at))
	case t.AckedBy != "":
		msg = l.Pick(fmt.Sprintf("Ticket %s déjà pris en charge par %s.", t.Number, t.AckedBy),
			fmt.Sprintf("Ticket %s already acknowledged by %s.", t.Number, t.AckedBy))
	default:
		msg = l.Pick(fmt.Sprintf("Ticket %s déjà traité (%s).", t.Number, st), fmt.Sprintf("Ticket %s already handled (%s).", t.Number, st))
	}
	if t.Status != astreinte.StatusAcknowledged && t.AckedBy != "" {
		msg += l.Pick(" Statut : ", " Status: ") + st + "."
	}
	return msg
}

// ackMessage is a fixed message of the acknowledge page.
type ackMessage struct {
	text tr
	cmd  string
}

func (m ackMessage) in(l lang.Tag) page {
	return page{L: l, Tone: "error", Msg: m.text.In(l), Cmd: m.cmd}
}

var (
	notFoundPage = ackMessage{text: tr{"Ce ticket n'existe pas (ou plus) sur ce serveur.",
		"This ticket does not exist (any more) on this server."}}
	internalErrorPage = ackMessage{text: tr{"Erreur du serveur : réessayez, ou utilisez la commande ci-dessous sur le serveur.",
		"Server error: try again, or use the command below on the server."}, cmd: "astreinte tickets ack <number>"}
)

// page is what the template shows.
type page struct {
	L      lang.Tag
	Tone   string // "", "ok", "info", "error": the colour of the message
	Msg    string // the message, in L
	Ticket *ticketView
	Person string  // who the button acknowledges as
	Fields []field // hidden form fields; no form when empty
	Cmd    string  // a command to show, when the page cannot help
	// Recording is the player's address (signed like the page's link);
	// Open the ticket's page among the technicians' pages.
	Recording, Open string
}

type field struct{ Name, Value string }

type ticketView struct {
	Number, CallerNumber, CallerName, Line, Received, Duration string
	Tel                                                        template.URL // "" for a hidden number
	Urgent                                                     bool
}

func (s *Server) view(l lang.Tag, t astreinte.Ticket) *ticketView {
	v := &ticketView{
		Number: t.Number, CallerNumber: t.ReachAt(), CallerName: t.CallerName, Line: t.Line,
		Urgent: t.Urgency == astreinte.Urgent,
	}
	if hiddenNumber(t.ReachAt()) {
		v.CallerNumber = l.Pick("masqué", "hidden")
	} else {
		v.Tel = telURL(t.ReachAt())
		v.CallerNumber = phone.National(t.ReachAt(), "")
	}
	if !t.CreatedAt.IsZero() {
		v.Received = s.long(l, t.CreatedAt)
	}
	if t.Duration > 0 {
		v.Duration = minSec(t.Duration)
	}
	return v
}

func (s *Server) render(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	p.L = p.L.Or()
	w.Header().Set("Content-Language", string(p.L))
	if err := ackTmpls[p.L].Execute(w, p); err != nil {
		s.log().Error("web: render", "error", err)
	}
}

// hiddenNumber reports whether the caller withheld their number (trunks
// send nothing or a placeholder).
func hiddenNumber(n string) bool {
	switch strings.ToLower(strings.TrimSpace(n)) {
	case "", "anonymous", "unknown", "restricted", "private", "unavailable":
		return true
	}
	return false
}
