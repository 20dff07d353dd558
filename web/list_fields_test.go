package web

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/accounts"
	"github.com/astreinte/astreinte/tickets"
)

// TestListHasTheDetailsFields: GET /api/tickets gives each ticket the
// number to call back (a hidden caller's typed number), its kind (a missed
// call) and its message count as the detail does; an urgent ticket just
// created is not overdue.
func TestListHasTheDetailsFields(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	tok, _, err := a.acc.AddToken(ctx, "helpdesk", accounts.Technician, "alice")
	if err != nil {
		t.Fatal(err)
	}
	typed := astreinte.Ticket{Line: "support", CallerNumber: "anonymous", CallbackNumber: "+33611223344", Urgency: astreinte.Urgent,
		Case: astreinte.CaseOutOfHours, Duration: 9 * time.Second, CreatedAt: a.clock()}
	missed := astreinte.Ticket{Line: "support", CallerNumber: "+33622334455", CallbackNumber: "+33622334455", Kind: astreinte.KindMissedCall,
		Urgency: astreinte.NotUrgent, Case: astreinte.CaseOutOfHours, CreatedAt: a.clock().Add(-time.Minute)}
	for _, tk := range []*astreinte.Ticket{&typed, &missed} {
		if err := a.svc.Create(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	_, body := a.api("GET", "/api/tickets", tok, "")
	var list []tickets.JSON
	if err := json.Unmarshal(body, &list); err != nil || len(list) != 2 {
		t.Fatalf("list: %v %s", err, body)
	}
	for _, l := range list {
		_, body := a.api("GET", "/api/tickets/"+l.Number, tok, "")
		var d tickets.JSON
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatal(err)
		}
		if l.CallbackNumber != d.CallbackNumber || l.Kind != d.Kind || l.Customer != d.Customer || l.RecordingCount != d.RecordingCount || l.Overdue != d.Overdue {
			t.Errorf("%s: list %+v\ndetail %+v", l.Number, l, d)
		}
	}
	if list[0].CallbackNumber != "+33611223344" || list[0].Overdue {
		t.Errorf("the typed number in the list: %q, overdue %v", list[0].CallbackNumber, list[0].Overdue)
	}
	if list[1].Kind != string(astreinte.KindMissedCall) {
		t.Errorf("the missed call's kind in the list: %q", list[1].Kind)
	}
}
