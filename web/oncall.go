package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
)

// horizon is how far ahead the on-call page looks.
const horizon = 14 * 24 * time.Hour

type onCallRow struct {
	Tier, Person, Until string
	Nobody, Override    bool
}

type shiftRow struct {
	Rotation, Person, From, To string
	Override, Nobody, Mine     bool
}

type overrideRow struct {
	ID                                int64
	Replaced, By, From, To, Note, Set string
}

type oncallData struct {
	Now       []onCallRow
	Shifts    []shiftRow
	Gaps      []shiftRow
	Overrides []overrideRow
	People    []oncall.Person
	CanTake   bool
	OnCall    bool // the user is on call now for the first tier
	Person    string
	Default   string // datetime-local value proposed for "until"
	Zone      string
	FeedURL   string // the user's calendar feed (feed.go), "" when they are nobody on the rota
	Swaps     []swapRow
	CanSwap   bool // swaps are served and the user is on the rota
	Approval  bool // a taken swap waits for an admin
}

// overridesNow loads the shift overrides around [from, to) and the
// calendar override.
func (s *Server) overridesNow(r *http.Request, from, to time.Time) ([]oncall.ShiftOverride, *calendar.Override, error) {
	ovs, err := s.Overrides.ShiftOverrides(r.Context(), from.Add(-horizon), to)
	if err != nil {
		return nil, nil, err
	}
	calOv, err := s.Overrides.CalendarOverride(r.Context())
	return ovs, calOv, err
}

func personName(p oncall.Person) string {
	if p.ID == "" {
		return ""
	}
	if p.Name != "" {
		return p.Name
	}
	return p.ID
}

func (s *Server) oncallPage(w http.ResponseWriter, r *http.Request, u *who) {
	if s.Schedule == nil || s.Overrides == nil {
		s.pageError(w, u, http.StatusNotFound, actionError{http.StatusNotFound, tr{"pas d'astreinte configurée", "no on-call schedule configured"}})
		return
	}
	now := s.now()
	end := now.Add(horizon)
	ovs, calOv, err := s.overridesNow(r, now, end)
	if err != nil {
		s.pageError(w, u, http.StatusInternalServerError, err)
		return
	}
	d := oncallData{People: s.Schedule.People(), Person: u.User.Person, Zone: s.loc().String(),
		CanTake: u.User.Person != "" && len(s.Schedule.Tiers()) > 0}
	if _, ok := s.Schedule.Person(u.User.Person); ok {
		d.FeedURL = s.feedURL(r, u.User.Person)
	}
	// "I take it until" proposes the end of the first tier's current turn
	// (support opening, a hand-off), else the next 08:00.
	until := nextMorning(now.In(s.loc()))
	for _, oc := range s.Schedule.WhoAt(now, ovs, calOv) {
		if oc.TierIndex == 0 && oc.Until.After(now) && oc.Until.Before(now.Add(horizon)) {
			until = oc.Until
		}
		if oc.TierIndex == 0 && oc.Person.ID != "" && oc.Person.ID == u.User.Person {
			d.OnCall = true // the form would replace her by herself
		}
		row := onCallRow{Tier: oc.Tier, Person: personName(oc.Person), Nobody: oc.Person.ID == "",
			Override: oc.Override != nil}
		if !oc.Until.IsZero() {
			row.Until = s.clock(u.L, oc.Until)
		}
		d.Now = append(d.Now, row)
	}
	d.Default = until.In(s.loc()).Format("2006-01-02T15:04")
	for _, sh := range s.Schedule.Shifts(now, end, ovs) {
		d.Shifts = append(d.Shifts, shiftRow{Rotation: sh.Rotation, Person: personName(sh.Person),
			From: s.clock(u.L, sh.From), To: s.clock(u.L, sh.To), Override: sh.Override != nil, Nobody: sh.Person.ID == "",
			Mine: sh.Person.ID != "" && sh.Person.ID == u.User.Person})
	}
	for _, g := range s.Schedule.Gaps(now, end, ovs, calOv) {
		d.Gaps = append(d.Gaps, shiftRow{Rotation: g.Tier, From: s.clock(u.L, g.From), To: s.clock(u.L, g.To), Nobody: true})
	}
	for _, o := range ovs {
		if !o.To.After(now) {
			continue
		}
		by := o.By
		if by == "" {
			by = u.L.Pick("personne", "nobody")
		}
		d.Overrides = append(d.Overrides, overrideRow{ID: o.ID, Replaced: o.Replaced, By: by, From: s.clock(u.L, o.From),
			To: s.clock(u.L, o.To), Note: o.Note, Set: o.SetBy})
	}
	d.Swaps, d.CanSwap = s.swapRows(r, u), s.Swaps != nil && u.User.Person != ""
	d.Approval = s.Swaps != nil && s.Swaps.RequireApproval
	s.renderPage(w, http.StatusOK, "oncall", &view{Title: u.L.Pick("Astreinte", "On call"), Nav: "oncall", User: u,
		Flash: doneMessages[r.URL.Query().Get("done")].In(u.L), Data: d})
}

// nextMorning is the next 08:00: the usual end of a night's on-call.
func nextMorning(t time.Time) time.Time {
	m := time.Date(t.Year(), t.Month(), t.Day(), 8, 0, 0, 0, t.Location())
	if !m.After(t) {
		m = time.Date(t.Year(), t.Month(), t.Day()+1, 8, 0, 0, 0, t.Location())
	}
	return m
}

// parseLocal reads a datetime-local form value in the calendar's zone.
func (s *Server) parseLocal(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, s.loc()); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q: want 2026-11-24T08:00", v)
}

