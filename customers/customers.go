// Package customers is who calls and what they are owed: customers with
// their known phone numbers (E.164) and email addresses, and contracts,
// the named policies of the support agreements (on-call or not, billing,
// due times per channel, warranty, confirmation threshold).
package customers

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/phone"
)

// Customer is one customer of the support desk.
type Customer struct {
	Number   string   // the customer number, as the customer quotes it
	Name     string   //
	Phones   []string // E.164
	Emails   []string // lower case
	Contract string   // a contract's name
	Notes    string
	// Language is the language of every mail to the contacts ("": the
	// desk's default).
	Language lang.Tag
}

// ParseLanguage reads a customer's language: fr or en ("français",
// "English" and region tags such as fr-BE are taken too).
func ParseLanguage(s string) (lang.Tag, error) {
	t, ok := lang.Parse(s)
	if !ok {
		return "", fmt.Errorf("language %q: want fr or en", s)
	}
	return t, nil
}

// Lang is the language to write to c's contacts in: theirs, else def.
func (c Customer) Lang(def lang.Tag) lang.Tag {
	if c.Language != "" {
		return c.Language
	}
	return def.Or()
}

// Contract is a support agreement as a policy.
type Contract struct {
	Name  string
	Label string
	// OnCall says whether the contract includes on-call: only then does a
	// call out of hours wake a technician.
	OnCall  bool
	Billing billing.Policy
	// Due is when a request is due, in business days, per channel; a
	// channel not listed follows the line's policy.
	Due map[astreinte.Channel]int
	// Warranty is how long after a resolution a reopened ticket is fixed
	// free (0: no warranty).
	Warranty time.Duration
	// ConfirmAbove is the number of units above which the customer must
	// confirm before the work goes on (0: never).
	ConfirmAbove int
}

// ErrNoCustomer is returned for a number, phone or address no customer has.
var ErrNoCustomer = fmt.Errorf("no such customer: %w", astreinte.ErrNotFound)

// NormalizePhone writes a phone number in E.164 ("+33493918009"); numbers
// without a country code are read as numbers of region (ISO 3166 code,
// e.g. FR). A SIP or tel URI's user part is taken. It fails on what is not
// a valid number.
func NormalizePhone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "anonymous") {
		return "", errors.New("no number")
	}
	n, ok := phone.Callable(s, region)
	if !ok {
		return "", fmt.Errorf("phone %q is not a valid number", s)
	}
	return n, nil
}

// ValidRegion says whether region is a country code phone numbers know
// (FR, BE, GB…).
func ValidRegion(region string) bool { return phone.ValidRegion(strings.ToUpper(region)) }

// NormalizeEmail returns the bare address, lower case.
func NormalizeEmail(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("email %q: %v", s, err)
	}
	return strings.ToLower(a.Address), nil
}

// Store is where customers are kept (store.DB).
type Store interface {
	CustomerByNumber(ctx context.Context, number string) (Customer, error)
	CustomerByPhone(ctx context.Context, e164 string) (Customer, error)
	CustomerByEmail(ctx context.Context, addr string) (Customer, error)
}

// Directory identifies customers from a caller ID or a sender's address
// and gives their contracts.
type Directory struct {
	Store     Store
	Contracts map[string]Contract
	Region    string // for phone numbers without a country code
	// UnidentifiedOnCall lets callers who are no known customer wake a
	// technician.
	UnidentifiedOnCall bool
}

// Identify returns the customer a phone number (channel phone) or an email
// address (channel email) belongs to, or an error wrapping
// astreinte.ErrNotFound.
func (d *Directory) Identify(ctx context.Context, channel astreinte.Channel, from string) (Customer, error) {
	if channel == astreinte.ChannelEmail {
		addr, err := NormalizeEmail(from)
		if err != nil {
			return Customer{}, fmt.Errorf("%v: %w", err, astreinte.ErrNotFound)
		}
		return d.Store.CustomerByEmail(ctx, addr)
	}
	e164, err := NormalizePhone(from, d.Region)
	if err != nil {
		return Customer{}, fmt.Errorf("%v: %w", err, astreinte.ErrNotFound)
	}
	return d.Store.CustomerByPhone(ctx, e164)
}

// ByNumber returns the customer with that number, or an error wrapping
// astreinte.ErrNotFound.
func (d *Directory) ByNumber(ctx context.Context, number string) (Customer, error) {
	return d.Store.CustomerByNumber(ctx, strings.TrimSpace(number))
}

// Contract returns the named contract.
func (d *Directory) Contract(name string) (Contract, bool) {
	c, ok := d.Contracts[name]
	return c, ok
}

// OnCallForUnidentified says whether unknown callers wake a technician.
func (d *Directory) OnCallForUnidentified() bool { return d.UnidentifiedOnCall }
