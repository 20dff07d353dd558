package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/billing"
)

// TestBuiltInContracts: the built-in configuration carries the two
// agreements as ready contracts.
func TestBuiltInContracts(t *testing.T) {
	cfg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	ps := cfg.ContractPolicies()
	isp, tk := ps["isp"], ps["tickets"]
	if !isp.OnCall || isp.Billing != (billing.Policy{Mode: billing.Hourly, Rate: 6000, Unit: 30 * time.Minute, VAT: 1960, QuoteCap: true, QuoteRequired: true}) {
		t.Errorf("isp: %+v", isp)
	}
	// One hour under isp is 71.76 € TTC, as the agreement says.
	if a := billing.Bill(isp.Billing, time.Hour, &billing.Quote{Time: time.Hour}); a.TTC != 7176 {
		t.Errorf("isp: one hour is %d cents TTC, want 7176", a.TTC)
	}
	if tk.OnCall || tk.Billing.Mode != billing.Units || tk.Billing.Unit != time.Hour || tk.ConfirmAbove != 2 ||
		tk.Warranty != 7*24*time.Hour || tk.Due[astreinte.ChannelEmail] != 2 || tk.Due[astreinte.ChannelPhone] != 3 {
		t.Errorf("tickets: %+v", tk)
	}
	if cfg.Customers.Region != "FR" || !cfg.UnidentifiedOnCall() { // a line with no customers yet still pages
		t.Errorf("customers: region %q, unidentified on-call %v", cfg.Customers.Region, cfg.UnidentifiedOnCall())
	}
}

func TestContractProblems(t *testing.T) {
	yaml := `customers:
  region: XX
  contracts:
    bad:
      billing:
        mode: monthly
        rate: "60.5.0"
        vat: "19,6"
    odd:
      billing: {mode: hourly, rate: "60", rounding: 7m, vat: "120"}
      due: {email: -1}
      confirm_above: -2
`
	_, err := Parse([]byte(yaml), "c.yaml")
	var p *Problems
	if !errors.As(err, &p) {
		t.Fatalf("want problems, got %v", err)
	}
	msg := noColumns(err.Error())
	for _, want := range []string{
		"c.yaml:2: customers.region",
		"customers.contracts.bad.billing.mode",
		"customers.contracts.bad.billing.rate",
		"customers.contracts.odd.billing.rounding: 7m0s: want a divisor of an hour",
		"customers.contracts.odd.billing.vat",
		"customers.contracts.odd.due.email",
		"customers.contracts.odd.confirm_above",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "bad.billing.vat") {
		t.Errorf("19,6 is a valid VAT rate:\n%s", msg)
	}
}

// The agreements are built in: a file without contracts has them, a
// contract of the same name replaces one, and a contract giving only
// on_call is valid: free support.
func TestContractsInForce(t *testing.T) {
	cfg, err := Parse([]byte("oncall: {}\n"), "hand.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ps := cfg.ContractPolicies(); ps["isp"].Billing.Rate != 6000 || !ps["isp"].OnCall || ps["tickets"].Billing.Mode != billing.Units {
		t.Errorf("built-in contracts: %+v", ps)
	}
	if !cfg.UnidentifiedOnCall() {
		t.Errorf("without contracts in the file, unidentified callers page as the lines say")
	}
	cfg, err = Parse([]byte(`customers:
  contracts:
    isp: {billing: {rate: "75.00"}}
    free: {on_call: true}
`), "own.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps := cfg.ContractPolicies()
	if ps["isp"].Billing.Rate != 7500 || ps["isp"].OnCall || ps["isp"].Billing.QuoteRequired {
		t.Errorf("isp replaced by the file's: %+v", ps["isp"])
	}
	if f := ps["free"]; !f.OnCall || f.Label != "free" || f.Billing.Rate != 0 || f.Billing.Unit != 30*time.Minute {
		t.Errorf("a contract with only on_call: %+v", f)
	}
	if _, ok := ps["tickets"]; !ok {
		t.Errorf("tickets, not replaced, is still in force: %v", cfg.ContractNames())
	}
	if _, from := cfg.Contracts(); from["isp"] != Overridden || from["tickets"] != BuiltIn || from["free"] != Configured {
		t.Errorf("origins: %v", from)
	}
	if cfg.UnidentifiedOnCall() {
		t.Errorf("with contracts in the file, unidentified callers are not on-call unless it says so")
	}
}
