package oncall_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/astreinte/astreinte/oncall"
)

// chainLog is what every channel of a scenario was asked to deliver, as
// "mm:ss channel person [event]" lines, and the most calls one person had
// at once on a channel that rings.
type chainLog struct {
	mu      sync.Mutex
	start   time.Time
	lines   []string
	active  map[string]int
	maxOnce int
}

func (l *chainLog) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.lines)
	slices.Sort(out) // "mm:ss …": by time, then channel and person
	return out
}

// chainChannel pages as its answers say, by person id ("*": anyone else):
// "ok" delivered, "fail" busy, "ack" key 1, "ring" rings 30 s then no
// answer ("ring6m" 6 min), "hang" rings until the service stops.
type chainChannel struct {
	name    string
	log     *chainLog
	answers map[string]string
	reaches func(oncall.Person) bool
}

func (c *chainChannel) Reaches(p oncall.Person) bool { return c.reaches(p) }

// Rings: "sip" calls, one at a time per person; email and webhook do not.
func (c *chainChannel) Rings() bool { return c.name == "sip" }

func (c *chainChannel) Notify(ctx context.Context, n oncall.Notice) (oncall.Result, error) {
	who := n.Person.ID
	if who == "" {
		who = "-"
	}
	line := fmt.Sprintf("%s %s %s", fmtOffset(time.Since(c.log.start)), c.name, who)
	if n.Event != oncall.NoticePage {
		line += " " + n.Event
	}
	key := c.name + " " + who
	c.log.mu.Lock()
	c.log.lines = append(c.log.lines, line)
	c.log.active[key]++
	if c.Rings() {
		c.log.maxOnce = max(c.log.maxOnce, c.log.active[key])
	}
	c.log.mu.Unlock()
	defer func() {
		c.log.mu.Lock()
		c.log.active[key]--
		c.log.mu.Unlock()
	}()
	a, ok := c.answers[n.Person.ID]
	if !ok {
		a = c.answers["*"]
	}
	switch a {
	case "ok":
		return oncall.Result{Detail: "delivered"}, nil
	case "ack":
		return oncall.Result{Acked: true, Detail: "answered, key 1"}, nil
	case "ring":
		time.Sleep(30 * time.Second)
		return oncall.Result{}, errors.New("no answer within 30s")
	case "ring6m":
		time.Sleep(6 * time.Minute)
		return oncall.Result{}, errors.New("no answer within 6m")
	case "hang":
		<-ctx.Done()
		return oncall.Result{}, ctx.Err()
	}
	return oncall.Result{}, errors.New("486 Busy Here")
}

func hasSIP(p oncall.Person) bool   { return p.SIP != "" }
func hasEmail(p oncall.Person) bool { return p.Email != "" }
func nobody(oncall.Person) bool     { return false }

// chainWorld is the two-tier, two-round world of engine_test.go (alice
// then bob, 5 min each, one retry after 1 min) with the scenario's
// channels, times written in Paris.
func chainWorld(t *testing.T, dir string, log *chainLog, channels map[string]map[string]string, policy []string,
	fallback []oncall.Contact, tune func(*oncall.Engine)) *world {
	t.Helper()
	reach := map[string]func(oncall.Person) bool{"sip": hasSIP, "email": hasEmail, "webhook": nobody}
	return newWorld(t, dir, &recorder{}, func(e *oncall.Engine) {
		e.Notifiers = map[string]oncall.Notifier{}
		for name, answers := range channels {
			e.Notifiers[name] = &chainChannel{name: name, log: log, answers: answers, reaches: reach[name]}
		}
		e.Order = []string{"sip", "email"}
		e.PolicyChannels = policy
		e.Fallback = fallback
		e.Location = paris
		if tune != nil {
			tune(e)
		}
	})
}

var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}()

