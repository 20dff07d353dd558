package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/correspondence"
	"github.com/astreinte/astreinte/store"
)

// A technician's reply to the requester, from the ticket page and the API,
// through the same correspondence.Desk as `astreinte tickets reply`.

// Replies mails technicians' replies to requesters (correspondence.Desk).
type Replies interface {
	// Reply mails text to the ticket's requester and keeps it on the
	// timeline; the mail says whether it left or waits for a retry.
	Reply(ctx context.Context, ticketID int64, actor, text string) (store.Mail, error)
	// RequesterAddress is where the ticket's replies go ("" for none).
	RequesterAddress(ctx context.Context, t astreinte.Ticket) (string, error)
}

func init() {
	doneMessages["reply"] = tr{"Réponse envoyée par e-mail.", "Reply emailed."}
	doneMessages["reply-queued"] = tr{"Réponse enregistrée ; l'e-mail sera réessayé.", "Reply kept; the email will be tried again."}
}

// replyView is the reply form of a ticket page.
type replyView struct {
	To string // the requester's address
}

// replyOf is the reply part of t's page; nil when replies are not
// configured or the requester has no address.
func (s *Server) replyOf(r *http.Request, t astreinte.Ticket) *replyView {
	if s.Replies == nil {
		return nil
	}
	to, err := s.Replies.RequesterAddress(r.Context(), t)
	if err != nil {
		s.log().Error("web: requester address", "ticket", t.Number, "error", err)
		return nil
	}
	if to == "" {
		return nil
	}
	return &replyView{To: to}
}

func (s *Server) replyRoutes(mux *http.ServeMux) {
	if s.Replies == nil {
		return
	}
	mux.HandleFunc("POST /tickets/{number}/reply", s.page(s.replyPost))
	mux.HandleFunc("POST /api/tickets/{number}/replies", s.api(s.replyAPI))
}

// doReply sends the reply; the actionError says what the user can fix.
func (s *Server) doReply(ctx context.Context, t astreinte.Ticket, actor, text string) (store.Mail, error) {
	m, err := s.Replies.Reply(ctx, t.ID, actor, text)
	switch {
	case errors.Is(err, correspondence.ErrEmptyReply):
		return m, actionError{http.StatusBadRequest, tr{"réponse vide", "empty reply"}}
	case errors.Is(err, correspondence.ErrNoRequesterAddress):
		return m, actionError{http.StatusConflict, tr{"pas d'adresse email connue pour le demandeur", "the requester has no known email address"}}
	case errors.Is(err, correspondence.ErrNotConfigured):
		return m, actionError{http.StatusServiceUnavailable, tr{"l'email n'est pas configuré", "email is not configured (paging.email.smtp)"}}
	case err != nil && strings.HasPrefix(err.Error(), "reply:"):
		return m, plainError(http.StatusBadRequest, err)
	case err != nil:
		return m, err
	}
	s.log().Info("reply to the requester from the web", "ticket", t.Number, "actor", actor, "to", m.Addr, "state", m.State)
	return m, nil
}

func (s *Server) replyPost(w http.ResponseWriter, r *http.Request, u *who) {
	t, ok := s.ticketByNumber(w, r)
	if !ok {
		return
	}
	m, err := s.doReply(r.Context(), t, u.User.Actor(), r.PostForm.Get("text"))
	if s.pageFailed(w, u, err, "web: reply", "ticket", t.Number, "error", err) {
		return
	}
	done := "reply"
	if m.State != store.MailSent {
		done = "reply-queued"
	}
	http.Redirect(w, r, "/tickets/"+t.Number+"?done="+done+"#reply", http.StatusSeeOther)
}

// replyJSON is the API's answer: the reply as kept and its delivery.
type replyJSON struct {
	Ticket    string `json:"ticket"`
	To        string `json:"to"`
	Subject   string `json:"subject"`
	MessageID string `json:"message_id"`
	State     string `json:"state"` // sent, or queued (tried again later)
	Error     string `json:"error,omitempty"`
	By        string `json:"by"`
	At        string `json:"at"`
}

func (s *Server) replyAPI(w http.ResponseWriter, r *http.Request, tok accounts.Token) {
	t, ok := s.apiTicketByNumber(w, r)
	if !ok {
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, 2*correspondence.MaxReply)
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		apiFail(w, http.StatusBadRequest, `body: want {"text": "…"}: `+err.Error())
		return
	}
	m, err := s.doReply(r.Context(), t, tokenActor(tok), in.Text)
	if s.apiFailed(w, err, "api: reply", "ticket", t.Number, "error", err) {
		return
	}
	writeAPI(w, http.StatusCreated, replyJSON{Ticket: t.Number, To: m.Addr, Subject: m.Subject, MessageID: m.MessageID,
		State: m.State, Error: m.Error, By: m.Actor, At: m.At.In(s.loc()).Format("2006-01-02T15:04:05Z07:00")})
}
