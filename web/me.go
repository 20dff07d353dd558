package web

import (
	"net/http"

	"github.com/astreinte/astreinte/lang"
)

type meData struct {
	Setting string // the user's own setting: "", "fr", "en"
	Person  string
}

// mePage shows the user their settings: the language of the pages.
func (s *Server) mePage(w http.ResponseWriter, r *http.Request, u *who) {
	s.renderPage(w, http.StatusOK, "me", &view{Title: u.User.Name, Nav: "me", User: u,
		Flash: doneMessages[r.URL.Query().Get("done")].In(u.L), Data: meData{Setting: u.User.Language, Person: u.User.Person}})
}

// meLanguage saves the user's language ("" : their browser's).
func (s *Server) meLanguage(w http.ResponseWriter, r *http.Request, u *who) {
	v := r.PostForm.Get("language")
	if v != "" {
		if _, ok := lang.Parse(v); !ok {
			http.Error(w, u.L.Pick("langue inconnue : fr ou en", "unknown language: fr or en"), http.StatusBadRequest)
			return
		}
	}
	if err := s.Accounts.SetLanguage(r.Context(), u.User.Name, v); err != nil {
		s.pageError(w, u, http.StatusInternalServerError, err)
		return
	}
	s.log().Info("web: language set", "user", u.User.Name, "language", v)
	http.Redirect(w, r, "/me?done=language", http.StatusSeeOther)
}
