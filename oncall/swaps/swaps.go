// Package swaps lets technicians exchange shifts: one offers a period of
// their on-call, another takes it, an admin approves it when the rota
// requires it, and only then, once the gap check passes on the rota as it
// would be, the swap becomes a shift override. The web form and
// `astreinte oncall swap` both go through Service.
package swaps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
)

// Store keeps swaps and the rota's overrides (store.DB).
type Store interface {
	AddSwap(ctx context.Context, w oncall.Swap) (int64, error)
	Swap(ctx context.Context, id int64) (oncall.Swap, error)
	Swaps(ctx context.Context, from time.Time) ([]oncall.Swap, error)
	TakeSwap(ctx context.Context, id int64, taker string, at time.Time) error
	CompleteSwap(ctx context.Context, w oncall.Swap, o oncall.ShiftOverride) (int64, error)
	ShiftOverrides(ctx context.Context, from, to time.Time) ([]oncall.ShiftOverride, error)
	CalendarOverride(ctx context.Context) (*calendar.Override, error)
}

// Service runs swaps over a schedule.
type Service struct {
	Schedule *oncall.Schedule
	Store    Store
	// RequireApproval: a taken swap waits for an admin
	// (oncall.swaps.require_approval).
	RequireApproval bool
	Now             func() time.Time // default time.Now
}

// Errors of the service.
var (
	ErrPast     = errors.New("the period has already started")
	ErrNotAdmin = errors.New("only an admin approves a swap")
	ErrNotTaken = oncall.ErrSwapNotTaken
	ErrDone     = errors.New("the swap is already done")
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// rota returns the overrides around [from, to) and the calendar override.
func (s *Service) rota(ctx context.Context, from, to time.Time) ([]oncall.ShiftOverride, *calendar.Override, error) {
	ovs, err := s.Store.ShiftOverrides(ctx, from.Add(-24*time.Hour), to.Add(24*time.Hour))
	if err != nil {
		return nil, nil, err
	}
	calOv, err := s.Store.CalendarOverride(ctx)
	return ovs, calOv, err
}

// Offer puts up a period of offeredBy's on-call for someone to take: they
// must be on call for all of it, and it must not have started.
func (s *Service) Offer(ctx context.Context, offeredBy string, from, to time.Time, note string) (oncall.Swap, error) {
	if !to.After(from) {
		return oncall.Swap{}, fmt.Errorf("offer a shift: %s is not after %s", to.Format("2006-01-02 15:04"), from.Format("2006-01-02 15:04"))
	}
	if from.Before(s.now()) {
		return oncall.Swap{}, fmt.Errorf("offer a shift: %w", ErrPast)
	}
	if _, ok := s.Schedule.Person(offeredBy); !ok {
		return oncall.Swap{}, fmt.Errorf("offer a shift: %w %s", oncall.ErrUnknownPerson, offeredBy)
	}
	ovs, _, err := s.rota(ctx, from, to)
	if err != nil {
		return oncall.Swap{}, fmt.Errorf("offer a shift: %w", err)
	}
	if !s.onShift(offeredBy, from, to, ovs) {
		return oncall.Swap{}, fmt.Errorf("offer a shift: %s: %w", offeredBy, oncall.ErrSwapNotOnShifts)
	}
	w := oncall.Swap{Offered: offeredBy, From: from, To: to, Note: note, CreatedAt: s.now()}
	id, err := s.Store.AddSwap(ctx, w)
	if err != nil {
		return w, err
	}
	w.ID = id
	return w, nil
}

// onShift reports whether person is on call (after overrides) for the
// whole of [from, to): the pieces of their shifts there leave no hole.
func (s *Service) onShift(person string, from, to time.Time, ovs []oncall.ShiftOverride) bool {
	at := from
	for _, sh := range s.Schedule.Shifts(from, to, ovs) {
		if sh.Person.ID != person || sh.From.After(at) || !sh.To.After(at) {
			continue
		}
		at = sh.To
		if !at.Before(to) {
			return true
		}
	}
	return false
}

// Result is what taking or approving did.
type Result struct {
	Swap oncall.Swap
	// Done: the override is saved (OverrideID); else the swap waits for an
	// admin's approval.
	Done bool
}

// Take gives the swap to taker. The gap check runs on the rota as it would
// be: a taker off that night would leave nobody on call, and the take is
// refused with the gap (an *oncall.GapError). Without approval required the
// override is saved at once; with it, the swap waits for an admin.
func (s *Service) Take(ctx context.Context, id int64, taker string) (Result, error) {
	w, err := s.Store.Swap(ctx, id)
	if err != nil {
		return Result{}, err
	}
	if w.State() != oncall.SwapOffered {
		return Result{Swap: w}, fmt.Errorf("take swap %d: %w", id, oncall.ErrSwapChanged)
	}
	w.TakenBy, w.TakenAt = taker, s.now()
	if s.RequireApproval {
		// Checked now too, so that a take that cannot be approved is
		// refused at once; checked again at approval.
		w.Approved = true
		if _, err := s.accept(ctx, w, taker); err != nil {
			return Result{Swap: w}, fmt.Errorf("take swap %d: %w", id, err)
		}
		w.Approved = false
		if err := s.Store.TakeSwap(ctx, id, taker, w.TakenAt); err != nil {
			return Result{Swap: w}, err
		}
		return Result{Swap: w}, nil
	}
	return s.complete(ctx, w, taker)
}

// Approve is an admin's approval of a taken swap: the gap check runs
// again on the rota as it is now, then the override is saved.
func (s *Service) Approve(ctx context.Context, id int64, admin string, isAdmin bool) (Result, error) {
	if !isAdmin {
		return Result{}, ErrNotAdmin
	}
	w, err := s.Store.Swap(ctx, id)
	if err != nil {
		return Result{}, err
	}
	switch w.State() {
	case oncall.SwapOffered:
		return Result{Swap: w}, fmt.Errorf("approve swap %d: %w", id, ErrNotTaken)
	case oncall.SwapDone:
		return Result{Swap: w}, fmt.Errorf("approve swap %d: %w", id, ErrDone)
	}
	w.Approved, w.ApprovedBy, w.ApprovedAt = true, admin, s.now()
	return s.complete(ctx, w, admin)
}

func (s *Service) accept(ctx context.Context, w oncall.Swap, by string) (oncall.ShiftOverride, error) {
	ovs, calOv, err := s.rota(ctx, w.From, w.To)
	if err != nil {
		return oncall.ShiftOverride{}, err
	}
	return s.Schedule.AcceptSwap(w, s.RequireApproval, ovs, calOv, by, s.now())
}

func (s *Service) complete(ctx context.Context, w oncall.Swap, by string) (Result, error) {
	o, err := s.accept(ctx, w, by)
	if err != nil {
		return Result{Swap: w}, fmt.Errorf("swap %d: %w", w.ID, err)
	}
	oid, err := s.Store.CompleteSwap(ctx, w, o)
	if err != nil {
		return Result{Swap: w}, err
	}
	w.OverrideID = oid
	return Result{Swap: w, Done: true}, nil
}

// List returns the swaps not over at now, by start.
func (s *Service) List(ctx context.Context) ([]oncall.Swap, error) {
	return s.Store.Swaps(ctx, s.now())
}
