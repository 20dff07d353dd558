package space

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// postFiles sends the new-request form with files of the given sizes,
// in the reader's language accept.
func (f *fixture) postFiles(t *testing.T, c *http.Client, accept, subject string, sizes ...int) (int, string) {
	t.Helper()
	_, page := get(t, c, f.srv.URL+"/client/tickets/new")
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", csrfRe.FindStringSubmatch(page)[1])
	mw.WriteField("subject", subject)
	mw.WriteField("text", "With files.")
	for i, n := range sizes {
		fw, _ := mw.CreateFormFile("files", fmt.Sprintf("file%d.bin", i+1))
		fw.Write(bytes.Repeat([]byte{'a' + byte(i)}, n))
	}
	mw.Close()
	req, _ := http.NewRequest("POST", f.srv.URL+"/client/tickets", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept-Language", accept)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// TestAttachmentLimits: a request carries at most MaxFiles files and
// MaxRequestSize bytes of them in all; past either it is refused with a
// message saying so in the reader's language (not "form expired"), the
// subject kept where the form could be read, and nothing is saved (no
// ticket, no file); at the limits it is taken whole.
func TestAttachmentLimits(t *testing.T) {
	f := newFixture(t)
	c := f.signIn(t, "client@sondages.test")
	ctx := context.Background()
	count := func() (tickets, files int) {
		ts, err := f.db.TicketsOfCustomer(ctx, "C002")
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range ts {
			as, _ := f.db.Attachments(ctx, tk.ID)
			files += len(as)
		}
		return len(ts), files
	}
	const mb = 1 << 20
	sizes := func(n, each int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = each
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		accept string
		sizes  []int
		code   int
		want   string
	}{
		{"six files", "fr", sizes(MaxFiles+1, 10), http.StatusBadRequest, "Au plus 5 fichiers."},
		{"six files, English", "en", sizes(MaxFiles+1, 10), http.StatusBadRequest, "At most 5 files."},
		{"one file over 10 MB", "fr", []int{MaxRequestSize + 1}, http.StatusRequestEntityTooLarge, "10 Mo au plus"},
		{"one file over 10 MB, English", "en", []int{MaxRequestSize + 1}, http.StatusRequestEntityTooLarge, "10 MB at most"},
		{"files over 10 MB together", "fr", sizes(MaxFiles, 2*mb+mb/10), http.StatusRequestEntityTooLarge, "10 Mo au plus"},
		{"far too large", "en", []int{3 * MaxRequestSize}, http.StatusRequestEntityTooLarge, "10 MB at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nt, nf := count()
			code, body := f.postFiles(t, c, tc.accept, "Limits "+tc.name, tc.sizes...)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("%d, want %d with %q:\n%.600s", code, tc.code, tc.want, body)
			}
			if strings.Contains(body, "expir") {
				t.Errorf("refused as an expired form:\n%.300s", body)
			}
			if at, af := count(); at != nt || af != nf {
				t.Errorf("saved: %d tickets and %d files, were %d and %d", at, af, nt, nf)
			}
		})
	}
	t.Run("at the limits", func(t *testing.T) {
		nt, nf := count()
		// Five files of 2 MB less the form's own bytes: 10 MB in all.
		code, body := f.postFiles(t, c, "fr", "Limits exact", sizes(MaxFiles, 2*mb-1024)...)
		if code != 200 || !strings.Contains(body, "Limits exact") {
			t.Fatalf("%d\n%.600s", code, body)
		}
		at, af := count()
		if at != nt+1 || af != nf+MaxFiles {
			t.Errorf("%d tickets and %d files, want %d and %d", at, af, nt+1, nf+MaxFiles)
		}
		ts, _ := f.db.TicketsOfCustomer(ctx, "C002")
		as, _ := f.db.Attachments(ctx, ts[len(ts)-1].ID)
		for _, a := range as {
			if a.Size != 2*mb-1024 {
				t.Errorf("%s: %d bytes kept, want %d", a.Name, a.Size, 2*mb-1024)
			}
		}
	})
}

// A form without files past the size bound (the password form, say) is
// refused as too large, not shown back as the new-request form.
func TestOtherFormTooLarge(t *testing.T) {
	f := newFixture(t)
	c := f.signIn(t, "client@sondages.test")
	_, page := get(t, c, f.srv.URL+"/client/account")
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", csrfRe.FindStringSubmatch(page)[1])
	mw.WriteField("password", strings.Repeat("p", 2*MaxRequestSize))
	mw.Close()
	req, _ := http.NewRequest("POST", f.srv.URL+"/client/account/password", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept-Language", "en")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(out), "Form too large") ||
		strings.Contains(string(out), "request-form") {
		t.Errorf("%d, want 413 \"Form too large\" without the request form:\n%.300s", resp.StatusCode, out)
	}
}
