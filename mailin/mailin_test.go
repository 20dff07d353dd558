package mailin

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, msg                    string
		from, who, subject, ref, txt string
	}{
		{"plain", "From: Jean Dupont <Jean.Dupont@Example.COM>\r\nSubject: Site en panne\r\nMessage-ID: <a@b>\r\n\r\nBonjour,\r\nle site ne répond plus.\r\n",
			"jean.dupont@example.com", "Jean Dupont", "Site en panne", "", "Bonjour,\nle site ne répond plus."},
		{"reply naming a ticket, encoded subject, quoted-printable latin-1",
			"From: =?ISO-8859-1?Q?Ren=E9e?= <renee@example.com>\r\nSubject: =?UTF-8?Q?Re=C2=A0:_[2026-000123]_Probl=C3=A8me?=\r\n" +
				"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nC'est r=E9gl=E9, merci.=\r\n\r\n",
			"renee@example.com", "Renée", "Re\u00a0: [2026-000123] Problème", "2026-000123", "C'est réglé, merci."},
		{"multipart alternative: the text part",
			"From: a@example.com\r\nSubject: x [#2026-7]\r\nContent-Type: multipart/alternative; boundary=BB\r\n\r\n--BB\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--BB\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nVGV4dGUgYnJ1dA==\r\n--BB--\r\n",
			"a@example.com", "", "x [#2026-7]", "2026-7", "Texte brut"},
		{"HTML only: tags stripped",
			"From: a@example.com\r\nSubject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><style>p{}</style><p>Bonjour&nbsp;<b>vous</b></p></html>\r\n",
			"a@example.com", "", "h", "", "Bonjour vous"},
		{"attachment skipped",
			"From: a@example.com\r\nSubject: pj\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nsecret\r\n--X\r\n" +
				"Content-Type: text/plain\r\n\r\nle corps\r\n--X--\r\n",
			"a@example.com", "", "pj", "", "le corps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(strings.NewReader(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			if m.From != tc.from || m.Name != tc.who || m.Subject != tc.subject || m.Ref != tc.ref || m.Text != tc.txt {
				t.Errorf("got %+v\nwant from %q name %q subject %q ref %q text %q", m, tc.from, tc.who, tc.subject, tc.ref, tc.txt)
			}
		})
	}
	if _, err := Parse(strings.NewReader("Subject: x\r\n\r\nbody\r\n")); !errors.Is(err, ErrNoSender) {
		t.Errorf("no From: %v, want ErrNoSender", err)
	}
	if _, err := Parse(strings.NewReader("")); err == nil {
		t.Error("empty input accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("From: a@b.c\r\nSubject: [2026-000001]\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n\r\nx\r\n--X--\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(strings.NewReader(s))
		if err == nil && len(m.Text) > MaxText+8 {
			t.Fatalf("text of %d bytes", len(m.Text))
		}
	})
}
