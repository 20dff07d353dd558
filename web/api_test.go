package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/tickets"
)

func (a *app) api(method, path, token, body string) (*http.Response, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.ts.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, []byte(b.String())
}

func TestAPI(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	tok, _, err := a.acc.AddToken(ctx, "helpdesk", accounts.Technician, "alice")
	if err != nil {
		t.Fatal(err)
	}
	bot, _, err := a.acc.AddToken(ctx, "bot", accounts.Technician, "")
	if err != nil {
		t.Fatal(err)
	}
	old := a.ticket("+33100000001", astreinte.NotUrgent, 5*24*time.Hour)
	urg := a.ticket("+33100000002", astreinte.Urgent, time.Minute)

	t.Run("anonymous and bad tokens get 401 in JSON", func(t *testing.T) {
		for _, tk := range []string{"", "ast_not-a-token"} {
			for _, p := range []string{"/api/tickets", "/api/tickets/" + urg.Number, "/api/oncall", "/api/calls",
				"/api/tickets/" + urg.Number + "/recording"} {
				resp, body := a.api("GET", p, tk, "")
				var e apiError
				if resp.StatusCode != http.StatusUnauthorized || json.Unmarshal(body, &e) != nil || e.Status != 401 ||
					!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("GET %s with %q: %d %s", p, tk, resp.StatusCode, body)
				}
			}
			if resp, _ := a.api("POST", "/api/tickets/"+urg.Number+"/acknowledge", tk, ""); resp.StatusCode != 401 {
				t.Errorf("POST with %q: %d", tk, resp.StatusCode)
			}
		}
		if got, _ := a.svc.ByID(ctx, urg.ID); got.Status != astreinte.StatusNew {
			t.Fatalf("anonymous POST changed the ticket: %s", got.Status)
		}
	})
	t.Run("list with filters, snake_case", func(t *testing.T) {
		resp, body := a.api("GET", "/api/tickets", tok, "")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var list []tickets.JSON
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].Number != urg.Number || list[1].Number != old.Number || !list[1].Overdue ||
			list[0].CallerNumber != "+33100000002" || list[0].DurationSeconds != 12 {
			t.Fatalf("list %+v", list)
		}
		for _, k := range []string{`"caller_number"`, `"created_at"`, `"due_at"`, `"duration_seconds"`, `"overdue"`} {
			if !strings.Contains(string(body), k) {
				t.Errorf("JSON lacks %s", k)
			}
		}
		_, body = a.api("GET", "/api/tickets?filter=urgent", tok, "")
		json.Unmarshal(body, &list)
		if len(list) != 1 || list[0].Number != urg.Number {
			t.Errorf("urgent: %+v", list)
		}
		_, body = a.api("GET", "/api/tickets?q=0001", tok, "")
		json.Unmarshal(body, &list)
		if len(list) != 1 || list[0].Number != old.Number {
			t.Errorf("search: %+v", list)
		}
		resp, _ = a.api("GET", "/api/tickets?filter=nope", tok, "")
		if resp.StatusCode != 400 {
			t.Errorf("bad filter: %d", resp.StatusCode)
		}
	})
	t.Run("actions as the token's person", func(t *testing.T) {
		resp, body := a.api("POST", "/api/tickets/"+urg.Number+"/acknowledge", tok, "")
		var out struct {
			Result string       `json:"result"`
			Ticket tickets.JSON `json:"ticket"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil || out.Result != "acknowledge" ||
			out.Ticket.Status != "acknowledged" || out.Ticket.AckedBy != "alice" {
			t.Fatalf("acknowledge: %d %s", resp.StatusCode, body)
		}
		_, body = a.api("POST", "/api/tickets/"+urg.Number+"/acknowledge", tok, "")
		json.Unmarshal(body, &out)
		if out.Result != "already" {
			t.Errorf("second acknowledge: %s", body)
		}
		resp, body = a.api("POST", "/api/tickets/"+urg.Number+"/callback", bot, `{"note":"rebooted the box"}`)
		if resp.StatusCode != 200 {
			t.Fatalf("callback: %d %s", resp.StatusCode, body)
		}
		resp, body = a.api("GET", "/api/tickets/"+urg.Number, tok, "")
		var one tickets.JSON
		if resp.StatusCode != 200 || json.Unmarshal(body, &one) != nil {
			t.Fatalf("get: %d %s", resp.StatusCode, body)
		}
		last := one.Timeline[len(one.Timeline)-1]
		if one.Status != "called_back" || last.Kind != "called_back" || last.Actor != "api:bot" || last.Detail != "rebooted the box" {
			t.Errorf("after callback: %+v", one)
		}
		resp, body = a.api("POST", "/api/tickets/"+urg.Number+"/note", tok, `{"note":""}`)
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"error"`) {
			t.Errorf("empty note: %d %s", resp.StatusCode, body)
		}
		resp, _ = a.api("POST", "/api/tickets/"+urg.Number+"/note", tok, `{not json`)
		if resp.StatusCode != 400 {
			t.Errorf("bad JSON: %d", resp.StatusCode)
		}
		resp, _ = a.api("POST", "/api/tickets/2026-999999/resolve", tok, "")
		if resp.StatusCode != 404 {
			t.Errorf("unknown ticket: %d", resp.StatusCode)
		}
	})
	t.Run("recording with a range", func(t *testing.T) {
		req, _ := http.NewRequest("GET", a.ts.URL+"/api/tickets/"+old.Number+"/recording", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Range", "bytes=0-43")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || resp.ContentLength != 44 {
			t.Fatalf("%d, %d bytes", resp.StatusCode, resp.ContentLength)
		}
		if resp, _ := a.api("GET", "/api/tickets/2026-999999/recording", tok, ""); resp.StatusCode != 404 {
			t.Errorf("unknown: %d", resp.StatusCode)
		}
	})
	t.Run("oncall and calls", func(t *testing.T) {
		resp, body := a.api("GET", "/api/oncall", tok, "")
		var oc struct {
			Zone string `json:"zone"`
			Now  []struct {
				Tier   string `json:"tier"`
				Person string `json:"person"`
			} `json:"now"`
			Shifts []json.RawMessage `json:"shifts"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &oc) != nil || len(oc.Now) != 1 || oc.Now[0].Person != "bob" ||
			oc.Zone != "Europe/Paris" || len(oc.Shifts) < 2 {
			t.Errorf("oncall: %d %s", resp.StatusCode, body)
		}
		resp, body = a.api("GET", "/api/calls", tok, "")
		if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "[]" {
			t.Errorf("calls: %d %s", resp.StatusCode, body)
		}
		resp, body = a.api("GET", "/api/nothing", tok, "")
		if resp.StatusCode != 404 || !strings.Contains(string(body), `"error"`) {
			t.Errorf("unknown endpoint: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("a revoked token stops working", func(t *testing.T) {
		if err := a.acc.RemoveToken(ctx, "bot"); err != nil {
			t.Fatal(err)
		}
		if resp, _ := a.api("GET", "/api/tickets", bot, ""); resp.StatusCode != 401 {
			t.Errorf("revoked token: %d", resp.StatusCode)
		}
	})
}
