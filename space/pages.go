package space

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/approvals"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/tickets"
)

// ticketOf returns the contact's customer's ticket named in the path, or
// answers 404: another customer's ticket is as absent as a ticket that
// does not exist.
func (s *Server) ticketOf(w http.ResponseWriter, r *http.Request, c *contact) (astreinte.Ticket, bool) {
	t, err := s.Tickets.ByNumber(r.Context(), r.PathValue("number"))
	if err == nil && t.Customer == c.Customer.Number && t.Customer != "" {
		return t, true
	}
	if err != nil && !errors.Is(err, astreinte.ErrNotFound) {
		s.serverError(w, r, "ticket", err)
		return t, false
	}
	if err == nil {
		s.log().Warn("space: a contact asked for another customer's ticket", "contact", c.Email,
			"customer", c.Customer.Number, "ticket", t.Number)
	}
	s.notFound(w, r)
	return t, false
}

// statusWords is a ticket's status as the customer reads it.
func statusWords(l lang.Tag, st astreinte.Status) string {
	switch st {
	case astreinte.StatusNew:
		return l.Pick("reçu", "received")
	case astreinte.StatusAcknowledged:
		return l.Pick("pris en charge", "in progress")
	case astreinte.StatusCalledBack:
		return l.Pick("rappelé", "called back")
	case astreinte.StatusResolved:
		return l.Pick("résolu", "resolved")
	}
	return string(st)
}

func channelWords(l lang.Tag, ch astreinte.Channel) string {
	switch ch {
	case astreinte.ChannelEmail:
		return l.Pick("email", "email")
	case astreinte.ChannelSpace:
		return l.Pick("espace client", "customer space")
	}
	return l.Pick("téléphone", "phone")
}

// ticketItem is a ticket in the customer's list.
type ticketItem struct {
	Number, Subject, Status, Created, Due, Channel string
	Open                                           bool
}

func (s *Server) item(ctx context.Context, l lang.Tag, t astreinte.Ticket) ticketItem {
	it := ticketItem{Number: t.Number, Status: statusWords(l, t.Status), Channel: channelWords(l, t.Channel),
		Created: l.DateTime(t.CreatedAt.In(s.loc())), Open: t.Status != astreinte.StatusResolved}
	if !t.DueAt.IsZero() && it.Open {
		it.Due = l.DateTime(t.DueAt.In(s.loc()))
	}
	if rq, err := s.Records.RequestOf(ctx, t.ID); err == nil {
		it.Subject = rq.Subject
	} else if t.Channel == astreinte.ChannelPhone || t.Channel == "" {
		it.Subject = l.Pick("Message téléphonique", "Phone message")
	} else {
		it.Subject = l.Pick("Demande par email", "Request by email")
	}
	return it
}

// customerTickets are the contact's customer's tickets, newest first.
func (s *Server) customerTickets(ctx context.Context, c *contact) ([]astreinte.Ticket, error) {
	ts, err := s.Records.TicketsOfCustomer(ctx, c.Customer.Number)
	slices.Reverse(ts)
	return ts, err
}

func (s *Server) ticketsPage(w http.ResponseWriter, r *http.Request, c *contact) {
	l := s.lang(r)
	ts, err := s.customerTickets(r.Context(), c)
	if err != nil {
		s.serverError(w, r, "tickets", err)
		return
	}
	items := make([]ticketItem, 0, len(ts))
	for _, t := range ts {
		items = append(items, s.item(r.Context(), l, t))
	}
	s.render(w, http.StatusOK, "tickets", &view{L: l, Title: l.Pick("Mes tickets", "My tickets"), Nav: "tickets", C: c,
		Flash: flash(l, r.URL.Query().Get("done")), Data: items})
}

// flash is the message after an action, named in the redirect.
func flash(l lang.Tag, done string) string {
	switch done {
	case "request":
		return l.Pick("Demande enregistrée.", "Request saved.")
	case "quote-accepted":
		return l.Pick("Devis accepté.", "Quote accepted.")
	case "quote-refused":
		return l.Pick("Devis refusé.", "Quote refused.")
	case "confirmed":
		return l.Pick("Intervention confirmée.", "Intervention confirmed.")
	case "not-confirmed":
		return l.Pick("Intervention refusée.", "Intervention refused.")
	case "booked":
		return l.Pick("Rendez-vous pris : l'invitation vous est envoyée par email.", "Appointment booked: the invitation is on its way by email.")
	case "cancelled":
		return l.Pick("Rendez-vous annulé.", "Appointment cancelled.")
	}
	return ""
}