// takeOverrides are the overrides that put person on call for the first
// tier over [from, to): one per scheduled shift it covers, each replacing
// the technician the rota has then (so earlier overrides are replaced too).
func (s *Server) takeOverrides(person string, from, to time.Time, note string) ([]oncall.ShiftOverride, error) {
	tiers := s.Schedule.Tiers()
	if len(tiers) == 0 {
		return nil, actionError{http.StatusBadRequest, tr{"aucun niveau d'astreinte", "no escalation tier"}}
	}
	tier := tiers[0]
	base := oncall.ShiftOverride{By: person, Note: note, SetBy: person}
	if tier.Rotation == "" {
		if tier.Person == person {
			return nil, actionError{http.StatusBadRequest, tr{"vous êtes déjà d'astreinte", "you are already on call"}}
		}
		o := base
		o.Replaced, o.From, o.To = tier.Person, from, to
		return []oncall.ShiftOverride{o}, nil
	}
	var out []oncall.ShiftOverride
	for _, sh := range s.Schedule.Shifts(from, to, nil) {
		if sh.Rotation != tier.Rotation || sh.Person.ID == "" || sh.Person.ID == person {
			continue
		}
		o := base
		o.Replaced = sh.Person.ID
		o.From, o.To = oncall.Overlap(sh.From, sh.To, from, to)
		if o.To.After(o.From) {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return nil, actionError{http.StatusBadRequest, tr{"personne à remplacer sur cette période", "nobody to replace in that period"}}
	}
	return out, nil
}

// oncallTake: "I take it until …" — the user's person replaces whoever
// the first tier has, from now.
func (s *Server) oncallTake(w http.ResponseWriter, r *http.Request, u *who) {
	if s.Schedule == nil || s.Overrides == nil || u.User.Person == "" {
		http.Error(w, u.L.Pick("votre compte n'est pas lié à un technicien", "your account is not a technician of the rota"), http.StatusForbidden)
		return
	}
	until, err := s.parseLocal(r.PostForm.Get("until"))
	now := s.now()
	if err == nil && !until.After(now) {
		err = actionError{http.StatusBadRequest, tr{"la fin est déjà passée", "the end is in the past"}}
	}
	var ovs []oncall.ShiftOverride
	if err == nil {
		ovs, err = s.takeOverrides(u.User.Person, now, until, strings.TrimSpace(r.PostForm.Get("note")))
	}
	if err != nil {
		http.Error(w, errText(u.L, err), http.StatusBadRequest)
		return
	}
	for _, o := range ovs {
		o.SetAt = now
		if _, err := s.Overrides.AddShiftOverride(r.Context(), o); err != nil {
			s.log().Error("web: take on-call", "error", err)
			http.Error(w, u.L.Pick("Erreur du serveur.", "Server error."), http.StatusInternalServerError)
			return
		}
	}
	s.log().Info("web: on-call taken", "person", u.User.Person, "until", until, "replaced", len(ovs))
	http.Redirect(w, r, "/oncall?done=taken", http.StatusSeeOther)
}

// oncallAdd: an admin adds an override.
func (s *Server) oncallAdd(w http.ResponseWriter, r *http.Request, u *who) {
	if !u.Admin() || s.Overrides == nil || s.Schedule == nil {
		http.Error(w, u.L.Pick("réservé aux administrateurs", "admins only"), http.StatusForbidden)
		return
	}
	f := r.PostForm
	from, err1 := s.parseLocal(f.Get("from"))
	to, err2 := s.parseLocal(f.Get("to"))
	if err := errors.Join(err1, err2); err != nil {
		http.Error(w, errText(u.L, err), http.StatusBadRequest)
		return
	}
	o := oncall.ShiftOverride{Replaced: f.Get("replaced"), By: f.Get("by"), From: from, To: to,
		Note: strings.TrimSpace(f.Get("note")), SetBy: u.User.Actor(), SetAt: s.now()}
	for _, id := range []string{o.Replaced, o.By} {
		if _, ok := s.Schedule.Person(id); id != "" && !ok {
			http.Error(w, u.L.Pick("technicien inconnu : ", "unknown technician ")+id, http.StatusBadRequest)
			return
		}
	}
	if _, err := s.Overrides.AddShiftOverride(r.Context(), o); err != nil {
		http.Error(w, errText(u.L, err), http.StatusBadRequest)
		return
	}
	s.log().Info("web: override added", "by", u.User.Name, "replaced", o.Replaced, "with", o.By)
	http.Redirect(w, r, "/oncall?done=added", http.StatusSeeOther)
}

// oncallDelete: an admin removes an override.
func (s *Server) oncallDelete(w http.ResponseWriter, r *http.Request, u *who) {
	if !u.Admin() || s.Overrides == nil {
		http.Error(w, u.L.Pick("réservé aux administrateurs", "admins only"), http.StatusForbidden)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, u.L.Pick("identifiant invalide", "bad id"), http.StatusBadRequest)
		return
	}
	err = s.Overrides.DeleteShiftOverride(r.Context(), id)
	if errors.Is(err, astreinte.ErrNotFound) {
		http.Error(w, u.L.Pick("remplacement inconnu", "no such override"), http.StatusNotFound)
		return
	}
	if err != nil {
		s.log().Error("web: delete override", "error", err)
		http.Error(w, u.L.Pick("Erreur du serveur.", "Server error."), http.StatusInternalServerError)
		return
	}
	s.log().Info("web: override removed", "by", u.User.Name, "id", id)
	http.Redirect(w, r, "/oncall?done=removed", http.StatusSeeOther)
}
