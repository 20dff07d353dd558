package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// hiddenCallers are the caller IDs trunks send for a withheld number.
var hiddenCallers = map[string]bool{
	"": true, "anonymous": true, "unknown": true, "restricted": true, "private": true,
	"unavailable": true, "withheld": true, "anonymous.invalid": true,
}

// Callable reads a number to call someone back on (a caller ID's user
// part, keys typed by a caller, a customer's phone) in region (ISO 3166
// code, "FR") and returns it in E.164 ("+33612345678"); ok is false for a
// hidden caller ID or anything that is not a valid, assigned phone number.
// E164 is the lenient reading, for matching called numbers.
func Callable(raw, region string) (e164 string, ok bool) {
	raw = strings.TrimSpace(raw)
	for _, scheme := range []string{"tel:", "sips:", "sip:"} {
		if len(raw) >= len(scheme) && strings.EqualFold(raw[:len(scheme)], scheme) {
			raw = raw[len(scheme):] // a URI: its user part
			raw, _, _ = strings.Cut(raw, "@")
			break
		}
	}
	raw, _, _ = strings.Cut(raw, ";") // parameters (";user=phone", ";phone-context=…")
	if hiddenCallers[strings.ToLower(raw)] {
		return "", false
	}
	if region == "" {
		region = DefaultRegion
	}
	// 00 is the international prefix in most of the world's dial plans.
	if strings.HasPrefix(raw, "00") {
		raw = "+" + raw[2:]
	}
	n, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// National formats an E.164 number the way people of region write it
// ("06 12 34 56 78" in France), or internationally for a number of
// another country; a number it cannot read is returned as it is.
func National(e164, region string) string {
	if region == "" {
		region = DefaultRegion
	}
	n, err := phonenumbers.Parse(e164, strings.ToUpper(region))
	if err != nil {
		return e164
	}
	if phonenumbers.GetRegionCodeForNumber(n) == strings.ToUpper(region) {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}
