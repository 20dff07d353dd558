package space

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/store"
	"golang.org/x/crypto/bcrypt"
)

// Cookie names: the session (HttpOnly, SameSite=Lax, path /client/) and
// the double-submit token of the forms shown before sign-in.
const (
	sessionCookie = "astreinte_client"
	formCookie    = "astreinte_client_form"
)

// Limits of sign-in: links asked per address and per source, and failed
// passwords per address and per source, within limitWindow.
const (
	linksPerAddress     = 3
	linksPerSource      = 10
	passwordsPerAddress = 5
	passwordsPerSource  = 20
	limitWindow         = 15 * time.Minute
	minPassword         = 10
)

// window counts events per key within limitWindow.
type window struct {
	max int
	ts  map[string][]time.Time
}

// limits are the space's sign-in limits, in memory.
type limits struct {
	now               func() time.Time
	mu                sync.Mutex
	linkAddr, linkSrc window
	passAddr, passSrc window
}

func newLimits(now func() time.Time) *limits {
	return &limits{now: now,
		linkAddr: window{max: linksPerAddress, ts: map[string][]time.Time{}},
		linkSrc:  window{max: linksPerSource, ts: map[string][]time.Time{}},
		passAddr: window{max: passwordsPerAddress, ts: map[string][]time.Time{}},
		passSrc:  window{max: passwordsPerSource, ts: map[string][]time.Time{}}}
}

func (w *window) full(k string, now time.Time) bool {
	ts := w.ts[k]
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-limitWindow)) {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(w.ts, k)
		return false
	}
	w.ts[k] = ts
	return len(ts) >= w.max
}

func (w *window) add(k string, now time.Time) { w.ts[k] = append(w.ts[k], now) }

// takeLink counts a link asked for addr from src, and says false when
// either has asked too many: whether the address exists plays no part.
func (l *limits) takeLink(addr, src string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.linkAddr.full(addr, now) || l.linkSrc.full(src, now) {
		return false
	}
	l.linkAddr.add(addr, now)
	l.linkSrc.add(src, now)
	return true
}

func (l *limits) passwordBlocked(addr, src string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	return l.passAddr.full(addr, now) || l.passSrc.full(src, now)
}

func (l *limits) passwordFailed(addr, src string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.passAddr.add(addr, now)
	l.passSrc.add(src, now)
}

// contact is the signed-in reader of a request: their address, their
// customer as the record says now, and the session.
type contact struct {
	Email    string
	Customer customers.Customer
	Sess     store.ContactSession
}

// actor is how the timeline names a contact.
func (c *contact) actor() string { return c.Email }

func remoteAddr(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// session finds the signed-in contact of r: a live session whose address
// still belongs to a customer record (a removed contact is signed out).
func (s *Server) session(r *http.Request) (*contact, error) {
	c, _ := r.Cookie(sessionCookie)
	if c == nil || c.Value == "" {
		return nil, astreinte.ErrNotFound
	}
	sess, err := s.Auth.ContactSessionByHash(r.Context(), accounts.Hash(c.Value))
	if err != nil {
		return nil, err
	}
	if !s.now().Before(sess.ExpiresAt) {
		return nil, astreinte.ErrNotFound
	}
	cust, err := s.Contacts.CustomerByEmail(r.Context(), sess.Email)
	if err != nil {
		return nil, err
	}
	return &contact{Email: sess.Email, Customer: cust, Sess: sess}, nil
}

// page wraps a page of the signed-in space: without a session a GET goes
// to the sign-in page and anything else is refused; a POST needs the
// session's CSRF token (form field csrf, or header X-CSRF-Token).
func (s *Server) page(h func(w http.ResponseWriter, r *http.Request, c *contact)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.session(r)
		if err != nil {
			if !errors.Is(err, astreinte.ErrNotFound) {
				s.serverError(w, r, "session", err)
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, s.lang(r).Pick("Non connecté.", "Not signed in."), http.StatusUnauthorized)
			return
		}
		r = s.withCustomerLang(r, c)
		if r.Method == http.MethodPost && !s.csrfOK(w, r, c.Sess.CSRF) {
			if tooLarge(r) {
				s.log().Warn("space: refused a form larger than allowed", "path", r.URL.Path, "contact", c.Email)
				if r.URL.Path == Prefix+"tickets" { // the request form, the one with files
					s.refuseLarge(w, r, c, newData{})
					return
				}
				http.Error(w, s.lang(r).Pick("Formulaire trop volumineux.", "Form too large."), http.StatusRequestEntityTooLarge)
				return
			}
			s.log().Warn("space: refused form without a valid CSRF token", "path", r.URL.Path, "contact", c.Email)
			http.Error(w, s.lang(r).Pick("Formulaire expiré : rechargez la page.", "Form expired: reload the page."), http.StatusForbidden)
			return
		}
		h(w, r, c)
	}
}

