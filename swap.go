package astreinte

import (
	"errors"
	"time"
)

// Swap is a shift one technician offers and another takes: once taken
// (and approved, when the rota requires it) it becomes a ShiftOverride.
type Swap struct {
	ID       int64
	Offered  string // the technician giving the shift away
	TakenBy  string // "" while nobody has taken it
	From, To time.Time
	Approved bool // by an admin, when approval is required
	Note     string
	// ApprovedBy is the admin who approved it; TakenAt and ApprovedAt
	// when; OverrideID is the shift override that enacts it once done
	// (0 before); CreatedAt when it was offered.
	ApprovedBy                     string
	TakenAt, ApprovedAt, CreatedAt time.Time
	OverrideID                     int64
}

// SwapState is where a swap stands.
type SwapState string

// The states of a swap.
const (
	SwapOffered SwapState = "offered" // nobody has taken it
	SwapTaken   SwapState = "taken"   // taken, waiting for an admin's approval
	SwapDone    SwapState = "done"    // its override is saved
)

// State says where the swap stands.
func (w Swap) State() SwapState {
	switch {
	case w.OverrideID != 0:
		return SwapDone
	case w.TakenBy != "":
		return SwapTaken
	}
	return SwapOffered
}

// Override is the swap as the override that enacts it.
func (w Swap) Override(setBy string, at time.Time) ShiftOverride {
	return ShiftOverride{Replaced: w.Offered, By: w.TakenBy, From: w.From, To: w.To,
		Note: "swap: " + w.Offered + " → " + w.TakenBy, SetBy: setBy, SetAt: at}
}

// ErrSwapChanged means the swap was taken by someone else, or done,
// meanwhile.
var ErrSwapChanged = errors.New("the swap was taken or done meanwhile")
