package tickets

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/astreinte/astreinte/store"
)

// Nodes sharing a store hear of each other's changes: Share publishes every
// change this service announces on the store's notification channel (after
// the change is committed) and announces to this service's subscribers the
// changes the other nodes publish, marked Remote. A change is not echoed
// back to its maker: each service signs what it publishes with an origin of
// its own.

// ChangesChannel is the store's notification channel of ticket changes.
const ChangesChannel = "astreinte_tickets"

// Bus carries notifications between the nodes sharing a store: store.DB on
// PostgreSQL.
type Bus interface {
	Notify(ctx context.Context, channel, payload string) error
	Listen(ctx context.Context, l store.Listener) error
}

var _ Bus = (*store.DB)(nil)

// shareQueue is how many changes wait to be published; past it a change is
// not told to the other nodes (their engines still look every 2 s, their
// pages at the next change).
const shareQueue = 1024

// wire is a change as published.
type wire struct {
	Origin   string     `json:"o"`
	Kind     ChangeKind `json:"k"`
	TicketID int64      `json:"id"`
	Number   string     `json:"n,omitempty"`
	Paging   bool       `json:"p,omitempty"`
}

// sharing is the state of Share.
type sharing struct {
	origin string
	out    chan Change
}

// Share tells the other nodes on b of this service's changes and this
// service's subscribers of theirs until stop is called; stop waits for the
// changes queued to be published. Call it once, before the service
// changes anything.
func (s *Service) Share(b Bus) (stop func()) {
	var id [8]byte
	rand.Read(id[:])
	sh := &sharing{origin: hex.EncodeToString(id[:]), out: make(chan Change, shareQueue)}
	s.mu.Lock()
	s.share = sh
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.publish(b, sh) })
	wg.Go(func() {
		b.Listen(ctx, store.Listener{Channel: ChangesChannel, Log: s.log,
			Notify: func(p string) { s.heard(sh, p) },
			Connected: func(again bool) {
				if again { // what the others changed meanwhile was not heard
					s.deliver(Change{Kind: Resync, Remote: true})
				}
			}})
	})
	return func() {
		s.mu.Lock()
		s.share = nil
		s.mu.Unlock()
		close(sh.out)
		cancel()
		wg.Wait()
	}
}

// publish sends the queued changes, in order, until the queue is closed.
func (s *Service) publish(b Bus, sh *sharing) {
	for c := range sh.out {
		p, _ := json.Marshal(wire{Origin: sh.origin, Kind: c.Kind, TicketID: c.TicketID, Number: c.Number, Paging: c.Paging})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := b.Notify(ctx, ChangesChannel, string(p)); err != nil {
			s.log.Warn("tickets: change not told to the other nodes", "ticket", c.TicketID, "kind", c.Kind, "error", err)
		}
		cancel()
	}
}

// heard announces a change another node published.
func (s *Service) heard(sh *sharing, payload string) {
	var w wire
	if err := json.Unmarshal([]byte(payload), &w); err != nil {
		s.log.Warn("tickets: unreadable change from another node", "payload", payload, "error", err)
		return
	}
	if w.Origin == sh.origin {
		return
	}
	s.deliver(Change{Kind: w.Kind, TicketID: w.TicketID, Number: w.Number, Paging: w.Paging, Remote: true})
}
