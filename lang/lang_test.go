package lang

import (
	"testing"
	"time"
)

func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		setting, accept string
		want            Tag
	}{
		{"", "", FR},
		{"", "en-US,en;q=0.9", EN},
		{"", "de-DE,de;q=0.9,en;q=0.5", EN},
		{"", "de-DE", FR},
		{"", "fr-FR,fr;q=0.9,en;q=0.8", FR},
		{"", "en;q=0.2,fr;q=0.9", FR},
		{"fr", "en-US", FR},
		{"en", "fr-FR", EN},
		{"klingon", "en-GB", EN},
		{"", "not a header;;", FR},
	} {
		if got := Negotiate(c.setting, c.accept); got != c.want {
			t.Errorf("Negotiate(%q, %q) = %s, want %s", c.setting, c.accept, got, c.want)
		}
	}
}

func TestStated(t *testing.T) {
	for _, c := range []struct {
		setting, accept string
		want            Tag
		ok              bool
	}{
		{"", "", "", false},
		{"", "de-DE,de;q=0.9", "", false},
		{"", "not a header;;", "", false},
		{"", "de-DE,de;q=0.9,en;q=0.5", EN, true},
		{"", "fr-CA", FR, true},
		{"en", "de", EN, true},
		{"klingon", "de", "", false},
	} {
		if got, ok := Stated(c.setting, c.accept); got != c.want || ok != c.ok {
			t.Errorf("Stated(%q, %q) = %q, %v; want %q, %v", c.setting, c.accept, got, ok, c.want, c.ok)
		}
	}
}

func TestDates(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	tm := time.Date(2026, 12, 2, 3, 12, 0, 0, paris)
	for _, c := range []struct{ got, want string }{
		{FR.Date(tm), "mer. 2 déc. 2026"},
		{EN.Date(tm), "Wed 2 Dec 2026"},
		{FR.DateTime(tm), "mer. 2 déc. 2026 à 03:12"},
		{EN.DateTime(tm), "Wed 2 Dec 2026 at 03:12"},
		{FR.When(tm, tm.Add(2*time.Hour)), "03:12"},
		{FR.When(tm, tm.Add(24*time.Hour)), "hier 03:12"},
		{EN.When(tm, tm.Add(24*time.Hour)), "yesterday 03:12"},
		{FR.When(tm, tm.Add(72*time.Hour)), "mer. 2 déc. 03:12"},
		{FR.DayName(time.Monday), "lundi"},
		{EN.DayName(time.Monday), "Monday"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		fr, en string
	}{
		{12 * time.Second, "12 s", "12 s"},
		{5 * time.Minute, "5 min", "5 min"},
		{15*time.Minute + 20*time.Second, "15 min", "15 min"},
		{time.Hour, "1 h", "1 h"},
		{time.Hour + 5*time.Minute, "1 h 05", "1 h 05"},
		{-90 * time.Minute, "1 h 30", "1 h 30"},
		{23*time.Hour + 59*time.Minute + 50*time.Second, "1 j", "1 d"},
		{51 * time.Hour, "2 j 3 h", "2 d 3 h"},
		{72 * time.Hour, "3 j", "3 d"},
	} {
		if got := FR.Duration(c.d); got != c.fr {
			t.Errorf("FR.Duration(%s) = %q, want %q", c.d, got, c.fr)
		}
		if got := EN.Duration(c.d); got != c.en {
			t.Errorf("EN.Duration(%s) = %q, want %q", c.d, got, c.en)
		}
	}
}

func TestMoney(t *testing.T) {
	const nnbsp = "\u202f"
	for _, c := range []struct {
		cents  int64
		fr, en string
	}{
		{48000, "480,00" + nnbsp + "€", "€480.00"},
		{5, "0,05" + nnbsp + "€", "€0.05"},
		{0, "0,00" + nnbsp + "€", "€0.00"},
		{7176, "71,76" + nnbsp + "€", "€71.76"},
		{123456789, "1" + nnbsp + "234" + nnbsp + "567,89" + nnbsp + "€", "€1,234,567.89"},
		{100000, "1" + nnbsp + "000,00" + nnbsp + "€", "€1,000.00"},
		{-1250, "-12,50" + nnbsp + "€", "-€12.50"},
	} {
		if got := FR.Money(c.cents); got != c.fr {
			t.Errorf("FR.Money(%d) = %q, want %q", c.cents, got, c.fr)
		}
		if got := EN.Money(c.cents); got != c.en {
			t.Errorf("EN.Money(%d) = %q, want %q", c.cents, got, c.en)
		}
	}
}
