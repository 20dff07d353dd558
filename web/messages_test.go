package web

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/tickets"
)

// TestTicketMessages: a ticket a later call joined shows one player per
// message, newest first, each served under its own address with the
// page's and the API's access checks; the API gives the messages in the
// detail and their count in the list.
func TestTicketMessages(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	tk := a.ticket("+33612345678", astreinte.NotUrgent, 30*time.Minute)
	second := filepath.Join(a.dir, "second.wav")
	body := make([]byte, 8000)
	copy(body, "RIFF-second")
	if err := os.WriteFile(second, body, 0o600); err != nil {
		t.Fatal(err)
	}
	again := astreinte.Ticket{Line: "support", CallerNumber: "+33612345678", Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours,
		Recording: second, Duration: 65 * time.Second, CreatedAt: a.clock()}
	if f, err := a.svc.Take(ctx, &again); err != nil || !f.Merged {
		t.Fatalf("second call: %+v, %v; want it joined", f, err)
	}
	b := a.browser()
	b.mustLogin("alice")
	path := "/tickets/" + tk.Number
	resp, page := b.do("GET", path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	srcs := regexp.MustCompile(`<audio [^>]*class="message" data-seq="(\d)" controls preload="(?:metadata|none)" src="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(srcs) != 2 || srcs[0][1] != "2" || srcs[1][1] != "1" || srcs[0][2] != path+"/recordings/2" {
		t.Fatalf("players %q: want message 2 then 1, each its own address", srcs)
	}
	for _, want := range []string{"Message 2/2 · ", "Message 1/2", "1 min 05 s", "0 min 12 s", "2 messages"} {
		if !strings.Contains(page, want) {
			t.Errorf("ticket page lacks %q", want)
		}
	}
	if i, j := strings.Index(page, "1 min 05 s"), strings.Index(page, "0 min 12 s"); i > j {
		t.Errorf("the newest message should come first")
	}
	for _, tt := range []struct {
		src, prefix string
		size        int
	}{{srcs[0][2], "RIFF-second", 8000}, {srcs[1][2], "RIFF", 16000}} {
		resp, got := b.do("GET", tt.src, nil)
		if resp.StatusCode != http.StatusOK || len(got) != tt.size || !strings.HasPrefix(string(got), tt.prefix) {
			t.Errorf("%s: %d, %d bytes; want %d bytes of %s", tt.src, resp.StatusCode, len(got), tt.size, tt.prefix)
		}
		if resp, _ := a.browser().do("GET", tt.src, nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s anonymous: %d, want the login redirect", tt.src, resp.StatusCode)
		}
	}
	if _, list := b.do("GET", "/tickets", nil); !strings.Contains(list, `<span class="badge messages">2 messages</span>`) {
		t.Errorf("the list does not say the ticket has 2 messages")
	}
	for _, bad := range []string{path + "/recordings/3", path + "/recordings/0", path + "/recordings/x"} {
		if resp, _ := b.do("GET", bad, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, resp.StatusCode)
		}
	}

	tok, _, err := a.acc.AddToken(ctx, "helpdesk", accounts.Technician, "alice")
	if err != nil {
		t.Fatal(err)
	}
	resp, raw := a.api("GET", "/api/tickets/"+tk.Number, tok, "")
	var j tickets.JSON
	if err := json.Unmarshal(raw, &j); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("API detail: %d %v\n%s", resp.StatusCode, err, raw)
	}
	if len(j.Recordings) != 2 || j.Recordings[0].Urgency != "urgent" || j.Recordings[0].DurationSeconds != 65 ||
		j.Recordings[0].URL != "/api/tickets/"+tk.Number+"/recordings/2" || j.Recordings[1].Urgency != "normal" || j.Urgency != "urgent" {
		t.Errorf("API recordings %+v (ticket %s): want the urgent 65 s one, then the normal one, with their addresses", j.Recordings, j.Urgency)
	}
	if resp, got := a.api("GET", j.Recordings[0].URL, tok, ""); resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(got), "RIFF-second") {
		t.Errorf("API recording: %d", resp.StatusCode)
	}
	if resp, _ := a.api("GET", j.Recordings[0].URL, "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API recording without a token: %d, want 401", resp.StatusCode)
	}
	_, raw = a.api("GET", "/api/tickets", tok, "")
	var list []tickets.JSON
	if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 || list[0].RecordingCount != 2 || list[0].Recordings != nil {
		t.Errorf("API list %s: want one ticket counting 2 messages", raw)
	}
}