// workRow is one entry of the work log as the customer reads it.
type workRow struct {
	When, Time, Note string
}

// eventRow is a timeline entry the customer sees.
type eventRow struct {
	When, What, Who, Detail string
}

type recordingItem struct {
	URL, When, Length string
}

type ticketData struct {
	T          ticketItem
	Ticket     astreinte.Ticket
	Request    *store.Request
	Files      []store.Attachment
	Recordings []recordingItem
	Work       []workRow
	Total      string
	Units      string
	Quote      *store.Quote
	QuoteText  string
	Confirm    *store.ConfirmationRequest
	Events     []eventRow
	Appt       *store.Appointment
	ApptText   string
	CanBook    bool
	Verified   bool
}

// customerEvents are the timeline entries a customer sees: what happened
// to the request, not the paging machinery or the technicians' notes.
var customerEvents = map[astreinte.EventKind][2]string{
	astreinte.EventCreated:      {"Ticket ouvert", "Ticket opened"},
	astreinte.EventAcknowledged: {"Pris en charge", "Taken in hand"},
	astreinte.EventCalledBack:   {"Rappelé", "Called back"},
	astreinte.EventResolved:     {"Résolu", "Resolved"},
	astreinte.EventReopened:     {"Rouvert", "Reopened"},
	astreinte.EventWork:         {"Travail", "Work"},
	astreinte.EventQuote:        {"Devis", "Quote"},
	astreinte.EventConfirmed:    {"Confirmation", "Confirmation"},
	astreinte.EventEmail:        {"Email", "Email"},
	astreinte.EventAppointment:  {"Rendez-vous", "Appointment"},
}