// csrfOK checks a POST's token: the X-CSRF-Token header, else the form's
// csrf field (a multipart form is parsed here, bounded: a body past the
// bound is refused, and tooLarge says so).
func (s *Server) csrfOK(w http.ResponseWriter, r *http.Request, want string) bool {
	if h := r.Header.Get("X-CSRF-Token"); h != "" {
		return sameToken(h, want)
	}
	body := &sizedBody{ReadCloser: http.MaxBytesReader(w, r.Body, s.maxRequest()+1<<20)}
	r.Body = body
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return false
		}
		return sameToken(r.FormValue("csrf"), want)
	}
	if err := r.ParseForm(); err != nil {
		return false
	}
	return sameToken(r.PostForm.Get("csrf"), want)
}

// sizedBody is a request's bounded body that remembers whether the bound
// was hit (the form parsers do not all keep the error).
type sizedBody struct {
	io.ReadCloser
	over bool
}

func (b *sizedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		b.over = true
	}
	return n, err
}

// tooLarge says whether r's form was refused for its size.
func tooLarge(r *http.Request) bool {
	b, ok := r.Body.(*sizedBody)
	return ok && b.over
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// formToken sets and returns a fresh double-submit token for a form shown
// before sign-in.
func (s *Server) formToken(w http.ResponseWriter) string {
	tok, _ := accounts.NewSecret()
	s.setCookie(w, formCookie, tok, 3600)
	return tok
}

// formOK checks a pre-sign-in form's double-submit token.
func (s *Server) formOK(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		return false
	}
	c, _ := r.Cookie(formCookie)
	return c != nil && sameToken(r.PostForm.Get("csrf"), c.Value)
}

type loginData struct {
	Email, Next string
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if _, err := s.session(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, "", "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, email, msg string) {
	l := s.lang(r)
	s.render(w, status, "login", &view{L: l, Title: l.Pick("Espace client", "Customer space"), CSRF: s.formToken(w),
		Error: msg, Data: loginData{Email: email, Next: safeNext(r.FormValue("next"))}})
}

// postLinkRequest sends a sign-in link to a contact's address. The answer
// is the same whether the address is a contact or not, and the mail is
// sent after the answer, so neither the page nor its timing tells.
func (s *Server) postLinkRequest(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	if !s.formOK(w, r) {
		http.Error(w, l.Pick("Formulaire expiré : rechargez la page.", "Form expired: reload the page."), http.StatusForbidden)
		return
	}
	raw := r.PostForm.Get("email")
	addr, err := customers.NormalizeEmail(raw)
	if err != nil {
		s.showLogin(w, r, http.StatusBadRequest, raw, l.Pick("Adresse email invalide.", "Invalid email address."))
		return
	}
	if !s.limits.takeLink(addr, remoteAddr(r)) {
		s.log().Warn("space: sign-in links refused: too many asked", "email", addr, "remote", remoteAddr(r))
		s.showLogin(w, r, http.StatusTooManyRequests, addr, l.Pick("Trop de demandes : réessayez dans quelques minutes.",
			"Too many requests: try again in a few minutes."))
		return
	}
	go s.sendLink(context.WithoutCancel(r.Context()), addr, l, s.statedLang(r), safeNext(r.PostForm.Get("next")))
	s.render(w, http.StatusOK, "sent", &view{L: l, Title: l.Pick("Lien envoyé", "Link sent"), Data: addr})
}

// sendLink mails a one-time link to addr when it is a contact's address,
// in l when the reader stated a language (their choice or their
// browser's), else in their customer's.
func (s *Server) sendLink(ctx context.Context, addr string, l lang.Tag, stated bool, next string) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c, err := s.Contacts.CustomerByEmail(ctx, addr)
	if errors.Is(err, astreinte.ErrNotFound) {
		s.log().Info("space: sign-in link asked for an address of no customer", "email", addr)
		return
	}
	if err != nil {
		s.log().Error("space: sign-in link: find the contact", "email", addr, "error", err)
		return
	}
	if !stated {
		l = c.Lang(l)
	}
	token, hash := accounts.NewSecret()
	expires := s.now().Add(LinkTTL)
	if err := s.Auth.AddContactLink(ctx, hash, addr, expires); err != nil {
		s.log().Error("space: sign-in link: store", "email", addr, "error", err)
		return
	}
	link := s.BaseURL + Prefix + "link?token=" + url.QueryEscape(token)
	if next != "/client/tickets" {
		link += "&next=" + url.QueryEscape(next)
	}
	m := &mailer.Message{To: []*mail.Address{{Address: addr}},
		Subject: l.Pick("Votre lien de connexion à l'espace client", "Your sign-in link to the customer space"),
		Text: l.Pick("Bonjour,\n\nPour vous connecter à l'espace client de "+c.Name+", ouvrez ce lien :\n\n"+link+
			"\n\nIl fonctionne une seule fois, pendant 15 minutes (jusqu'à "+l.Clock(expires.In(s.loc()))+").\n"+
			"Si vous n'avez rien demandé, ignorez ce message.\n",
			"Hello,\n\nTo sign in to the customer space of "+c.Name+", open this link:\n\n"+link+
				"\n\nIt works once, for 15 minutes (until "+l.Clock(expires.In(s.loc()))+").\n"+
				"If you did not ask for it, ignore this message.\n")}
	m.Add("Auto-Submitted", "auto-generated")
	m.Add("Content-Language", string(l))
	if err := s.Mail.Send(ctx, m); err != nil {
		s.log().Error("space: sign-in link: send", "email", addr, "error", err)
		return
	}
	s.log().Info("space: sign-in link sent", "email", addr, "customer", c.Number)
}

