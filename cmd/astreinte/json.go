package main

import (
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/customers"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/tickets"
)

// What the table commands print with --json: one object per row, snake_case
// names, times in RFC 3339 (UTC), absent times omitted; a list is [] when
// empty, never null. Tickets are tickets.JSON, as the JSON API gives them.

// optTime is t, or nil when it is zero (omitted).
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

type callJSON struct {
	ID           int64      `json:"id"`
	Line         string     `json:"line"`
	CallerNumber string     `json:"caller_number"`
	CallerName   string     `json:"caller_name,omitempty"`
	Called       string     `json:"called,omitempty"`
	Case         string     `json:"case"`
	StartedAt    time.Time  `json:"started_at"`
	AnsweredAt   *time.Time `json:"answered_at,omitempty"`
	EndedAt      *time.Time `json:"ended_at,omitempty"`
	Outcome      string     `json:"outcome"`
	HangupBy     string     `json:"hangup_by,omitempty"`
	Ticket       string     `json:"ticket,omitempty"` // the ticket's number
}

func callOf(c astreinte.Call, ticket string) callJSON {
	return callJSON{ID: c.ID, Line: c.Line, CallerNumber: c.CallerNumber, CallerName: c.CallerName, Called: c.Called,
		Case: string(c.Case), StartedAt: c.StartedAt.UTC(), AnsweredAt: optTime(c.AnsweredAt), EndedAt: optTime(c.EndedAt),
		Outcome: string(c.Outcome), HangupBy: c.HangupBy, Ticket: ticket}
}

type customerJSON struct {
	Number   string   `json:"number"`
	Name     string   `json:"name"`
	Contract string   `json:"contract"`
	Phones   []string `json:"phones"`
	Emails   []string `json:"emails"`
	Notes    string   `json:"notes,omitempty"`
	Language string   `json:"language,omitempty"` // fr or en; "" : the desk's default
	// Rules are the contract's rules in force, in words (customers show);
	// "" when the contract is not in the configuration.
	Rules   string          `json:"rules,omitempty"`
	Tickets *[]tickets.JSON `json:"tickets,omitempty"` // customers show: oldest first
}

func customerOf(c customers.Customer) customerJSON {
	return customerJSON{Number: c.Number, Name: c.Name, Contract: c.Contract, Phones: nonNil(c.Phones), Emails: nonNil(c.Emails), Notes: c.Notes,
		Language: string(c.Language)}
}

type userJSON struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Person    string    `json:"person,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func userOf(u accounts.User) userJSON {
	return userJSON{Name: u.Name, Role: string(u.Role), Person: u.Person, CreatedAt: u.CreatedAt.UTC()}
}

type tokenJSON struct {
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Person    string     `json:"person,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used,omitempty"` // omitted: never used
}

func tokenOf(t accounts.Token) tokenJSON {
	return tokenJSON{Name: t.Name, Role: string(t.Role), Person: t.Person, CreatedAt: t.CreatedAt.UTC(), LastUsed: optTime(t.LastUsed)}
}

type shiftJSON struct {
	Rotation string    `json:"rotation"`
	Person   string    `json:"person"` // "" for nobody (an override by nobody)
	Name     string    `json:"name,omitempty"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Override int64     `json:"override,omitempty"` // the override's id, when one applies
}

func shiftsOf(shifts []oncall.Shift) []shiftJSON {
	out := []shiftJSON{}
	for _, sh := range shifts {
		j := shiftJSON{Rotation: sh.Rotation, Person: sh.Person.ID, Name: sh.Person.Name, From: sh.From.UTC(), To: sh.To.UTC()}
		if sh.Override != nil {
			j.Override = sh.Override.ID
		}
		out = append(out, j)
	}
	return out
}

type overrideJSON struct {
	ID       int64     `json:"id"`
	Replaced string    `json:"replaced"`
	By       string    `json:"by"` // "" for nobody
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Note     string    `json:"note,omitempty"`
	SetBy    string    `json:"set_by,omitempty"`
}

func overrideOf(o astreinte.ShiftOverride) overrideJSON {
	return overrideJSON{ID: o.ID, Replaced: o.Replaced, By: o.By, From: o.From.UTC(), To: o.To.UTC(), Note: o.Note, SetBy: o.SetBy}
}

type gapJSON struct {
	Tier string    `json:"tier"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

func gapsOf(gaps []oncall.Gap) []gapJSON {
	out := []gapJSON{}
	for _, g := range gaps {
		out = append(out, gapJSON{Tier: g.Tier, From: g.From.UTC(), To: g.To.UTC()})
	}
	return out
}

// listOf maps a list to its JSON rows: [] when empty.
func listOf[T, J any](xs []T, f func(T) J) []J {
	out := make([]J, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
