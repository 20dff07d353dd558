package config

import (
	"fmt"
	"sort"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/billing"
	"github.com/astreinte/astreinte/customers"
)

// Customers configures who the callers are and what they are owed: the
// contracts (the support agreements as named policies) and how callers
// who are no known customer are treated.
type Customers struct {
	// Region is the country of phone numbers written without a country
	// code (ISO 3166, e.g. FR).
	Region string `yaml:"region"`
	// Unidentified is the treatment of callers matched to no customer.
	Unidentified Unidentified `yaml:"unidentified"`
	// Contracts by name.
	Contracts map[string]Contract `yaml:"contracts"`
	// AllowGaps accepts closed hours with nobody on call although a
	// contract of this file promises on-call: config check and serve warn
	// instead of refusing (as their --allow-gaps flag).
	AllowGaps bool `yaml:"allow_gaps"`
}

// Unidentified says what callers matched to no customer get.
type Unidentified struct {
	// OnCall lets them wake the on-call technician (as the line's page
	// setting says); otherwise they are called back on the next business
	// day. Unset: true when the configuration writes no contract (every
	// caller is treated as the lines say), false when it does.
	OnCall *bool `yaml:"on_call"`
}

// Contract is one support agreement.
type Contract struct {
	Label        string          `yaml:"label"`
	OnCall       bool            `yaml:"on_call"`
	Billing      ContractBilling `yaml:"billing"`
	Due          ContractDue     `yaml:"due"`
	Warranty     time.Duration   `yaml:"warranty"`
	ConfirmAbove int             `yaml:"confirm_above"`
}

// ContractBilling is how a contract bills time. Amounts are strings with
// at most two decimals ("60.00"), read into cents: never floating point.
type ContractBilling struct {
	Mode     string        `yaml:"mode"`      // hourly or units
	Rate     string        `yaml:"rate"`      // € HT per hour (hourly) or per unit (units)
	Rounding time.Duration `yaml:"rounding"`  // hourly: every started rounding is due (30m)
	Unit     time.Duration `yaml:"unit"`      // units: the length of one unit (60m)
	VAT      string        `yaml:"vat"`       // percent, e.g. "19.6"
	QuoteCap bool          `yaml:"quote_cap"` // an accepted quote is the most billed
	// QuoteRequired bills only work under an accepted quote; the rest is
	// free support.
	QuoteRequired bool `yaml:"quote_required"`
}

// ContractDue is when requests are due, in business days, per channel; an
// unset channel follows the line's due setting.
type ContractDue struct {
	Phone *int `yaml:"phone"`
	Email *int `yaml:"email"`
}

// BuiltInContracts are the two agreements, in force without the
// configuration copying them; a contract of the same name in
// customers.contracts replaces one.
func BuiltInContracts() map[string]Contract {
	phone, email := 3, 2
	return map[string]Contract{
		// The ISP support conditions (2006): on-call out of hours for
		// urgent problems; advice, fault analysis and maintenance are
		// free; work that costs is quoted first (free quote), then billed
		// 60 € HT an hour (71.76 € TTC), every started half-hour due,
		// never more than the accepted quote.
		"isp": {Label: "Support technique, astreinte incluse", OnCall: true,
			Billing: ContractBilling{Mode: billing.Hourly, Rate: "60.00", Rounding: 30 * time.Minute, VAT: "19.6", QuoteCap: true, QuoteRequired: true}},
		// Support by tickets: one ticket, one problem, up to one hour;
		// each started hour is another ticket. Email within 2 business
		// days, phone within 3; the customer confirms before more than
		// two tickets; one-week warranty. No on-call. The agreement
		// states no price: set yours by writing the contract.
		"tickets": {Label: "Assistance par tickets",
			Billing:  ContractBilling{Mode: billing.Units, Unit: time.Hour, Rate: "0.00", VAT: "20"},
			Due:      ContractDue{Phone: &phone, Email: &email},
			Warranty: 7 * 24 * time.Hour, ConfirmAbove: 2},
	}
}

// ContractOrigin says where a contract in force comes from.
type ContractOrigin string

const (
	BuiltIn    ContractOrigin = "built in"
	Configured ContractOrigin = "configuration"
	Overridden ContractOrigin = "configuration, replacing the built-in one"
)

// Contracts are the contracts in force: the built-in ones, replaced or
// joined by those of customers.contracts, defaults applied, with where
// each comes from.
func (c *Config) Contracts() (map[string]Contract, map[string]ContractOrigin) {
	out, from := BuiltInContracts(), map[string]ContractOrigin{}
	for n := range out {
		from[n] = BuiltIn
	}
	for n, k := range c.Customers.Contracts {
		from[n] = Configured
		if _, ok := out[n]; ok {
			from[n] = Overridden
		}
		out[n] = k.withDefaults(n)
	}
	return out, from
}

