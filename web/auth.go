package web

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/lang"
)

// Cookie names. The session cookie is HttpOnly and SameSite=Lax (a link
// from an email still opens the page logged in; a cross-site POST carries
// no cookie); every form also carries the session's CSRF token.
const (
	sessionCookie   = "astreinte_session"
	loginCSRFCookie = "astreinte_login"
)

// who is the logged-in user of a page request.
type who struct {
	User accounts.User
	Sess accounts.Session
	L    lang.Tag // the language the user reads
}

func (w *who) Admin() bool { return w.User.Role == accounts.Admin }

// remoteAddr is the client's address without the port (the unit of
// per-address login limiting). Proxies' headers are not trusted.
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// page wraps a handler of the technicians' pages: it needs a session
// (GET without one goes to the login page), and a POST needs the
// session's CSRF token in the form.
func (s *Server) page(h func(w http.ResponseWriter, r *http.Request, u *who)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie(sessionCookie)
		var secret string
		if c != nil {
			secret = c.Value
		}
		sess, user, err := s.Accounts.Session(r.Context(), secret)
		if err != nil {
			if !errors.Is(err, accounts.ErrNotFound) {
				s.log().Error("web: session", "error", err)
				http.Error(w, browserLang(r).Pick("Erreur du serveur.", "Server error."), http.StatusInternalServerError)
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, browserLang(r).Pick("non connecté", "not logged in"), http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil || !sameToken(r.PostForm.Get("csrf"), sess.CSRF) {
				s.log().Warn("web: refused form without a valid CSRF token", "path", r.URL.Path, "user", user.Name,
					"remote", r.RemoteAddr)
				http.Error(w, s.readerLang(r, user).Pick("formulaire expiré : rechargez la page", "invalid form token: reload the page"), http.StatusForbidden)
				return
			}
		}
		h(w, r, &who{User: user, Sess: sess, L: s.readerLang(r, user)})
	}
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

type loginData struct {
	Next, Error string
	Name        string
}

// showLogin shows the login form, with a fresh double-submit CSRF token
// (there is no session yet to hold one).
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request) {
	tok, _ := accounts.NewSecret()
	s.setCookie(w, loginCSRFCookie, tok, 3600)
	l := browserLang(r)
	s.renderPage(w, http.StatusOK, "login", &view{L: l, Title: l.Pick("Connexion", "Log in"), CSRF: tok,
		Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}})
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, browserLang(r).Pick("requête invalide", "bad request"), http.StatusBadRequest)
		return
	}
	c, _ := r.Cookie(loginCSRFCookie)
	if c == nil || !sameToken(r.PostForm.Get("csrf"), c.Value) {
		http.Error(w, browserLang(r).Pick("formulaire expiré : rechargez la page", "invalid form token: reload the page"), http.StatusForbidden)
		return
	}
	name, next := strings.TrimSpace(r.PostForm.Get("name")), safeNext(r.PostForm.Get("next"))
	secret, sess, _, err := s.Accounts.Login(r.Context(), name, r.PostForm.Get("password"), remoteAddr(r))
	if err != nil {
		l := browserLang(r)
		status, msg := http.StatusUnauthorized, l.Pick("Nom ou mot de passe incorrect.", "Wrong user name or password.")
		switch {
		case errors.Is(err, accounts.ErrRateLimited):
			status, msg = http.StatusTooManyRequests, l.Pick("Trop d'échecs : réessayez dans quelques minutes.", "Too many failed logins: try again in a few minutes.")
		case !errors.Is(err, accounts.ErrBadLogin):
			s.log().Error("web: login", "error", err)
			status, msg = http.StatusInternalServerError, l.Pick("Erreur du serveur.", "Server error.")
		}
		tok, _ := accounts.NewSecret()
		s.setCookie(w, loginCSRFCookie, tok, 3600)
		s.renderPage(w, status, "login", &view{L: l, Title: l.Pick("Connexion", "Log in"), CSRF: tok,
			Data: loginData{Next: next, Error: msg, Name: name}})
		return
	}
	s.setCookie(w, loginCSRFCookie, "", -1)
	s.setCookie(w, sessionCookie, secret, int(sess.ExpiresAt.Sub(sess.CreatedAt).Seconds()))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request, u *who) {
	if c, _ := r.Cookie(sessionCookie); c != nil {
		if err := s.Accounts.Logout(r.Context(), c.Value); err != nil {
			s.log().Error("web: logout", "error", err)
		}
	}
	s.setCookie(w, sessionCookie, "", -1)
	s.log().Info("web: logout", "user", u.User.Name)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a redirect after login on this site.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") {
		return "/tickets"
	}
	return n
}
