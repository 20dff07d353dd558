package billing

import (
	"testing"
	"time"
)

// isp is the first agreement: 60 € HT an hour, every started half-hour
// due, VAT 19.6 %, never more than the accepted quote.
var isp = Policy{Mode: Hourly, Rate: 6000, Unit: 30 * time.Minute, VAT: 1960, QuoteCap: true}

// ispQuoted bills only work under an accepted quote.
var ispQuoted = Policy{Mode: Hourly, Rate: 6000, Unit: 30 * time.Minute, VAT: 1960, QuoteCap: true, QuoteRequired: true}

// tickets is the second agreement: units of one hour (the price is ours).
var tickets = Policy{Mode: Units, Rate: 9000, Unit: time.Hour, VAT: 2000}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		name   string
		worked time.Duration
		unit   time.Duration
		want   int64
	}{
		{"nothing", 0, 30 * time.Minute, 0},
		{"1 min is one half-hour", time.Minute, 30 * time.Minute, 1},
		{"1 s is one half-hour", time.Second, 30 * time.Minute, 1},
		{"30 min is one half-hour", 30 * time.Minute, 30 * time.Minute, 1},
		{"31 min is two half-hours", 31 * time.Minute, 30 * time.Minute, 2},
		{"61 min is two units of 60", 61 * time.Minute, time.Hour, 2},
		{"60 min is one unit", time.Hour, time.Hour, 1},
		{"121 min is three units", 121 * time.Minute, time.Hour, 3},
		{"negative", -time.Minute, time.Hour, 0},
		{"no unit", time.Hour, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Count(tc.worked, tc.unit); got != tc.want {
				t.Errorf("Count(%s, %s) = %d, want %d", tc.worked, tc.unit, got, tc.want)
			}
		})
	}
}

func TestBill(t *testing.T) {
	q := func(amount int64, d time.Duration) *Quote { return &Quote{AmountHT: amount, Time: d} }
	for _, tc := range []struct {
		name         string
		p            Policy
		worked       time.Duration
		quote        *Quote
		units        int64
		ht, vat, ttc int64
		capped       bool
		uncappedWant int64
	}{
		{"30 min at 60 € HT, 19.6 %: 35.88 € TTC", isp, 30 * time.Minute, nil, 1, 3000, 588, 3588, false, 3000},
		{"1 min is a whole half-hour", isp, time.Minute, nil, 1, 3000, 588, 3588, false, 3000},
		{"one hour: 71.76 € TTC as the agreement says", isp, time.Hour, nil, 2, 6000, 1176, 7176, false, 6000},
		{"31 min: two half-hours", isp, 31 * time.Minute, nil, 2, 6000, 1176, 7176, false, 6000},
		{"90 min", isp, 90 * time.Minute, nil, 3, 9000, 1764, 10764, false, 9000},
		{"quote above the time: the actual time is billed", isp, 40 * time.Minute, q(0, 2*time.Hour), 2, 6000, 1176, 7176, false, 6000},
		{"quote below the time: the quote is billed", isp, 3 * time.Hour, q(0, 2*time.Hour), 6, 12000, 2352, 14352, true, 18000},
		{"quote as an amount below the time", isp, 2 * time.Hour, q(10000, 0), 4, 10000, 1960, 11960, true, 12000},
		{"quote in hours priced exactly (45 min = 45 €)", isp, 2 * time.Hour, q(0, 45*time.Minute), 4, 4500, 882, 5382, true, 12000},
		{"quote equal to the time", isp, time.Hour, q(6000, 0), 2, 6000, 1176, 7176, false, 6000},
		{"no cap in the policy: quote ignored", Policy{Mode: Hourly, Rate: 6000, Unit: 30 * time.Minute, VAT: 1960}, 3 * time.Hour, q(100, 0), 6, 18000, 3528, 21528, false, 18000},
		{"61 min on tickets: two units", tickets, 61 * time.Minute, nil, 2, 18000, 3600, 21600, false, 18000},
		{"no work, nothing billed", tickets, 0, nil, 0, 0, 0, 0, false, 0},
		{"VAT rounds half up: 0.05 € at 19.6 %", Policy{Mode: Units, Rate: 5, Unit: time.Hour, VAT: 1960}, time.Minute, nil, 1, 5, 1, 6, false, 5},
		{"VAT rounds down below half: 0.02 € at 19.6 %", Policy{Mode: Units, Rate: 2, Unit: time.Hour, VAT: 1960}, time.Minute, nil, 1, 2, 0, 2, false, 2},
		{"hourly rate not divisible: 0.99 €/h, half-hour is 0.50", Policy{Mode: Hourly, Rate: 99, Unit: 30 * time.Minute}, time.Minute, nil, 1, 50, 0, 50, false, 50},
		{"flat quote: its amount whatever the time", isp, 5 * time.Hour, &Quote{AmountHT: 15000, Flat: true}, 10, 15000, 2940, 17940, false, 30000},
		{"flat quote, less time: still its amount", isp, 10 * time.Minute, &Quote{AmountHT: 15000, Flat: true}, 1, 15000, 2940, 17940, false, 3000},
		{"flat quote, no work yet: nothing", isp, 0, &Quote{AmountHT: 15000, Flat: true}, 0, 0, 0, 0, false, 0},
		{"quote required, none: free support", ispQuoted, time.Hour, nil, 2, 0, 0, 0, false, 6000},
		{"quote required and accepted: billed", ispQuoted, time.Hour, q(0, 2*time.Hour), 2, 6000, 1176, 7176, false, 6000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Bill(tc.p, tc.worked, tc.quote)
			if a.Units != tc.units || a.HT != tc.ht || a.VAT != tc.vat || a.TTC != tc.ttc || a.Capped != tc.capped || a.Uncapped != tc.uncappedWant {
				t.Errorf("Bill(%s) = units %d HT %d VAT %d TTC %d capped %v uncapped %d; want %d %d %d %d %v %d",
					tc.worked, a.Units, a.HT, a.VAT, a.TTC, a.Capped, a.Uncapped, tc.units, tc.ht, tc.vat, tc.ttc, tc.capped, tc.uncappedWant)
			}
			if a.TTC != a.HT+a.VAT {
				t.Errorf("TTC %d is not HT %d + VAT %d", a.TTC, a.HT, a.VAT)
			}
		})
	}
}

