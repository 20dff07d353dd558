package voicemail

import (
	"errors"
	"strings"
	"testing"
)

// TestApart: apart hands back f's result and error, and raises f's panic
// again on the caller's goroutine, where the call's recover is.
func TestApart(t *testing.T) {
	errFull := errors.New("disk full")
	if v, err := apart(func() (int, error) { return 7, errFull }); v != 7 || err != errFull {
		t.Errorf("apart = %d, %v; want 7, %v", v, err, errFull)
	}
	defer func() {
		r := recover()
		s, _ := r.(string)
		if !strings.HasPrefix(s, "boom\n") || !strings.Contains(s, "TestApart") {
			t.Errorf("recovered %q; want the panic value and f's stack", r)
		}
	}()
	apart(func() (int, error) { panic("boom") })
	t.Error("apart returned after f panicked")
}