type linkData struct{ Token, Next string }

// showLink shows the button that spends a link: opening the link alone
// (a mail scanner following it) signs nobody in.
func (s *Server) showLink(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	s.render(w, http.StatusOK, "link", &view{L: l, Title: l.Pick("Connexion", "Sign in"), CSRF: s.formToken(w),
		Data: linkData{Token: r.URL.Query().Get("token"), Next: safeNext(r.URL.Query().Get("next"))}})
}

func (s *Server) postLink(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	if !s.formOK(w, r) {
		http.Error(w, l.Pick("Formulaire expiré : rechargez la page.", "Form expired: reload the page."), http.StatusForbidden)
		return
	}
	email, err := s.Auth.UseContactLink(r.Context(), accounts.Hash(r.PostForm.Get("token")), s.now())
	var msg string
	switch {
	case errors.Is(err, store.ErrLinkUsed):
		msg = l.Pick("Ce lien a déjà servi : demandez-en un nouveau.", "This link was already used: ask for a new one.")
	case errors.Is(err, store.ErrLinkExpired):
		msg = l.Pick("Ce lien a expiré : demandez-en un nouveau.", "This link has expired: ask for a new one.")
	case errors.Is(err, astreinte.ErrNotFound):
		msg = l.Pick("Ce lien n'est pas valable : demandez-en un nouveau.", "This link is not valid: ask for a new one.")
	case err != nil:
		s.serverError(w, r, "use sign-in link", err)
		return
	}
	if msg != "" {
		s.log().Warn("space: sign-in link refused", "error", err, "remote", remoteAddr(r))
		s.showLogin(w, r, http.StatusForbidden, "", msg)
		return
	}
	s.signIn(w, r, email, safeNext(r.PostForm.Get("next")))
}

