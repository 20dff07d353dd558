package tickets

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxWork bounds a duration of work or a quote's hours: more is a typing
// mistake (1,000 hours is half a year of full days).
const MaxWork = 1000 * time.Hour

// ParseWork reads a duration of work or of a quote as people write it:
// "30m", "1h15" (minutes implied), "1h15m", "1:15", or "90" (minutes). It
// is at least a minute and at most MaxWork.
func ParseWork(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("duration %q: want 30m, 1h15, 1:15 or a number of minutes", s)
	var d time.Duration
	if h, m, ok := strings.Cut(s, ":"); ok {
		hh, err1 := strconv.Atoi(h)
		mm, err2 := strconv.Atoi(m)
		if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm >= 60 {
			return 0, bad
		}
		d = time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
	} else if n, err := strconv.Atoi(s); err == nil {
		d = time.Duration(n) * time.Minute
	} else {
		if strings.Contains(s, "h") && !strings.HasSuffix(s, "h") && !strings.HasSuffix(s, "m") && !strings.HasSuffix(s, "s") {
			s += "m" // 1h15
		}
		if d, err = time.ParseDuration(s); err != nil {
			return 0, bad
		}
	}
	if d < time.Minute || d > MaxWork {
		return 0, bad
	}
	return d.Round(time.Second), nil
}