func (s *Server) ticketData(ctx context.Context, l lang.Tag, c *contact, t astreinte.Ticket) (*ticketData, error) {
	d := &ticketData{T: s.item(ctx, l, t), Ticket: t, Verified: !t.Unverified}
	if rq, err := s.Records.RequestOf(ctx, t.ID); err == nil {
		d.Request = &rq
	} else if !errors.Is(err, astreinte.ErrNotFound) {
		return nil, err
	}
	files, err := s.Records.Attachments(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	d.Files = files
	for i, rec := range t.Recordings {
		seq := len(t.Recordings) - i
		d.Recordings = append(d.Recordings, recordingItem{URL: fmt.Sprintf("%stickets/%s/recordings/%d", Prefix, t.Number, seq),
			When: l.DateTime(rec.At.In(s.loc())), Length: l.Duration(rec.Duration)})
	}
	ws, err := s.Records.WorkLog(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	var total time.Duration
	for _, w := range ws {
		total += w.Duration
		d.Work = append(d.Work, workRow{When: l.DateTime(w.At.In(s.loc())), Time: l.Duration(w.Duration), Note: w.Note})
	}
	if total > 0 {
		d.Total = l.Duration(total)
	}
	if u, err := s.Ledger.Usage(ctx, t); err == nil && u.Mode != "" && total > 0 {
		d.Units = fmt.Sprintf("%d × %s", u.Units, l.Duration(u.Unit))
	}
	if s.Approvals != nil {
		p, err := s.Approvals.Of(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		d.Quote, d.Confirm = p.Quote, p.Confirmation
		if p.Quote != nil {
			d.QuoteText = approvals.QuoteWords(l, *p.Quote)
		}
	}
	evs, err := s.Tickets.Timeline(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		words, ok := customerEvents[e.Kind]
		if !ok && !(e.Kind == astreinte.EventNote && e.Channel == string(astreinte.ChannelSpace)) {
			continue
		}
		what := l.Pick(words[0], words[1])
		if !ok {
			what = l.Pick("Demande", "Request")
		}
		row := eventRow{When: l.DateTime(e.At.In(s.loc())), What: what, Who: e.Actor}
		if e.Kind != astreinte.EventCreated {
			row.Detail = tickets.EventText(l, e)
		}
		d.Events = append(d.Events, row)
	}
	if s.Appointments != nil {
		as, err := s.Appointments.OfCustomer(ctx, c.Customer.Number)
		if err != nil {
			return nil, err
		}
		for i := range as {
			if as[i].TicketID == t.ID && as[i].CancelledAt.IsZero() {
				d.Appt = &as[i]
				d.ApptText = l.DateTime(as[i].Start.In(s.loc()))
			}
		}
		d.CanBook = d.Appt == nil && t.Status != astreinte.StatusResolved
	}
	return d, nil
}

func (s *Server) ticketPage(w http.ResponseWriter, r *http.Request, c *contact) {
	t, ok := s.ticketOf(w, r, c)
	if !ok {
		return
	}
	l := s.lang(r)
	d, err := s.ticketData(r.Context(), l, c, t)
	if err != nil {
		s.serverError(w, r, "ticket", err)
		return
	}
	s.render(w, http.StatusOK, "ticket", &view{L: l, Title: l.Pick("Ticket ", "Ticket ") + t.Number, Nav: "tickets", C: c,
		Flash: flash(l, r.URL.Query().Get("done")), Data: d})
}

func (s *Server) serveRecording(w http.ResponseWriter, r *http.Request, c *contact) {
	t, ok := s.ticketOf(w, r, c)
	if !ok {
		return
	}
	seq, err := strconv.Atoi(r.PathValue("seq"))
	rec, found := tickets.BySeq(t, seq)
	if err != nil || !found || rec.Path == "" {
		s.notFound(w, r)
		return
	}
	f, err := s.Recordings.Open(r.Context(), rec.Path) // the file, else the store's copy
	if err != nil {
		s.log().Error("space: recording", "ticket", t.Number, "error", err)
		s.notFound(w, r)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, fmt.Sprintf("%s-%d.wav", t.Number, seq), f.ModTime, f)
}

func (s *Server) serveAttachment(w http.ResponseWriter, r *http.Request, c *contact) {
	t, ok := s.ticketOf(w, r, c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	a, err := s.Records.Attachment(r.Context(), t.ID, id)
	if errors.Is(err, astreinte.ErrNotFound) {
		s.notFound(w, r)
		return
	} else if err != nil {
		s.serverError(w, r, "attachment", err)
		return
	}
	// Served as a download, never rendered here: a file is the customer's
	// content, not this site's.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
	w.Write(a.Data)
}

type newData struct {
	Subject, Text string
	MaxFiles      int
	MaxSize       string
	Sensitive     bool
}

func (s *Server) newPage(w http.ResponseWriter, r *http.Request, c *contact) {
	l := s.lang(r)
	s.render(w, http.StatusOK, "new", &view{L: l, Title: l.Pick("Nouvelle demande", "New request"), Nav: "new", C: c,
		Data: s.newData(l, "", "")})
}

// newData is the new-request form with its limits in l.
func (s *Server) newData(l lang.Tag, subject, text string) newData {
	return newData{Subject: subject, Text: text, MaxFiles: s.maxFiles(), MaxSize: s.sizeWords(l)}
}

// sizeWords is the request's size limit as l writes it ("10 Mo", "10 MB").
func (s *Server) sizeWords(l lang.Tag) string {
	return fmt.Sprintf(l.Pick("%d Mo", "%d MB"), s.maxRequest()>>20)
}

// errTooLarge is a request whose files are past the size limit.
var errTooLarge = errors.New("request too large")

// refuseLarge answers a request past the size limit: 413, the form again
// with what could be read of it, and the limit in the reader's language.
func (s *Server) refuseLarge(w http.ResponseWriter, r *http.Request, c *contact, d newData) {
	l := s.lang(r)
	d.MaxFiles, d.MaxSize = s.maxFiles(), s.sizeWords(l)
	s.render(w, http.StatusRequestEntityTooLarge, "new", &view{L: l, Title: l.Pick("Nouvelle demande", "New request"), Nav: "new", C: c,
		Error: fmt.Sprintf(l.Pick("Fichiers trop volumineux : %s au plus en tout. Rien n'a été enregistré.",
			"Files too large: %s at most in all. Nothing was saved."), d.MaxSize), Data: d})
}

// readRequest reads a request form: subject, text and files, bounded.
func (s *Server) readRequest(r *http.Request, c *contact) (tickets.Request, error) {
	l := s.lang(r)
	rq := tickets.Request{Customer: c.Customer.Number, Contact: c.Email,
		Subject: strings.TrimSpace(r.FormValue("subject")), Text: strings.TrimSpace(r.FormValue("text"))}
	if rq.Subject == "" {
		return rq, errors.New(l.Pick("Donnez un objet à la demande.", "Give the request a subject."))
	}
	if len(rq.Subject) > 200 || len(rq.Text) > 64<<10 {
		return rq, errors.New(l.Pick("Objet ou texte trop long.", "Subject or text too long."))
	}
	if r.MultipartForm == nil {
		return rq, nil
	}
	fs := r.MultipartForm.File["files"]
	if len(fs) > s.maxFiles() {
		return rq, fmt.Errorf(l.Pick("Au plus %d fichiers.", "At most %d files."), s.maxFiles())
	}
	var total int64
	for _, fh := range fs {
		if fh.Size == 0 && fh.Filename == "" {
			continue
		}
		if total += fh.Size; total > s.maxRequest() {
			return rq, errTooLarge
		}
		f, err := fh.Open()
		if err != nil {
			return rq, err
		}
		data, err := io.ReadAll(io.LimitReader(f, s.maxRequest()+1))
		f.Close()
		if err != nil {
			return rq, err
		}
		ct := fh.Header.Get("Content-Type")
		if ct == "" {
			ct = "application/octet-stream"
		}
		rq.Files = append(rq.Files, store.Attachment{Name: filepath.Base(fh.Filename), Type: ct, Data: data})
	}
	return rq, nil
}

func (s *Server) postRequest(w http.ResponseWriter, r *http.Request, c *contact) {
	l := s.lang(r)
	rq, err := s.readRequest(r, c)
	if errors.Is(err, errTooLarge) {
		s.refuseLarge(w, r, c, s.newData(l, rq.Subject, rq.Text))
		return
	}
	if err != nil {
		s.render(w, http.StatusBadRequest, "new", &view{L: l, Title: l.Pick("Nouvelle demande", "New request"), Nav: "new", C: c,
			Error: err.Error(), Data: s.newData(l, rq.Subject, rq.Text)})
		return
	}
	t, err := s.open(r.Context(), rq)
	if err != nil {
		// Nothing of it was kept (one transaction): the contact sends it
		// again, the form still filled in.
		s.log().Error("space: request not saved", "customer", rq.Customer, "contact", rq.Contact, "error", err)
		s.render(w, http.StatusInternalServerError, "new", &view{L: l, Title: l.Pick("Nouvelle demande", "New request"), Nav: "new", C: c,
			Error: l.Pick("Votre demande n'a pas pu être enregistrée : envoyez-la de nouveau (les fichiers sont à joindre encore).",
				"Your request could not be saved: send it again (attach the files again)."),
			Data: s.newData(l, rq.Subject, rq.Text)})
		return
	}
	http.Redirect(w, r, Prefix+"tickets/"+t.Number+"?done=request", http.StatusSeeOther)
}

// open makes the ticket of a request.
func (s *Server) open(ctx context.Context, rq tickets.Request) (astreinte.Ticket, error) {
	cs := astreinte.CaseOpen
	if s.Calendar != nil {
		cs, _ = s.Calendar.CaseAt(ctx, s.now())
	}
	t, err := s.Tickets.FromSpace(ctx, s.Requests, rq, s.Line, cs)
	if err != nil {
		return t, err
	}
	s.log().Info("space: request opened", "ticket", t.Number, "customer", rq.Customer, "contact", rq.Contact,
		"files", len(rq.Files), "due", t.DueAt)
	return t, nil
}

func (s *Server) postQuote(w http.ResponseWriter, r *http.Request, c *contact) {
	t, ok := s.ticketOf(w, r, c)
	if !ok || s.Approvals == nil {
		if ok {
			s.notFound(w, r)
		}
		return
	}
	accepted := r.PostForm.Get("decision") == "accept"
	if err := s.Approvals.DecideQuote(r.Context(), t, accepted, c.actor()); errors.Is(err, astreinte.ErrNotFound) {
		http.Error(w, s.lang(r).Pick("Aucun devis en attente.", "No quote awaits an answer."), http.StatusConflict)
		return
	} else if errors.Is(err, approvals.ErrNotContact) {
		s.notFound(w, r)
		return
	} else if err != nil {
		s.serverError(w, r, "quote", err)
		return
	}
	done := "quote-refused"
	if accepted {
		done = "quote-accepted"
	}
	http.Redirect(w, r, Prefix+"tickets/"+t.Number+"?done="+done, http.StatusSeeOther)
}

func (s *Server) postConfirmation(w http.ResponseWriter, r *http.Request, c *contact) {
	t, ok := s.ticketOf(w, r, c)
	if !ok || s.Approvals == nil {
		if ok {
			s.notFound(w, r)
		}
		return
	}
	confirmed := r.PostForm.Get("decision") == "confirm"
	if err := s.Approvals.DecideConfirmation(r.Context(), t, confirmed, c.actor()); errors.Is(err, astreinte.ErrNotFound) {
		http.Error(w, s.lang(r).Pick("Aucune confirmation en attente.", "No confirmation awaits an answer."), http.StatusConflict)
		return
	} else if errors.Is(err, approvals.ErrNotContact) {
		s.notFound(w, r)
		return
	} else if err != nil {
		s.serverError(w, r, "confirmation", err)
		return
	}
	done := "not-confirmed"
	if confirmed {
		done = "confirmed"
	}
	http.Redirect(w, r, Prefix+"tickets/"+t.Number+"?done="+done, http.StatusSeeOther)
}

// monthItem is a month with a statement.
type monthItem struct {
	Key, Label string
}

func monthLabel(l lang.Tag, t time.Time) string { return l.Month(t) }

// months lists the months with work on the customer's tickets, newest
// first.
func (s *Server) months(ctx context.Context, l lang.Tag, c *contact) ([]monthItem, error) {
	ts, err := s.Records.TicketsOfCustomer(ctx, c.Customer.Number)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []monthItem
	for _, t := range ts {
		ws, err := s.Records.WorkLog(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			at := w.At.In(s.loc())
			k := at.Format("2006-01")
			if !seen[k] {
				seen[k] = true
				out = append(out, monthItem{Key: k, Label: monthLabel(l, at)})
			}
		}
	}
	slices.SortFunc(out, func(a, b monthItem) int { return strings.Compare(b.Key, a.Key) })
	return out, nil
}

func (s *Server) statementsPage(w http.ResponseWriter, r *http.Request, c *contact) {
	l := s.lang(r)
	ms, err := s.months(r.Context(), l, c)
	if err != nil {
		s.serverError(w, r, "statements", err)
		return
	}
	s.render(w, http.StatusOK, "statements", &view{L: l, Title: l.Pick("Relevés", "Statements"), Nav: "statements", C: c, Data: ms})
}

// statementLine is a ticket on the customer's statement, in cents as the
// admins' statement (billing/) computes them.
type statementLine struct {
	Number, Worked, Units, HT, VAT, TTC, Note string
}

type statementData struct {
	Month                string
	Lines                []statementLine
	Worked, HT, VAT, TTC string
	HTc, VATc, TTCc      int64
}

// statement is the customer's statement of month ("2026-11").
func (s *Server) statement(ctx context.Context, l lang.Tag, c *contact, month string) (statementData, tickets.Statement, error) {
	from, err := time.ParseInLocation("2006-01", month, s.loc())
	if err != nil {
		return statementData{}, tickets.Statement{}, astreinte.ErrNotFound
	}
	st, err := s.Ledger.Statement(ctx, c.Customer.Number, from, from.AddDate(0, 1, 0))
	if err != nil {
		return statementData{}, st, err
	}
	d := statementData{Month: monthLabel(l, from), Worked: l.Duration(st.Worked), HT: l.Money(st.HT),
		VAT: l.Money(st.VAT), TTC: l.Money(st.TTC), HTc: st.HT, VATc: st.VAT, TTCc: st.TTC}
	for _, ln := range st.Lines {
		sl := statementLine{Number: ln.Ticket.Number, Worked: l.Duration(ln.Worked), HT: l.Money(ln.HT),
			VAT: l.Money(ln.VAT), TTC: l.Money(ln.TTC)}
		if ln.Units > 0 {
			sl.Units = fmt.Sprintf("%d × %s", ln.Units, l.Duration(ln.Contract.Billing.Unit))
		}
		switch {
		case ln.Unbillable != "":
			sl.Note = l.Pick("non facturé", "not billed")
		case ln.Free:
			sl.Note = l.Pick("support gratuit", "free support")
		case ln.Capped:
			sl.Note = l.Pick("plafonné au devis", "capped at the quote")
		case ln.Warranty > 0:
			sl.Note = l.Pick("garantie : ", "warranty: ") + l.Duration(ln.Warranty)
		}
		d.Lines = append(d.Lines, sl)
	}
	return d, st, nil
}

func (s *Server) statementPage(w http.ResponseWriter, r *http.Request, c *contact) {
	l := s.lang(r)
	d, _, err := s.statement(r.Context(), l, c, r.PathValue("month"))
	if errors.Is(err, astreinte.ErrNotFound) {
		s.notFound(w, r)
		return
	} else if err != nil {
		s.serverError(w, r, "statement", err)
		return
	}
	s.render(w, http.StatusOK, "statement", &view{L: l, Title: l.Pick("Relevé ", "Statement ") + d.Month, Nav: "statements", C: c, Data: d})
}
