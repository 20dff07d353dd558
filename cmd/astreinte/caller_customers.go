package main

import (
	"context"

	"github.com/astreinte/astreinte/tickets"
	"github.com/astreinte/astreinte/voicemail"
)

// keypadCustomers is what the caller's flow asks when a caller out of
// hours may type a customer number: the tickets service (identification
// and lookup by number) and whether any customer is listed (nobody is
// asked while none is).
func keypadCustomers(e *env) voicemail.Customers {
	return flowCustomers{Service: e.tickets, e: e}
}

type flowCustomers struct {
	*tickets.Service
	e *env
}

// HasCustomers reports whether the database lists a customer; on an
// error it says no: the caller is not asked for a number that cannot be
// checked.
func (f flowCustomers) HasCustomers(ctx context.Context) bool {
	any, err := f.e.db.HasCustomers(ctx)
	return err == nil && any
}
