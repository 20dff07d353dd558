package customers

import (
	"errors"
	"strings"
	"testing"

	"github.com/astreinte/astreinte/lang"
)

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0493918009", "+33493918009"},
		{"04 93 918 009", "+33493918009"},
		{"+33 4 93 91 80 09", "+33493918009"},
		{"0033493918009", "+33493918009"},
		{"sip:0612345678@pbx.example.com;user=phone", "+33612345678"},
		{"tel:+33-4-93-91-80-09", "+33493918009"},
		{"+44 20 7946 0958", "+442079460958"},
	} {
		got, err := NormalizePhone(tc.in, "FR")
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "anonymous", "123", "abc", "+33 1"} {
		if got, err := NormalizePhone(bad, "FR"); err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want an error", bad, got)
		}
	}
}

func known(c string) bool { return c == "isp" || c == "tickets" }

func TestParseCSV(t *testing.T) {
	in := "number,name,phones,contract,emails\n" +
		"C001,Hébergé SARL,04 93 91 80 09; +33612345678,isp,Admin@Heberge.test\n" +
		"C002,\"Sondages, SA\",,tickets,\n"
	cs, err := ParseCSV(strings.NewReader(in), "FR", known)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Phones[0] != "+33493918009" || cs[0].Phones[1] != "+33612345678" || cs[0].Emails[0] != "admin@heberge.test" ||
		cs[1].Name != "Sondages, SA" || len(cs[1].Phones) != 0 {
		t.Errorf("parsed %+v", cs)
	}

	bad := "number,name,phones,contract\n" +
		"C001,A,0493918009,isp\n" +
		"C002,B,12,isp\n" + // line 3: bad phone
		"C003,C,0612345678,gold\n" + // line 4: unknown contract
		"C001,D,,tickets\n" + // line 5: duplicate number
		"C005,E,04 93 91 80 09,tickets\n" // line 6: phone of line 2
	_, err = ParseCSV(strings.NewReader(bad), "FR", known)
	var ie ImportErrors
	if !errors.As(err, &ie) {
		t.Fatalf("bad rows: %v, want ImportErrors", err)
	}
	lines := map[int]string{}
	for _, r := range ie {
		lines[r.Line] = r.Msg
	}
	for l, want := range map[int]string{3: "not a valid number", 4: `contract "gold"`, 5: "already on line 2", 6: "+33493918009 is already on line 2"} {
		if !strings.Contains(lines[l], want) {
			t.Errorf("line %d: %q, want it to say %q (all: %v)", l, lines[l], want, err)
		}
	}
	if len(ie) != 4 {
		t.Errorf("%d bad rows reported, want 4: %v", len(ie), err)
	}
	if _, err := ParseCSV(strings.NewReader("number,name,contract\n"), "FR", known); err == nil || !strings.Contains(err.Error(), "phones") {
		t.Errorf("header without phones: %v", err)
	}
}

// TestParseCSVLanguage: the optional language column takes fr or en (and
// their spellings), empty for the desk's default; anything else is a bad
// row.
func TestParseCSVLanguage(t *testing.T) {
	in := "number,name,phones,contract,language\n" +
		"C001,A,,isp,fr\n" +
		"C002,B,,isp,English\n" +
		"C003,C,,isp,\n" +
		"C004,D,,isp,en-GB\n"
	cs, err := ParseCSV(strings.NewReader(in), "FR", known)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []lang.Tag{lang.FR, lang.EN, "", lang.EN} {
		if cs[i].Language != want {
			t.Errorf("%s: language %q, want %q", cs[i].Number, cs[i].Language, want)
		}
	}
	if got := cs[2].Lang(lang.EN); got != lang.EN {
		t.Errorf("no language of its own: %q, want the default given", got)
	}
	if got := cs[0].Lang(lang.EN); got != lang.FR {
		t.Errorf("its own language: %q", got)
	}
	_, err = ParseCSV(strings.NewReader("number,name,phones,contract,language\nC001,A,,isp,de\n"), "FR", known)
	var ie ImportErrors
	if !errors.As(err, &ie) || len(ie) != 1 || ie[0].Line != 2 || !strings.Contains(ie[0].Msg, `language "de": want fr or en`) {
		t.Errorf("German: %v", err)
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add("number,name,phones,contract\nC1,A,0493918009;+33612345678,isp\n")
	f.Add("number,name,phones,contract,emails\n\"C,1\",\"A\"\"B\",,tickets,a@b.c\n")
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := ParseCSV(strings.NewReader(s), "FR", known)
		if err != nil && cs != nil {
			t.Fatal("customers returned with an error: half an import")
		}
		for _, c := range cs {
			if c.Number == "" || c.Name == "" || !known(c.Contract) {
				t.Fatalf("accepted %+v", c)
			}
			for _, p := range c.Phones {
				if !strings.HasPrefix(p, "+") {
					t.Fatalf("phone %q not E.164", p)
				}
			}
		}
	})
}