// ContractNames lists the contracts in force, sorted.
func (c *Config) ContractNames() []string {
	ks, _ := c.Contracts()
	names := make([]string, 0, len(ks))
	for n := range ks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// UnidentifiedOnCall reports whether callers matched to no customer may
// wake the on-call technician (customers.unidentified.on_call; unset: true
// when the configuration writes no contract).
func (c *Config) UnidentifiedOnCall() bool {
	if u := c.Customers.Unidentified.OnCall; u != nil {
		return *u
	}
	return len(c.Customers.Contracts) == 0
}

// withDefaults fills what a contract leaves out: its name as label, and
// free support (no billing: hourly at 0.00, every started half-hour, VAT
// 20 %).
func (k Contract) withDefaults(name string) Contract {
	if k.Label == "" {
		k.Label = name
	}
	b := &k.Billing
	if b.Mode == "" {
		b.Mode = billing.Hourly
	}
	if b.Rate == "" {
		b.Rate = "0.00"
	}
	if b.VAT == "" {
		b.VAT = "20"
	}
	if b.Mode == billing.Hourly && b.Rounding == 0 {
		b.Rounding = 30 * time.Minute
	}
	if b.Mode == billing.Units && b.Unit == 0 {
		b.Unit = time.Hour
	}
	return k
}

// ContractPolicies returns the contracts in force as the customers package
// takes them. The configuration must have been validated.
func (c *Config) ContractPolicies() map[string]customers.Contract {
	out := map[string]customers.Contract{}
	ks, _ := c.Contracts()
	for name, k := range ks {
		p, _ := k.policy(name)
		out[name] = p
	}
	return out
}

func (k Contract) policy(name string) (customers.Contract, []string) {
	k = k.withDefaults(name)
	var probs []string
	rate, err := billing.ParseCents(k.Billing.Rate)
	if err != nil {
		probs = append(probs, "billing.rate: "+err.Error())
	}
	vat, err := billing.ParseBasisPoints(k.Billing.VAT)
	if err != nil {
		probs = append(probs, "billing.vat: "+err.Error())
	}
	bp := billing.Policy{Mode: k.Billing.Mode, Rate: rate, VAT: vat, QuoteCap: k.Billing.QuoteCap, QuoteRequired: k.Billing.QuoteRequired}
	switch k.Billing.Mode {
	case billing.Hourly:
		bp.Unit = k.Billing.Rounding
		if bp.Unit < time.Minute || bp.Unit > time.Hour || time.Hour%bp.Unit != 0 {
			probs = append(probs, fmt.Sprintf("billing.rounding: %s: want a divisor of an hour, e.g. 30m", k.Billing.Rounding))
		}
	case billing.Units:
		bp.Unit = k.Billing.Unit
		if bp.Unit < time.Minute {
			probs = append(probs, fmt.Sprintf("billing.unit: %s: want at least 1m, e.g. 60m", k.Billing.Unit))
		}
	default:
		probs = append(probs, fmt.Sprintf("billing.mode: %q: want hourly or units", k.Billing.Mode))
	}
	p := customers.Contract{Name: name, Label: k.Label, OnCall: k.OnCall, Billing: bp,
		Due: map[astreinte.Channel]int{}, Warranty: k.Warranty, ConfirmAbove: k.ConfirmAbove}
	if k.Due.Phone != nil {
		p.Due[astreinte.ChannelPhone] = *k.Due.Phone
	}
	if k.Due.Email != nil {
		p.Due[astreinte.ChannelEmail] = *k.Due.Email
	}
	for ch, d := range p.Due {
		if d < 0 {
			probs = append(probs, fmt.Sprintf("due.%s: business days cannot be negative", ch))
		}
	}
	if k.Warranty < 0 {
		probs = append(probs, "warranty: cannot be negative")
	}
	if k.ConfirmAbove < 0 {
		probs = append(probs, "confirm_above: cannot be negative")
	}
	return p, probs
}

// validateCustomers checks the customers section.
func (c *Config) validateCustomers() astreinte.FieldErrors {
	var errs astreinte.FieldErrors
	if c.Customers.Region == "" { // the default, set here to keep it beside its check
		c.Customers.Region = "FR"
	}
	if !customers.ValidRegion(c.Customers.Region) {
		errs.Add("customers.region", "%q: want a country code such as FR", c.Customers.Region)
	}
	names := make([]string, 0, len(c.Customers.Contracts))
	for n := range c.Customers.Contracts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		_, probs := c.Customers.Contracts[n].policy(n)
		for _, p := range probs {
			path, msg, _ := cut2(p)
			errs.Add("customers.contracts."+n+"."+path, "%s", msg)
		}
	}
	return errs
}

// cut2 splits "path: message".
func cut2(s string) (string, string, bool) {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == ':' && s[i+1] == ' ' {
			return s[:i], s[i+2:], true
		}
	}
	return "", s, false
}
