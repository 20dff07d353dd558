package tickets

import (
	"testing"
	"time"

	"github.com/astreinte/astreinte"
)

func TestMarksText(t *testing.T) {
	ms := []astreinte.Mark{{Kind: astreinte.MarkPrompt, Name: "greeting"}, {At: 2500 * time.Millisecond, Kind: astreinte.MarkSpeech, Name: "greeting"},
		{At: 2900 * time.Millisecond, Kind: astreinte.MarkBeep}, {At: 14 * time.Second, Kind: astreinte.MarkKey, Name: "1"}}
	want := "prompt greeting 0.0s · speech greeting 2.5s · beep 2.9s · key 1 14.0s"
	if got := MarksText(ms); got != want {
		t.Errorf("MarksText = %q, want %q", got, want)
	}
}
