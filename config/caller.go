package config

import (
	"net/mail"
	"strings"

	"github.com/astreinte/astreinte"
	"github.com/nyaruka/phonenumbers"
)

// LineCaller holds a line's options for its callers: the country its
// numbers are read in, and what a missed call becomes. Its fields sit in
// the line's own YAML mapping.
type LineCaller struct {
	// Country is the ISO 3166 code numbers without a country code are read
	// in (callers' IDs, numbers typed for a callback), e.g. FR.
	Country string `yaml:"country"`
	// MissedCalls: ticket (default), page or ignore.
	MissedCalls astreinte.MissedCallPolicy `yaml:"missed_calls"`
	// DeskEmail, when set, is emailed every message and missed call left
	// in opening hours (through paging.email.smtp), with the recording.
	DeskEmail string `yaml:"desk_email"`
	// SensitiveNotice says, after a message and before goodbye, that
	// sensitive requests (passwords, account changes, personal data) are
	// only handled through the authenticated customer area. Default true.
	SensitiveNotice *bool `yaml:"sensitive_notice"`
}

// SaysSensitiveNotice reports whether the line tells callers the
// sensitive-requests rule (sensitive_notice, default true).
func (l LineCaller) SaysSensitiveNotice() bool {
	return l.SensitiveNotice == nil || *l.SensitiveNotice
}

func (l *LineCaller) setDefaults() {
	if l.Country == "" {
		l.Country = "FR"
	}
	l.Country = strings.ToUpper(l.Country)
	if l.MissedCalls == "" {
		l.MissedCalls = astreinte.MissedTicket
	}
	if l.SensitiveNotice == nil {
		on := true
		l.SensitiveNotice = &on
	}
}

func (l LineCaller) validate(path string, errs *astreinte.FieldErrors) {
	if phonenumbers.GetCountryCodeForRegion(l.Country) == 0 {
		errs.Add(path+".country", "%q: want a country code such as FR, BE, CH, GB", l.Country)
	}
	if l.DeskEmail != "" {
		if _, err := mail.ParseAddress(l.DeskEmail); err != nil {
			errs.Add(path+".desk_email", "%q is not an email address", l.DeskEmail)
		}
	}
	if !l.MissedCalls.Valid() {
		errs.Add(path+".missed_calls", "%q: want ticket, page or ignore", l.MissedCalls)
	}
}
