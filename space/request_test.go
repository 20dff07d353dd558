package space

import (
	"bytes"
	"context"
	"database/sql"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// postRequest sends the new-request form with one file, as a browser does.
func (f *fixture) postRequest(t *testing.T, c *http.Client, subject, file string) (int, string) {
	t.Helper()
	_, page := get(t, c, f.srv.URL+"/client/tickets/new")
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", csrfRe.FindStringSubmatch(page)[1])
	mw.WriteField("subject", subject)
	mw.WriteField("text", "Le texte de la demande.")
	fw, _ := mw.CreateFormFile("files", file)
	fw.Write([]byte("contenu du fichier"))
	mw.Close()
	resp, err := c.Post(f.srv.URL+"/client/tickets", mw.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return resp.StatusCode, out.String()
}

// TestRequestIsOneWrite: when saving a request's file fails (a trigger in
// the real database refuses it, as a full disk would), the contact is told
// to send it again, with the form still filled in, and no ticket is left
// (none listed, none in the database, no number used); once files can be
// saved, the same request is a ticket with its text and file.
func TestRequestIsOneWrite(t *testing.T) {
	f := newFixture(t)
	c := client()
	f.askLink(t, c, "client@sondages.test")
	f.useLink(t, c, f.box.link(t, "client@sondages.test", 1))
	raw, err := sql.Open("sqlite3", f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER refuse_files BEFORE INSERT ON ticket_attachments BEGIN SELECT RAISE(ABORT, 'disk full'); END`); err != nil {
		t.Fatal(err)
	}
	before, err := f.db.TicketsOfCustomer(context.Background(), "C002")
	if err != nil {
		t.Fatal(err)
	}
	code, body := f.postRequest(t, c, "Accès VPN", "config.ovpn")
	if code != http.StatusInternalServerError || !strings.Contains(body, "envoyez-la de nouveau") || !strings.Contains(body, `value="Accès VPN"`) {
		t.Fatalf("failed request: %d\n%s", code, body)
	}
	after, _ := f.db.TicketsOfCustomer(context.Background(), "C002")
	if len(after) != len(before) {
		t.Fatalf("a half ticket was left: %d tickets, %d before", len(after), len(before))
	}
	var n int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM tickets WHERE channel = 'space' AND id NOT IN (?, ?)`, f.tkts["C001"].ID, f.tkts["C002"].ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("tickets left: %d %v", n, err)
	}
	if _, body := get(t, c, f.srv.URL+"/client/tickets"); strings.Contains(body, "Accès VPN") {
		t.Error("the failed request is listed")
	}

	if _, err := raw.Exec(`DROP TRIGGER refuse_files`); err != nil {
		t.Fatal(err)
	}
	if code, body := f.postRequest(t, c, "Accès VPN", "config.ovpn"); code != http.StatusOK || !strings.Contains(body, "Accès VPN") ||
		!strings.Contains(body, "config.ovpn") || !strings.Contains(body, "2026-000003") {
		t.Fatalf("request once files can be saved: %d\n%s", code, body)
	}
}
