package voicemail

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/astreinte/astreinte"
)

// take files t (Tickets.Take) apart from the call's goroutine. Take bounds
// its own store work; the call's end must not cancel it.
func (s *session) take(t *astreinte.Ticket) (astreinte.Filed, error) {
	return apart(func() (astreinte.Filed, error) { return s.h.Tickets.Take(context.WithoutCancel(s.ctx), t) })
}

// amend amends the call's ticket (Tickets.Amend) apart from the call's
// goroutine.
func (s *session) amend(ctx context.Context, a astreinte.Amendment) (astreinte.Filed, error) {
	return apart(func() (astreinte.Filed, error) { return s.h.Tickets.Amend(ctx, s.ticket.ID, a) })
}

// apart runs f on a goroutine of its own and waits for its result. The
// call's goroutine waits through the whole call with a stack of 8 KiB;
// work that runs deep but briefly in the middle of the call (filing or
// amending a ticket: the store, phone numbers parsed with regular
// expressions, frames of 1.5 to 3 KiB) would grow that stack to 16 KiB
// and leave it so until a collection shrinks it, which a plateau of calls
// that allocate nothing does not bring. The goroutine apart starts gives
// its stack back when f returns. A panic in f is raised again on the
// caller's goroutine, with f's stack in its value, for the call's recover.
func apart[T any](f func() (T, error)) (T, error) {
	type result struct {
		v     T
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.panic = fmt.Sprintf("%v\n\n%s", p, debug.Stack())
			}
			done <- r
		}()
		r.v, r.err = f()
	}()
	r := <-done
	if r.panic != nil {
		panic(r.panic)
	}
	return r.v, r.err
}