func TestNeedsConfirmation(t *testing.T) {
	for _, tc := range []struct {
		total     time.Duration
		threshold int
		want      bool
	}{
		{time.Hour, 2, false},
		{2 * time.Hour, 2, false},            // two tickets: no confirmation
		{2*time.Hour + time.Minute, 2, true}, // a third started ticket
		{10 * time.Hour, 0, false},           // no threshold
		{61 * time.Minute, 1, true},
	} {
		if got := NeedsConfirmation(tickets, tc.total, tc.threshold); got != tc.want {
			t.Errorf("NeedsConfirmation(%s, above %d) = %v, want %v", tc.total, tc.threshold, got, tc.want)
		}
	}
}

func TestWarranty(t *testing.T) {
	day := 24 * time.Hour
	week := 7 * day
	created := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	resolved := created.Add(day)
	for _, tc := range []struct {
		name     string
		reopened time.Time
		warranty time.Duration
		workAt   time.Time
		want     bool
	}{
		{"work before the resolution is billed", resolved.Add(3 * day), week, created.Add(time.Hour), false},
		{"reopened 3 days after: the new work is free", resolved.Add(3 * day), week, resolved.Add(3*day + time.Hour), true},
		{"reopened exactly a week after: still free", resolved.Add(week), week, resolved.Add(week + time.Hour), true},
		{"reopened 8 days after: billed again", resolved.Add(8 * day), week, resolved.Add(8*day + time.Hour), false},
		{"no warranty in the contract", resolved.Add(time.Hour), 0, resolved.Add(2 * time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans := Spans(created, []time.Time{resolved}, []time.Time{tc.reopened}, tc.warranty)
			if got := UnderWarranty(spans, tc.workAt); got != tc.want {
				t.Errorf("UnderWarranty = %v, want %v (spans %+v)", got, tc.want, spans)
			}
		})
	}
	// Resolved, reopened in warranty, resolved again, reopened 10 days
	// later: the third span is billed, the second is not.
	r2 := resolved.Add(4 * day)
	o2 := r2.Add(10 * day)
	spans := Spans(created, []time.Time{r2, resolved}, []time.Time{o2, resolved.Add(2 * day)}, week)
	if len(spans) != 3 || spans[0].Warranty || !spans[1].Warranty || spans[2].Warranty {
		t.Fatalf("spans %+v: want billed, warranty, billed", spans)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"60", 6000, true}, {"60.00", 6000, true}, {"71,76", 7176, true}, {"0.5", 50, true}, {"19.6", 1960, true},
		{"", 0, false}, {"-1", 0, false}, {"1.234", 0, false}, {"abc", 0, false}, {"1e3", 0, false}, {".5", 0, false},
	} {
		got, err := ParseCents(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseCents(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if _, err := ParseBasisPoints("101"); err == nil {
		t.Error("ParseBasisPoints(101) accepted")
	}
	if got := FormatCents(3588); got != "35.88" {
		t.Errorf("FormatCents(3588) = %q", got)
	}
	if got := FormatCents(-5); got != "-0.05" {
		t.Errorf("FormatCents(-5) = %q", got)
	}
}

func TestPeriod(t *testing.T) {
	day := 24 * time.Hour
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dec := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	jan := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	created := dec.Add(-2 * day)

	// 20 minutes in November, 20 in December: one half-hour each month
	// (40 minutes in all is two half-hours).
	es := []Entry{{created.Add(time.Hour), 20 * time.Minute}, {dec.Add(time.Hour), 20 * time.Minute}}
	spans := Spans(created, nil, nil, 0)
	n, ok1 := Period(isp, es, spans, nil, nov, dec)
	d, ok2 := Period(isp, es, spans, nil, dec, jan)
	if !ok1 || !ok2 || n.Units != 1 || d.Units != 1 || n.HT+d.HT != 6000 || n.TTC+d.TTC != 7176 {
		t.Errorf("across months: Nov %+v, Dec %+v; want one half-hour each, 60.00 € HT in all", n, d)
	}
	// 10 + 10 minutes: one half-hour in all, billed in November only.
	es = []Entry{{created.Add(time.Hour), 10 * time.Minute}, {dec.Add(time.Hour), 10 * time.Minute}}
	d, _ = Period(isp, es, spans, nil, dec, jan)
	if d.Units != 0 || d.HT != 0 || d.Worked != 10*time.Minute {
		t.Errorf("a half-hour started in November is not billed again in December: %+v", d)
	}
	// A quote of one hour caps three hours' work.
	es = []Entry{{dec.Add(time.Hour), 3 * time.Hour}}
	d, _ = Period(isp, es, spans, &Quote{Time: time.Hour}, dec, jan)
	if !d.Capped || d.HT != 6000 || d.TTC != 7176 {
		t.Errorf("quote cap: %+v", d)
	}
	// Warranty: resolved 2 December, reopened the 5th; the work after the
	// reopening is not billed.
	resolved, reopened := dec.Add(day), dec.Add(4*day)
	es = []Entry{{dec.Add(time.Hour), 50 * time.Minute}, {reopened.Add(time.Hour), 40 * time.Minute}}
	spans = Spans(created, []time.Time{resolved}, []time.Time{reopened}, 7*day)
	d, _ = Period(tickets, es, spans, nil, dec, jan)
	if d.Units != 1 || d.Warranty != 40*time.Minute || d.Worked != 50*time.Minute || d.HT != 9000 {
		t.Errorf("warranty: %+v; want one unit billed, 40 min under warranty", d)
	}
	if _, ok := Period(tickets, es, spans, nil, nov, dec); ok {
		t.Error("no work in November, yet a line")
	}
}

func FuzzParseCents(f *testing.F) {
	for _, s := range []string{"60", "60.00", "71,76", "0.5", "-1", "1e3", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCents(s)
		if err != nil {
			return
		}
		if c < 0 {
			t.Fatalf("ParseCents(%q) = %d", s, c)
		}
		// What it reads, it writes back the same amount.
		if back, err := ParseCents(FormatCents(c)); err != nil || back != c {
			t.Fatalf("ParseCents(%q) = %d, written %q, read back %d, %v", s, c, FormatCents(c), back, err)
		}
	})
}
