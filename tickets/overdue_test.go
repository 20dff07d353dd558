package tickets

import (
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

// TestOverdueOnlyAfterAPromise: an urgent ticket is not overdue the moment
// it is created, only once nobody took it within the acknowledgement
// target; a normal one after its callback day.
func TestOverdueOnlyAfterAPromise(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	urgent := astreinte.Ticket{Urgency: astreinte.Urgent, Status: astreinte.StatusNew, CreatedAt: t0, DueAt: t0}
	taken := urgent
	taken.Status = astreinte.StatusAcknowledged
	normal := astreinte.Ticket{Urgency: astreinte.NotUrgent, Status: astreinte.StatusNew, CreatedAt: t0, DueAt: t0.Add(39 * time.Hour)}
	for _, tt := range []struct {
		name string
		t    astreinte.Ticket
		at   time.Duration
		want bool
	}{
		{"urgent, just created", urgent, 0, false},
		{"urgent, within the target", urgent, 14 * time.Minute, false},
		{"urgent, nobody took it after the target", urgent, 16 * time.Minute, true},
		{"urgent, taken", taken, 2 * time.Hour, false},
		{"normal, before the callback day", normal, 38 * time.Hour, false},
		{"normal, after the callback day", normal, 40 * time.Hour, true},
	} {
		if got := OverdueAt(tt.t, t0.Add(tt.at), 15*time.Minute); got != tt.want {
			t.Errorf("%s: overdue %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestPolicyAckTarget: the service counts overdue with the policy's
// acknowledgement target (oncall.escalation.ack_target), in the pages and
// the JSON alike; without one, DefaultAckTarget.
func TestPolicyAckTarget(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	urgent := astreinte.Ticket{Urgency: astreinte.Urgent, Status: astreinte.StatusNew, CreatedAt: t0, DueAt: t0}
	half := New(nil, nil, Options{AckTarget: 30 * time.Minute})
	def := New(nil, nil, Options{})
	at := t0.Add(20 * time.Minute)
	if half.Overdue(urgent, at) || half.JSON(urgent, nil, at).Overdue {
		t.Error("20 min with a 30 min target: overdue")
	}
	if !half.Overdue(urgent, t0.Add(31*time.Minute)) || !half.ListJSON([]astreinte.Ticket{urgent}, t0.Add(31*time.Minute))[0].Overdue {
		t.Error("31 min with a 30 min target: not overdue")
	}
	if def.AckTarget() != DefaultAckTarget || !def.Overdue(urgent, at) {
		t.Errorf("default target %v: 20 min not overdue", def.AckTarget())
	}
}
