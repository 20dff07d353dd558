package oncall_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/store"
)

// nobodyReached is a channel that reaches nobody.
type nobodyReached struct{ recorder }

func (*nobodyReached) Reaches(oncall.Person) bool { return false }

// TestWhyNobody: each reason nobody is called now, and its words with the
// callback day.
func TestWhyNobody(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "astreinte.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	at := time.Date(2026, 12, 2, 3, 0, 0, 0, paris) // a Wednesday night
	eng := func(n oncall.Notifier, failing bool) *oncall.Engine {
		e := &oncall.Engine{Store: db, Schedule: twoTiers(t, cal), Notifiers: map[string]oncall.Notifier{"sip": n}}
		if failing {
			e.Failing = func(context.Context, string) bool { return true }
		}
		return e
	}
	if r := eng(&recorder{}, false).WhyNobody(ctx, at, true); r != oncall.ReasonNone {
		t.Errorf("someone on call and reachable: %v", r)
	}
	if r := eng(&recorder{}, false).WhyNobody(ctx, at, false); r != oncall.ReasonContractWithoutOnCall {
		t.Errorf("contract without on-call: %v", r)
	}
	if r := eng(&nobodyReached{}, false).WhyNobody(ctx, at, true); r != oncall.ReasonNoChannel {
		t.Errorf("no channel reaches them: %v", r)
	}
	if r := eng(&recorder{}, true).WhyNobody(ctx, at, true); r != oncall.ReasonChannelsFailing {
		t.Errorf("every channel failing: %v", r)
	}
	for _, who := range []string{"alice", "bob"} {
		if _, err := db.AddShiftOverride(ctx, oncall.ShiftOverride{Replaced: who, From: at.Add(-time.Hour), To: at.Add(time.Hour), SetBy: "test", SetAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if r := eng(&recorder{}, false).WhyNobody(ctx, at, true); r != oncall.ReasonNobodyOnRota {
		t.Errorf("both off: %v", r)
	}

	by := time.Date(2026, 12, 3, 18, 0, 0, 0, paris)
	for _, tt := range []struct {
		r          oncall.Reason
		lang, want string
	}{
		{oncall.ReasonContractWithoutOnCall, "fr", "Le contrat de ce client couvre les heures ouvrées, sans astreinte : personne n'est appelé la nuit. Rappel prévu au plus tard jeudi 3 décembre."},
		{oncall.ReasonContractWithoutOnCall, "en", "This customer's contract covers working hours, without on-call: nobody is called out of hours. The caller will be called back by Thursday 3 December."},
		{oncall.ReasonNobodyOnRota, "fr", "Personne n'est d'astreinte en ce moment (planning vide). Rappel prévu au plus tard jeudi 3 décembre."},
		{oncall.ReasonNoChannel, "en", "The person on call cannot be paged (no phone, SIP address or email the pager can use). The caller will be called back by Thursday 3 December."},
		{oncall.ReasonChannelsFailing, "fr", "Tous les moyens d'appeler la personne d'astreinte sont en panne. Rappel prévu au plus tard jeudi 3 décembre."},
	} {
		if got := tt.r.Words(tt.lang, by, paris); got != tt.want {
			t.Errorf("%v in %s:\n got %q\nwant %q", tt.r, tt.lang, got, tt.want)
		}
	}
}
