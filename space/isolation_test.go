package space

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/store"
)

// wav is one second of a 440 Hz tone, 8 kHz 16-bit mono: a real WAV file.
func wav() []byte {
	const rate, n = 8000, 8000
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(2*n))
	for i := range n {
		binary.Write(&b, binary.LittleEndian, int16(8000*math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	return b.Bytes()
}

// rich is a ticket of a customer with a recording and an attachment.
type rich struct {
	T        astreinte.Ticket
	WAV      []byte
	File     []byte
	FileID   int64
	Subject  string
	Secret   string // a word only this ticket's pages carry
	Recorded string // the recording's path
}

// richTicket makes a phone message of customer's with its recording
// (through the tickets service, as the answering machine files it), then
// joins a request's text and a file to it (as the space stores them).
func (f *fixture) richTicket(t *testing.T, customer string) rich {
	t.Helper()
	ctx := context.Background()
	r := rich{WAV: wav(), File: []byte("%PDF-1.4 contract of " + customer + " \x00\x01\x02"), Secret: "zanzibar-" + customer,
		Subject: "Message about zanzibar-" + customer}
	r.Recorded = filepath.Join(t.TempDir(), customer+".wav")
	if err := os.WriteFile(r.Recorded, r.WAV, 0o600); err != nil {
		t.Fatal(err)
	}
	tk := astreinte.Ticket{Line: "support", CallerNumber: "+33612345678", Customer: customer, Urgency: astreinte.NotUrgent,
		Case: astreinte.CaseOpen, Recording: r.Recorded, Duration: time.Second, CreatedAt: f.now.Add(-time.Hour)}
	if err := f.svc.Create(ctx, &tk); err != nil {
		t.Fatal(err)
	}
	if tk.Customer != customer {
		t.Fatalf("ticket of %q, want %s", tk.Customer, customer)
	}
	if err := f.db.AddRequest(ctx, store.Request{TicketID: tk.ID, Subject: r.Subject, Body: "Body " + r.Secret, Contact: "x@test"},
		[]store.Attachment{{Name: "contrat-" + customer + ".pdf", Type: "application/pdf", Data: r.File}}); err != nil {
		t.Fatal(err)
	}
	files, err := f.db.Attachments(ctx, tk.ID)
	if err != nil || len(files) != 1 {
		t.Fatalf("attachments: %v %v", files, err)
	}
	r.FileID = files[0].ID
	if r.T, err = f.svc.ByID(ctx, tk.ID); err != nil {
		t.Fatal(err)
	}
	if len(r.T.Recordings) != 1 {
		t.Fatalf("%d recordings", len(r.T.Recordings))
	}
	return r
}

// signIn signs addr in with a mailed link and returns its browser.
func (f *fixture) signIn(t *testing.T, addr string) *http.Client {
	t.Helper()
	c := client()
	f.box.mu.Lock()
	n := 0
	for _, m := range f.box.msgs {
		if m.To[0].Address == addr {
			n++
		}
	}
	f.box.mu.Unlock()
	if code, _ := f.askLink(t, c, addr); code != http.StatusOK {
		t.Fatalf("ask link for %s: %d", addr, code)
	}
	if code, body := f.useLink(t, c, f.box.link(t, addr, n+1)); code != http.StatusOK {
		t.Fatalf("sign in %s: %d\n%s", addr, code, body)
	}
	return c
}

func getRaw(t *testing.T, c *http.Client, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestIsolationWithContent: C001's ticket has a recording and a file; its
// contact gets each (the same bytes) by page and API, and C002's contact
// gets 404 for every one of the same URLs, for C001's file asked through
// C002's own ticket, for guessed numbers, and for C001's work in a
// statement, without a byte of C001's content in any answer.
func TestIsolationWithContent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.richTicket(t, "C001")
	if _, err := f.ledger.AddWork(ctx, r.T, 40*time.Minute, "alice", "work on "+r.Secret); err != nil {
		t.Fatal(err)
	}
	n := r.T.Number
	page := "/client/tickets/" + n
	rec := page + "/recordings/1"
	file := fmt.Sprintf("%s/attachments/%d", page, r.FileID)
	api := "/client/api/tickets/" + n
	apiRec := api + "/recordings/1"
	apiFile := fmt.Sprintf("%s/attachments/%d", api, r.FileID)

	owner := f.signIn(t, "admin@heberge.test")
	t.Run("the owner's contact", func(t *testing.T) {
		resp, b := getRaw(t, owner, f.srv.URL+page)
		body := string(b)
		if resp.StatusCode != 200 || !strings.Contains(body, r.Subject) || !strings.Contains(body, `src="`+rec+`"`) ||
			!strings.Contains(body, `href="`+file+`"`) || !strings.Contains(body, "work on "+r.Secret) {
			t.Fatalf("GET %s: %d\n%s", page, resp.StatusCode, body)
		}
		for _, u := range []string{rec, apiRec} {
			resp, b := getRaw(t, owner, f.srv.URL+u)
			if resp.StatusCode != 200 || !bytes.Equal(b, r.WAV) || resp.Header.Get("Content-Type") != "audio/wav" {
				t.Errorf("GET %s: %d %s, %d bytes, want the %d of the recording", u, resp.StatusCode, resp.Header.Get("Content-Type"), len(b), len(r.WAV))
			}
		}
		for _, u := range []string{file, apiFile} {
			resp, b := getRaw(t, owner, f.srv.URL+u)
			if resp.StatusCode != 200 || !bytes.Equal(b, r.File) || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
				t.Errorf("GET %s: %d %q, %q", u, resp.StatusCode, resp.Header.Get("Content-Disposition"), b)
			}
		}
		resp, b = getRaw(t, owner, f.srv.URL+api)
		var out struct {
			Number     string `json:"number"`
			Recordings int    `json:"recordings"`
			Text       string `json:"text"`
			Work       []struct {
				Seconds int64 `json:"seconds"`
			} `json:"work"`
		}
		if err := json.Unmarshal(b, &out); resp.StatusCode != 200 || err != nil || out.Number != n || out.Recordings != 1 ||
			!strings.Contains(out.Text, r.Secret) || len(out.Work) != 1 || out.Work[0].Seconds != 2400 {
			t.Errorf("GET %s: %d %v %+v", api, resp.StatusCode, err, out)
		}
		resp, b = getRaw(t, owner, f.srv.URL+"/client/api/statements/2026-11")
		if resp.StatusCode != 200 || !strings.Contains(string(b), n) {
			t.Errorf("owner's statement: %d\n%s", resp.StatusCode, b)
		}
	})

	other := f.signIn(t, "client@sondages.test")
	mine := f.tkts["C002"].Number
	t.Run("another customer's contact", func(t *testing.T) {
		for _, u := range []string{page, rec, file, api, apiRec, apiFile,
			// C001's file and recording through C002's own ticket.
			fmt.Sprintf("/client/tickets/%s/attachments/%d", mine, r.FileID),
			fmt.Sprintf("/client/api/tickets/%s/attachments/%d", mine, r.FileID),
			"/client/tickets/" + mine + "/recordings/1", "/client/api/tickets/" + mine + "/recordings/1",
			// Guessed: the neighbours of the numbers and IDs.
			page + "/recordings/0", page + "/recordings/2", fmt.Sprintf("%s/attachments/%d", page, r.FileID+1),
			"/client/tickets/2026-000004", "/client/api/tickets/2026-000004", "/client/tickets/" + strings.ToLower(n),
			page + "/appointment", "/client/api/statements/" + "C001",
		} {
			resp, b := getRaw(t, other, f.srv.URL+u)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", u, resp.StatusCode)
			}
			if bytes.Contains(b, []byte(r.Secret)) || bytes.Contains(b, r.File[:20]) || bytes.Contains(b, []byte("RIFF")) {
				t.Errorf("GET %s: C001's content in the answer:\n%s", u, b)
			}
		}
		// C002's statement of the month C001 worked in has none of it.
		for _, u := range []string{"/client/statements/2026-11", "/client/api/statements/2026-11", "/client/statements", "/client/tickets",
			"/client/api/tickets"} {
			resp, b := getRaw(t, other, f.srv.URL+u)
			if resp.StatusCode != 200 || bytes.Contains(b, []byte(n)) || bytes.Contains(b, []byte(r.Secret)) {
				t.Errorf("GET %s: %d, C001's ticket shown?\n%s", u, resp.StatusCode, b)
			}
		}
		// Forms on C001's ticket: 404 with the session's token too.
		_, b := getRaw(t, other, f.srv.URL+"/client/api/session")
		var s struct{ CSRF string }
		json.Unmarshal(b, &s)
		for _, u := range []string{page + "/quote", page + "/confirmation", page + "/appointment"} {
			code, _ := post(t, other, f.srv.URL+u, map[string][]string{"csrf": {s.CSRF}, "decision": {"accept"}})
			if code != http.StatusNotFound {
				t.Errorf("POST %s: %d, want 404", u, code)
			}
		}
	})
	t.Run("signed out", func(t *testing.T) {
		for _, u := range []string{rec, file, apiRec, apiFile} {
			resp, b := getRaw(t, noRedirect(), f.srv.URL+u)
			if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusUnauthorized || bytes.Contains(b, []byte("RIFF")) {
				t.Errorf("GET %s signed out: %d", u, resp.StatusCode)
			}
		}
	})
}

// noRedirect is a browser that stops at the first answer.
func noRedirect() *http.Client {
	c := client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}
