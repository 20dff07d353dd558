// Package phone compares telephone numbers the way a carrier writes them:
// "+33493918009", "0493918009", "33493918009", "0033 4 93 91 80 09" and
// "tel:+33-4-93-91-80-09" are one number. Numbers are brought to E.164 with
// github.com/nyaruka/phonenumbers, national ones read in a default region.
package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region national numbers are read in when none is
// configured.
const DefaultRegion = "FR"

// E164 returns s in E.164 form ("+33493918009") and true when s is a
// telephone number: digits with an optional leading "+" or international
// prefix, separators (space . - ( ) /) ignored, a "tel:" or "sip:" scheme
// and any ";parameters" or "@host" dropped. A number written without "+"
// is read as national in region (ISO 3166 code, e.g. "FR"); when that does
// not give a valid number but the digits start with a country code
// ("33493918009"), they are read as international. Anything else (a user
// name such as "support") gives "", false.
func E164(s, region string) (string, bool) {
	n, ok := e164(s, region)
	// For numbers the metadata does not know, formatting may drop a
	// national prefix left after the country code ("+20 0…"): format
	// again until the result stands, so that equal numbers compare equal.
	for i := 0; ok && i < 20; i++ { // each pass drops a digit: E.164 has at most 15
		again, ok2 := format(n, "ZZ", false)
		if !ok2 || again == n {
			break
		}
		n = again
	}
	return n, ok
}

func e164(s, region string) (string, bool) {
	if region == "" {
		region = DefaultRegion
	}
	digits, plus, ok := clean(s)
	if !ok {
		return "", false
	}
	if plus {
		return format("+"+digits, "ZZ", false)
	}
	if n, ok := format(digits, region, true); ok {
		return n, true
	}
	if n, ok := format("+"+digits, "ZZ", true); ok {
		return n, true
	}
	// Neither reading is a valid (assigned) number: a short or special
	// number, or a range the metadata does not know. Keep the national
	// reading when it is at least a possible number.
	return format(digits, region, false)
}

// Equal reports whether a and b are the same number (in region), or the
// same string when either is not a number.
func Equal(a, b, region string) bool {
	if a == b {
		return true
	}
	na, oka := E164(a, region)
	nb, okb := E164(b, region)
	return oka && okb && na == nb
}

func format(s, region string, mustBeValid bool) (string, bool) {
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", false
	}
	if mustBeValid {
		if !phonenumbers.IsValidNumber(num) {
			return "", false
		}
	} else if !phonenumbers.IsPossibleNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// clean strips the scheme, parameters and separators; ok is false when
// what is left is not a number.
func clean(s string) (digits string, plus, ok bool) {
	s = strings.TrimSpace(s)
	for _, scheme := range []string{"tel:", "sip:", "sips:"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			s = s[len(scheme):]
			break
		}
	}
	if i := strings.IndexAny(s, ";@"); i >= 0 {
		s = s[:i]
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '/':
		default:
			return "", false, false
		}
	}
	digits = b.String()
	if len(digits) < 3 || len(digits) > 17 {
		return "", false, false
	}
	if !plus && strings.HasPrefix(digits, "00") {
		// The international prefix of most of Europe and Africa.
		digits, plus = digits[2:], true
	}
	return digits, plus, true
}

// ValidRegion reports whether region is a region code numbers can be read
// in ("FR", "BE", "CH"…).
func ValidRegion(region string) bool {
	_, ok := phonenumbers.GetSupportedRegions()[region]
	return ok
}
