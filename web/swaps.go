package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/swaps"
)

func init() {
	doneMessages["swap-offered"] = tr{"Garde proposée : un collègue peut la prendre.", "Shift offered: a colleague may take it."}
	doneMessages["swap-taken"] = tr{"Garde prise : le planning est changé.", "Shift taken: the rota is changed."}
	doneMessages["swap-waiting"] = tr{"Garde prise : en attente de l'accord d'un administrateur.", "Shift taken: waiting for an admin's approval."}
	doneMessages["swap-approved"] = tr{"Échange approuvé : le planning est changé.", "Swap approved: the rota is changed."}
}

// swapRow is one swap on the on-call page.
type swapRow struct {
	ID                    int64
	Offered, TakenBy      string
	From, To, Note, State string
	CanTake, CanApprove   bool
}

var swapStates = map[oncall.SwapState]tr{
	oncall.SwapOffered: {"proposée", "offered"},
	oncall.SwapTaken:   {"prise, attend l'accord", "taken, awaiting approval"},
	oncall.SwapDone:    {"faite", "done"},
}

// swapRows lists the swaps not over yet for u.
func (s *Server) swapRows(r *http.Request, u *who) []swapRow {
	if s.Swaps == nil {
		return nil
	}
	list, err := s.Swaps.List(r.Context())
	if err != nil {
		s.log().Error("web: swaps", "error", err)
		return nil
	}
	var out []swapRow
	for _, w := range list {
		st := w.State()
		out = append(out, swapRow{ID: w.ID, Offered: w.Offered, TakenBy: w.TakenBy, From: s.clock(u.L, w.From),
			To: s.clock(u.L, w.To), Note: w.Note, State: swapStates[st].In(u.L),
			CanTake:    st == oncall.SwapOffered && u.User.Person != "" && u.User.Person != w.Offered,
			CanApprove: st == oncall.SwapTaken && u.Admin()})
	}
	return out
}

// swapError writes why a swap was refused, in the reader's language:
// a gap names its times.
func (s *Server) swapError(l lang.Tag, err error) (int, string) {
	var gap *oncall.GapError
	switch {
	case errors.As(err, &gap):
		var b strings.Builder
		for i, g := range gap.Gaps {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.long(l, g.From) + " → " + s.long(l, g.To))
		}
		return http.StatusConflict, l.Pick("Refusé : personne ne serait d'astreinte ", "Refused: nobody would be on call ") + b.String()
	case errors.Is(err, oncall.ErrSwapNotOnShifts):
		return http.StatusBadRequest, l.Pick("Refusé : vous n'êtes pas d'astreinte sur toute cette période.", "Refused: you are not on call for the whole period.")
	case errors.Is(err, swaps.ErrPast):
		return http.StatusBadRequest, l.Pick("Refusé : la période a déjà commencé.", "Refused: the period has already started.")
	case errors.Is(err, oncall.ErrSwapSelf):
		return http.StatusBadRequest, l.Pick("Refusé : c'est votre propre garde.", "Refused: that is your own shift.")
	case errors.Is(err, oncall.ErrSwapChanged), errors.Is(err, swaps.ErrDone), errors.Is(err, swaps.ErrNotTaken):
		return http.StatusConflict, l.Pick("Cet échange a changé entre-temps : rechargez la page.", "This swap changed meanwhile: reload the page.")
	case errors.Is(err, swaps.ErrNotAdmin):
		return http.StatusForbidden, l.Pick("Réservé aux administrateurs.", "For admins only.")
	case errors.Is(err, oncall.ErrUnknownPerson):
		return http.StatusBadRequest, l.Pick("Technicien inconnu.", "Unknown technician.")
	case errors.Is(err, astreinte.ErrNotFound):
		return http.StatusNotFound, l.Pick("Échange inconnu.", "No such swap.")
	}
	return http.StatusBadRequest, err.Error()
}

// swapOffer: a technician offers a period of their on-call.
func (s *Server) swapOffer(w http.ResponseWriter, r *http.Request, u *who) {
	if s.Swaps == nil || u.User.Person == "" {
		http.Error(w, u.L.Pick("votre compte n'est pas lié à un technicien", "your account is not a technician of the rota"), http.StatusForbidden)
		return
	}
	from, err1 := s.parseLocal(r.PostForm.Get("from"))
	to, err2 := s.parseLocal(r.PostForm.Get("to"))
	if err := errors.Join(err1, err2); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sw, err := s.Swaps.Offer(r.Context(), u.User.Person, from, to, strings.TrimSpace(r.PostForm.Get("note")))
	if err != nil {
		st, msg := s.swapError(u.L, err)
		http.Error(w, msg, st)
		return
	}
	s.log().Info("web: shift offered", "person", u.User.Person, "swap", sw.ID, "from", from, "to", to)
	http.Redirect(w, r, "/oncall?done=swap-offered#swaps", http.StatusSeeOther)
}

// swapAction takes or approves a swap.
func (s *Server) swapAction(w http.ResponseWriter, r *http.Request, u *who) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if s.Swaps == nil || err != nil {
		http.Error(w, u.L.Pick("échange inconnu", "no such swap"), http.StatusNotFound)
		return
	}
	var res swaps.Result
	switch r.PathValue("action") {
	case "take":
		if u.User.Person == "" {
			http.Error(w, u.L.Pick("votre compte n'est pas lié à un technicien", "your account is not a technician of the rota"), http.StatusForbidden)
			return
		}
		res, err = s.Swaps.Take(r.Context(), id, u.User.Person)
	case "approve":
		res, err = s.Swaps.Approve(r.Context(), id, u.User.Actor(), u.Admin())
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		st, msg := s.swapError(u.L, err)
		s.log().Info("web: swap refused", "swap", id, "user", u.User.Name, "error", err)
		http.Error(w, msg, st)
		return
	}
	done := "swap-waiting"
	if res.Done {
		done = "swap-taken"
		if r.PathValue("action") == "approve" {
			done = "swap-approved"
		}
	}
	s.log().Info("web: swap", "swap", id, "action", r.PathValue("action"), "user", u.User.Name, "done", res.Done)
	http.Redirect(w, r, "/oncall?done="+done+"#swaps", http.StatusSeeOther)
}