// The escalation rules as timelines: who is paged when, on which channel,
// how the page ends and what the ticket's timeline says.
func TestChain(t *testing.T) {
	desk := []oncall.Contact{{Channel: "email", Address: "desk@example.com"}}
	for _, tt := range []struct {
		name     string
		channels map[string]map[string]string
		policy   []string
		fallback []oncall.Contact
		tune     func(*oncall.Engine)
		ackAt    time.Duration // acknowledged from the CLI (the database only), by bob
		want     []string
		state    oncall.PageState
		timeline []string // in this order among the events
	}{{
		name:     "busy on her only channel: the next tier at once",
		channels: map[string]map[string]string{"sip": {"alice": "fail", "bob": "ack"}},
		want:     []string{"00:00 sip alice", "00:00 sip bob"},
		state:    oncall.PageAcked,
		timeline: []string{"Alice: 486 Busy Here; retry 1/1 at 01:01:00", "Alice could not be reached (sip): next tier now", "paging Bob"},
	}, {
		name: "an email delivered holds the tier for its delay",
		channels: map[string]map[string]string{
			"sip":   {"alice": "fail", "bob": "ack"},
			"email": {"*": "ok"},
		},
		// Alice, emailed, is told by email that Bob took it.
		want:     []string{"00:00 email alice", "00:00 sip alice", "01:00 sip alice", "05:00 email alice ticket.taken", "05:00 sip bob"},
		state:    oncall.PageAcked,
		timeline: []string{"retry 1/1 at 01:01:00", "giving up on this channel", "paging Bob"},
	}, {
		name: "everyone unreachable: every tier at once, the next round after the delay, then the fallback at once",
		channels: map[string]map[string]string{
			"sip":   {"*": "fail"},
			"email": {"alice": "fail", "*": "ok"},
		},
		fallback: desk,
		want: []string{
			"00:00 email alice", "00:00 sip alice", "00:00 sip bob",
			"01:00 email alice", "01:00 sip alice", "01:00 sip bob",
			"05:00 email alice", "05:00 email fallback:desk@example.com escalation.exhausted", "05:00 sip alice", "05:00 sip bob",
		},
		state: oncall.PageExhausted,
		timeline: []string{"Alice could not be reached (sip, email): next tier now", "round 2: paging Alice",
			"nobody acknowledged after 2 round(s) of 2 tier(s); fallback: desk@example.com by email",
			"desk@example.com (escalation.exhausted): delivered"},
	}, {
		name:     "the webhook names each person paged, then who acknowledged",
		channels: map[string]map[string]string{"sip": {"alice": "ok", "bob": "ack"}, "webhook": {"*": "ok"}},
		policy:   []string{"webhook"},
		want: []string{"00:00 sip alice", "00:00 webhook alice", "05:00 sip bob", "05:00 webhook bob",
			"05:00 webhook bob ticket.acknowledged"},
		state: oncall.PageAcked,
	}, {
		name:     "an acknowledgement from the CLI reaches the webhook",
		channels: map[string]map[string]string{"sip": {"*": "ok"}, "webhook": {"*": "ok"}},
		policy:   []string{"webhook"},
		ackAt:    2*time.Minute + 30*time.Second,
		want:     []string{"00:00 sip alice", "00:00 webhook alice", "03:00 webhook bob ticket.acknowledged"},
		state:    oncall.PageAcked,
	}, {
		name:     "nobody acknowledges: the webhook hears the escalation ended",
		channels: map[string]map[string]string{"sip": {"*": "ok"}, "webhook": {"*": "ok"}},
		policy:   []string{"webhook"},
		want: []string{"00:00 sip alice", "00:00 webhook alice", "05:00 sip bob", "05:00 webhook bob",
			"10:00 sip alice", "10:00 webhook alice", "15:00 sip bob", "15:00 webhook bob",
			"20:00 webhook - escalation.exhausted"},
		state:    oncall.PageExhausted,
		timeline: []string{"nobody acknowledged after 2 round(s) of 2 tier(s); fallback: webhook"},
	}, {
		name:     "nobody acknowledges and no fallback: the timeline says so",
		channels: map[string]map[string]string{"sip": {"*": "ok"}},
		want:     []string{"00:00 sip alice", "05:00 sip bob", "10:00 sip alice", "15:00 sip bob"},
		state:    oncall.PageExhausted,
		timeline: []string{"no fallback configured (paging.fallback)"},
	}, {
		// Alice's retry (step 0) and her page of round 2 (step 2) are due
		// together at 05:30, as are Bob's retry and step 3 later: each
		// phone rings once at a time, the second call when the first ends.
		name:     "a retry and the next round due together ring one after the other",
		channels: map[string]map[string]string{"sip": {"*": "ring"}},
		tune:     func(e *oncall.Engine) { e.Backoff = 5 * time.Minute },
		want: []string{"00:00 sip alice", "00:30 sip bob", "05:30 sip alice", "06:00 sip alice", "06:00 sip bob",
			"06:30 sip bob"},
		state: oncall.PageExhausted,
	}, {
		// Only email is configured and Bob has no address: his steps
		// pass at once (the webhook, which reaches no one, does not hold
		// them), and the end too.
		name:     "a technician no channel reaches: the next tier at once",
		channels: map[string]map[string]string{"email": {"*": "ok"}, "webhook": {"*": "ok"}},
		policy:   []string{"webhook"},
		want: []string{"00:00 email alice", "00:00 webhook alice", "05:00 email alice", "05:00 webhook alice", "05:00 webhook bob",
			"10:00 webhook - escalation.exhausted", "10:00 webhook bob"},
		state:    oncall.PageExhausted,
		timeline: []string{"Bob has no channel that can be paged (no sip or email), next tier"},
	}, {
		// Bob's phone rings 6 minutes: his round-2 call starts at 06:00,
		// when his first ends, and the escalation cannot be said to have
		// failed while it rings (its delay was up at 10:00).
		name:     "the last phone still ringing holds the fallback until it ends",
		channels: map[string]map[string]string{"sip": {"alice": "fail", "bob": "ring6m"}, "email": {"alice": "fail", "*": "ok"}},
		fallback: desk,
		want: []string{"00:00 email alice", "00:00 sip alice", "00:00 sip bob", "01:00 email alice", "01:00 sip alice",
			"05:00 email alice", "05:00 sip alice", "06:00 email alice", "06:00 sip alice", "06:00 sip bob",
			"12:00 email fallback:desk@example.com escalation.exhausted"},
		state: oncall.PageExhausted,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			synctest.Test(t, func(t *testing.T) {
				log := &chainLog{start: time.Now(), active: map[string]int{}}
				w := chainWorld(t, dir, log, tt.channels, tt.policy, tt.fallback, tt.tune)
				defer w.stop()
				tk := w.urgentTicket(t)
				if tt.ackAt > 0 {
					time.Sleep(tt.ackAt)
					if ok, err := w.db.Acknowledge(context.Background(), tk.ID, "bob", "cli"); err != nil || !ok {
						t.Fatalf("ack: %v %v", ok, err)
					}
				}
				time.Sleep(time.Hour)
				synctest.Wait()
				if got := log.got(); !slices.Equal(got, tt.want) {
					t.Errorf("notices:\n got %q\nwant %q", got, tt.want)
				}
				if log.maxOnce > 1 {
					t.Errorf("one person was paged %d times at once on one channel", log.maxOnce)
				}
				p, err := w.db.PageByTicket(context.Background(), tk.ID)
				if err != nil || p.State != tt.state {
					t.Errorf("page %s (%v), want %s", p.State, err, tt.state)
				}
				evs, err := w.db.Timeline(context.Background(), tk.ID)
				if err != nil {
					t.Fatal(err)
				}
				i := 0
				for _, e := range evs {
					if i < len(tt.timeline) && strings.Contains(e.Detail, tt.timeline[i]) {
						i++
					}
				}
				if i < len(tt.timeline) {
					var b strings.Builder
					for _, e := range evs {
						fmt.Fprintf(&b, "\n  %s %s %s", e.At.Sub(tk.CreatedAt), e.Kind, e.Detail)
					}
					t.Errorf("timeline lacks %q (in order) in:%s", tt.timeline[i], b.String())
				}
			})
		})
	}
}

// Killed in the middle of a call-out (the phone still ringing) and
// restarted 20 s later, the service calls the technician again at once,
// not when the send's 5-minute lease runs out, and only once.
func TestRestartDuringACallRedialsAtOnce(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		log := &chainLog{start: time.Now(), active: map[string]int{}}
		w := chainWorld(t, dir, log, map[string]map[string]string{"sip": {"*": "hang"}}, nil, nil, nil)
		w.urgentTicket(t)
		time.Sleep(10 * time.Second)
		w.stop() // the row stays "sending", leased for 5 min, as after kill -9
		time.Sleep(10 * time.Second)

		w2 := chainWorld(t, dir, log, map[string]map[string]string{"sip": {"*": "ack"}}, nil, nil, nil)
		defer w2.stop()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if got, want := log.got(), []string{"00:00 sip alice", "00:20 sip alice"}; !slices.Equal(got, want) {
			t.Fatalf("calls:\n got %q\nwant %q", got, want)
		}
	})
}
