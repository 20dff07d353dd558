package tickets

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
)

// ErrNoMessage is returned when a ticket has no message of the number asked.
var ErrNoMessage = errors.New("no such message")

// Message returns ticket t's k-th message, newest first (k = 1: the
// newest, as `tickets play --message K` counts), with its number in call
// order (Seq: 1 for the first call's). t must have been read in full
// (ByID, ByNumber).
func Message(t astreinte.Ticket, k int) (rec astreinte.Recording, seq int, err error) {
	n := len(t.Recordings)
	if n == 0 {
		return rec, 0, fmt.Errorf("ticket %s has no recording: %w", t.Number, ErrNoMessage)
	}
	if k < 1 || k > n {
		return rec, 0, fmt.Errorf("ticket %s has %d message(s), newest first 1 to %d; no message %d: %w", t.Number, n, n, k, ErrNoMessage)
	}
	return t.Recordings[k-1], n - k + 1, nil
}

// BySeq returns ticket t's message number seq in call order (1: the first
// call's), the stable number the web pages serve it under.
func BySeq(t astreinte.Ticket, seq int) (astreinte.Recording, bool) {
	n := len(t.Recordings)
	if seq < 1 || seq > n {
		return astreinte.Recording{}, false
	}
	return t.Recordings[n-seq], true
}

// MessageLines describes each of t's messages for a technician, newest
// first, times in loc: "1 (newest)", then "Sun 06 Dec 19:02, 42s, URGENT,
// /path/to.wav" — the label and the facts.
func MessageLines(t astreinte.Ticket, loc *time.Location) [][2]string {
	var out [][2]string
	for i, r := range t.Recordings {
		label := fmt.Sprintf("Message %d", i+1)
		switch {
		case len(t.Recordings) == 1:
			label = "Message"
		case i == 0:
			label += " (newest)"
		case i == len(t.Recordings)-1:
			label += " (first call)"
		}
		out = append(out, [2]string{label, fmt.Sprintf("%s, %s, %s, %s", r.At.In(loc).Format("Mon 02 Jan 15:04"),
			r.Duration.Round(time.Second), urgencyWord(r.Urgency), r.Path)})
		if len(r.Marks) > 0 {
			out = append(out, [2]string{"  along it", MarksText(r.Marks)})
		}
	}
	return out
}

// MarksText says where, in a recording, the beep came, the prompts
// started, keys were pressed and the caller's voice cut a prompt:
// "prompt greeting 0.0s · speech 2.5s · beep 2.9s · key 1 14.0s".
func MarksText(ms []astreinte.Mark) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteString(" · ")
		}
		b.WriteString(string(m.Kind))
		if m.Name != "" {
			b.WriteString(" " + m.Name)
		}
		fmt.Fprintf(&b, " %.1fs", m.At.Seconds())
	}
	return b.String()
}

// urgencyWord is how a technician reads an urgency: URGENT stands out.
func urgencyWord(u astreinte.Urgency) string {
	switch u {
	case astreinte.Urgent:
		return "URGENT"
	case "":
		return "urgency unknown"
	}
	return "normal"
}
