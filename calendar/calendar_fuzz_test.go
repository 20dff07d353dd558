package calendar

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

// FuzzParseSpans checks that any hours list either fails validation or
// yields sorted, non-overlapping, non-empty intervals within the day.
func FuzzParseSpans(f *testing.F) {
	for _, seed := range []string{"09:00-12:30,13:30-18:00", "13:30-12:00", "9:00-24:00", "-", "24:00-24:00", "00:00-00:01,00:01-00:02"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, list string) {
		var errs astreinte.FieldErrors
		spans := parseSpans(strings.Split(list, ","), "h", &errs)
		if len(errs) > 0 {
			return
		}
		for i, s := range spans {
			if s.start < 0 || s.end > 24*60 || s.start >= s.end {
				t.Fatalf("bad span %v from %q", s, list)
			}
			if i > 0 && spans[i-1].end > s.start {
				t.Fatalf("overlap %v %v from %q", spans[i-1], s, list)
			}
		}
	})
}

// FuzzStateAt checks invariants of StateAt at arbitrary instants: Since <=
// t < Until, and the state just before Until differs from the one at Until.
func FuzzStateAt(f *testing.F) {
	c, err := New(Config{Closures: []Closure{{From: "2026-12-24 12:00", To: "2026-12-24 18:00"}}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []int64{0, 1774770000, 1792000000, 1798100000} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, sec int64) {
		at := time.Unix(1767225600+sec%(3*365*86400), 0) // 2026–2028
		st := c.StateAt(at, nil)
		if !st.Since.IsZero() && st.Since.After(at) {
			t.Fatalf("Since %v after %v", st.Since, at)
		}
		if st.Until.IsZero() || !st.Until.After(at) {
			t.Fatalf("Until %v not after %v", st.Until, at)
		}
		if c.StateAt(st.Until, nil).Open == st.Open || c.StateAt(st.Until.Add(-time.Second), nil).Open != st.Open {
			t.Fatalf("Until %v is not a boundary for %v", st.Until, at)
		}
	})
}

// TestCalendarConcurrentUse checks that a calendar shared by every call
// answers the same from many goroutines as from one (and, under -race, that
// its lazily filled holiday tables are safe to share).
func TestCalendarConcurrentUse(t *testing.T) {
	c := newCal(t, Config{})
	at := func(i, d int) time.Time { return pt("2026-01-01 10:00").AddDate(i, 0, d*7) }
	type answer struct {
		st      State
		holiday string
	}
	ask := func(i, d int) answer {
		name, _ := c.Holiday(at(i, d))
		return answer{c.StateAt(at(i, d), nil), name}
	}
	want := make([][]answer, 8)
	ref := newCal(t, Config{}) // a fresh calendar, asked from one goroutine
	for i := range want {
		for d := range 50 {
			name, _ := ref.Holiday(at(i, d))
			want[i] = append(want[i], answer{ref.StateAt(at(i, d), nil), name})
		}
	}
	got := make([][]answer, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			for d := range 50 {
				got[i] = append(got[i], ask(i, d))
			}
		})
	}
	wg.Wait()
	holidays := 0
	for i := range want {
		for d := range want[i] {
			g, w := got[i][d], want[i][d]
			if g.st.Open != w.st.Open || g.st.Reason != w.st.Reason || !g.st.Until.Equal(w.st.Until) || g.holiday != w.holiday {
				t.Errorf("%v: concurrent answer %+v, sequential %+v", at(i, d), g, w)
			}
			if w.holiday != "" {
				holidays++
			}
		}
	}
	if holidays == 0 {
		t.Fatal("no holiday among the dates asked: the test checks nothing about the holiday tables")
	}
}

func BenchmarkStateAt(b *testing.B) {
	c, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	at := pt("2026-03-27 20:00")
	b.ReportAllocs()
	for b.Loop() {
		c.StateAt(at, nil)
	}
}
