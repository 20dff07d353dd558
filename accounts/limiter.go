package accounts

import (
	"strings"
	"sync"
	"time"
)

// Limits of failed logins: past MaxPerAccount failures for one account, or
// MaxPerAddress from one address, within Window, logins are refused until
// the oldest failure leaves the window.
const (
	MaxPerAccount = 5
	MaxPerAddress = 20
	Window        = 15 * time.Minute
)

// Limiter counts failed logins per account and per address.
type Limiter struct {
	now func() time.Time

	mu      sync.Mutex
	account map[string][]time.Time
	address map[string][]time.Time
}

// NewLimiter returns a limiter on the clock now.
func NewLimiter(now func() time.Time) *Limiter {
	return &Limiter{now: now, account: map[string][]time.Time{}, address: map[string][]time.Time{}}
}

// Blocked returns how long logins for name or from addr must wait (0: not
// blocked).
func (l *Limiter) Blocked(name, addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := wait(l.account, strings.ToLower(name), MaxPerAccount, now)
	return max(w, wait(l.address, addr, MaxPerAddress, now))
}

// Fail records a failed login.
func (l *Limiter) Fail(name, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	k := strings.ToLower(name)
	l.account[k] = append(prune(l.account[k], now), now)
	l.address[addr] = append(prune(l.address[addr], now), now)
}

// Succeed forgets an account's failures (not its address's).
func (l *Limiter) Succeed(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.account, strings.ToLower(name))
}

func prune(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-Window)) {
		i++
	}
	return ts[i:]
}

func wait(m map[string][]time.Time, k string, limit int, now time.Time) time.Duration {
	ts := prune(m[k], now)
	if len(ts) == 0 {
		delete(m, k)
		return 0
	}
	m[k] = ts
	if len(ts) < limit {
		return 0
	}
	return ts[len(ts)-limit].Add(Window).Sub(now)
}
