package audio

import (
	"testing"
	"time"
)

// TestSpeakDates: which words say a day, a reopening and a callback date,
// in French and English order.
func TestSpeakDates(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, paris) }
	now := at(1, 3) // Tuesday 1 December 2026, 03:00
	tests := []struct {
		lang string
		got  func(p *Prompts) [][]int16
		want []string
	}{
		{"fr", func(p *Prompts) [][]int16 { return p.Reopening(now, at(1, 9)) }, []string{"reopens", "today", "hour_9"}},
		{"fr", func(p *Prompts) [][]int16 { return p.Reopening(now, at(2, 9)) }, []string{"reopens", "tomorrow", "hour_9"}},
		{"fr", func(p *Prompts) [][]int16 { return p.Reopening(now, at(7, 14)) }, []string{"reopens", "weekday_1", "hour_14"}},
		{"fr", func(p *Prompts) [][]int16 { return p.Reopening(now, at(14, 9)) }, []string{"reopens", "day_14", "month_12", "hour_9"}},
		{"fr", func(p *Prompts) [][]int16 {
			return p.Reopening(now, time.Date(2026, 12, 1, 8, 30, 0, 0, paris))
		}, []string{"reopens", "today"}},
		{"fr", func(p *Prompts) [][]int16 { return p.Reopening(now, time.Time{}) }, nil},
		{"fr", func(p *Prompts) [][]int16 { return p.CallbackBy(now, at(3, 18)) }, []string{"callback_by", "weekday_4", "day_3", "month_12"}},
		{"en", func(p *Prompts) [][]int16 { return p.CallbackBy(now, at(3, 18)) }, []string{"callback_by", "weekday_4", "month_12", "day_3"}},
		{"en", func(p *Prompts) [][]int16 { return p.Reopening(now, at(4, 9)) }, []string{"reopens", "weekday_5", "hour_9"}},
	}
	for i, tt := range tests {
		p, err := LoadPrompts(tt.lang, "")
		if err != nil {
			t.Fatal(err)
		}
		got := tt.got(p)
		if len(got) != len(tt.want) {
			t.Errorf("case %d (%s): %d parts, want %v", i, tt.lang, len(got), tt.want)
			continue
		}
		for j, name := range tt.want {
			w := p.Must(name)
			if len(got[j]) != len(w) || &got[j][0] != &w[0] {
				t.Errorf("case %d (%s): part %d is not %s", i, tt.lang, j, name)
			}
		}
	}
}