// postPassword signs in with an address and the password its contact set.
// A wrong address and a wrong password get the same answer and take the
// same time (a bcrypt comparison either way).
func (s *Server) postPassword(w http.ResponseWriter, r *http.Request) {
	l := s.lang(r)
	if !s.formOK(w, r) {
		http.Error(w, l.Pick("Formulaire expiré : rechargez la page.", "Form expired: reload the page."), http.StatusForbidden)
		return
	}
	addr, _ := customers.NormalizeEmail(r.PostForm.Get("email"))
	src := remoteAddr(r)
	if s.limits.passwordBlocked(addr, src) {
		s.showLogin(w, r, http.StatusTooManyRequests, addr, l.Pick("Trop d'échecs : réessayez dans quelques minutes.",
			"Too many failed sign-ins: try again in a few minutes."))
		return
	}
	hash, err := s.Auth.ContactPassword(r.Context(), addr)
	if err != nil && !errors.Is(err, astreinte.ErrNotFound) {
		s.serverError(w, r, "password", err)
		return
	}
	if hash == "" {
		hash = string(s.dummyHash())
	}
	ok := bcrypt.CompareHashAndPassword([]byte(hash), []byte(r.PostForm.Get("password"))) == nil && err == nil
	if ok {
		if _, err := s.Contacts.CustomerByEmail(r.Context(), addr); err != nil {
			ok = false
		}
	}
	if !ok {
		s.limits.passwordFailed(addr, src)
		s.log().Warn("space: failed password sign-in", "email", addr, "remote", src)
		s.showLogin(w, r, http.StatusUnauthorized, addr, l.Pick("Adresse ou mot de passe incorrect.", "Wrong address or password."))
		return
	}
	s.signIn(w, r, addr, safeNext(r.PostForm.Get("next")))
}

// dummyHash is compared when an address has no password: a hash of the
// same cost as the contacts', so that both take the same time.
func (s *Server) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte("astreinte-no-such-contact"), s.passwordCost())
	})
	return s.dummy
}

func (s *Server) passwordCost() int {
	if s.PasswordCost > 0 {
		return s.PasswordCost
	}
	return bcrypt.DefaultCost
}

// signIn opens a session for email (a contact's address) and goes to next.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, email, next string) {
	c, err := s.Contacts.CustomerByEmail(r.Context(), email)
	if err != nil {
		l := s.lang(r)
		s.showLogin(w, r, http.StatusForbidden, "", l.Pick("Cette adresse n'est plus celle d'un client.", "This address is no longer a customer's."))
		return
	}
	secret, hash := accounts.NewSecret()
	csrf, _ := accounts.NewSecret()
	now := s.now()
	sess := store.ContactSession{Hash: hash, Email: email, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	if err := s.Auth.AddContactSession(r.Context(), sess); err != nil {
		s.serverError(w, r, "add session", err)
		return
	}
	s.setCookie(w, formCookie, "", -1)
	s.setCookie(w, sessionCookie, secret, int(SessionTTL/time.Second))
	s.log().Info("space: signed in", "email", email, "customer", c.Number, "remote", remoteAddr(r))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request, c *contact) {
	if err := s.Auth.RemoveContactSession(r.Context(), c.Sess.Hash); err != nil {
		s.log().Error("space: sign out", "error", err)
	}
	s.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, c *contact) {
	s.showAccount(w, r, c, http.StatusOK, "", "")
}

func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, c *contact, status int, flash, msg string) {
	l := s.lang(r)
	s.render(w, status, "account", &view{L: l, Title: l.Pick("Mon compte", "My account"), Nav: "account", C: c,
		Flash: flash, Error: msg})
}

func (s *Server) postAccountPassword(w http.ResponseWriter, r *http.Request, c *contact) {
	l := s.lang(r)
	p := r.PostForm.Get("password")
	if len([]rune(p)) < minPassword {
		s.showAccount(w, r, c, http.StatusBadRequest, "", l.Pick("Au moins 10 caractères.", "At least 10 characters."))
		return
	}
	if p != r.PostForm.Get("again") {
		s.showAccount(w, r, c, http.StatusBadRequest, "", l.Pick("Les deux saisies diffèrent.", "The two entries differ."))
		return
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), s.passwordCost())
	if err != nil {
		s.serverError(w, r, "hash password", err)
		return
	}
	if err := s.Auth.SetContactPassword(r.Context(), c.Email, string(h)); err != nil {
		s.serverError(w, r, "set password", err)
		return
	}
	s.log().Info("space: contact set a password", "email", c.Email)
	s.showAccount(w, r, c, http.StatusOK, l.Pick("Mot de passe enregistré.", "Password saved."), "")
}

// safeNext keeps a redirect inside the space.
func safeNext(n string) string {
	if !strings.HasPrefix(n, Prefix) || strings.HasPrefix(n, "//") || strings.Contains(n, "\\") || n == Prefix {
		return Prefix + "tickets"
	}
	return n
}
