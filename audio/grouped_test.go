package audio

import (
	"strings"
	"testing"
)

func TestNumberKeysFollowTheGroups(t *testing.T) {
	for _, tt := range []struct{ written, want string }{
		{"06 11 22 33 44", "digit_0 digit_6 , digit_1 digit_1 , digit_2 digit_2 , digit_3 digit_3 , digit_4 digit_4"},
		{"+44 20 7946", "digit_4 digit_4 , digit_2 digit_0 , digit_7 digit_9 digit_4 digit_6"},
		{"0611223344", "digit_0 digit_6 digit_1 digit_1 digit_2 digit_2 digit_3 digit_3 digit_4 digit_4"},
		{"  ", ""},
	} {
		if got := strings.Join(NumberKeys(tt.written), " "); got != tt.want {
			t.Errorf("NumberKeys(%q) = %q, want %q", tt.written, got, tt.want)
		}
	}
}

func TestGroupedPausesBetweenGroups(t *testing.T) {
	p, err := LoadPrompts("fr", "")
	if err != nil {
		t.Fatal(err)
	}
	flat, grouped := p.Number("0611223344"), p.Grouped("06 11 22 33 44")
	if want := len(flat) + 4*(SamplesIn(groupGap)-SamplesIn(digitGap)); len(grouped) != want {
		t.Errorf("grouped: %d samples, want %d (4 digit gaps become pauses of %s)", len(grouped), want, groupGap)
	}
}
