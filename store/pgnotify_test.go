package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestNotifyListen: on PostgreSQL a notification sent by one node reaches
// the listener of another, on its channel only; on SQLite Notify does
// nothing and Listen refuses.
func TestNotifyListen(t *testing.T) {
	dbs := openNodes(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if !dbs[0].Postgres() {
		if err := dbs[0].Notify(ctx, "astreinte_test", "x"); err != nil {
			t.Errorf("Notify on SQLite: %v", err)
		}
		if err := dbs[1].Listen(ctx, Listener{Channel: "astreinte_test"}); !errors.Is(err, ErrNoNotifications) {
			t.Errorf("Listen on SQLite: %v, want ErrNoNotifications", err)
		}
		return
	}
	got, up := make(chan string, 10), make(chan bool, 1)
	done := make(chan error, 1)
	go func() {
		done <- dbs[1].Listen(ctx, Listener{Channel: "astreinte_test", Notify: func(p string) { got <- p },
			Connected: func(again bool) { up <- again }})
	}()
	select {
	case again := <-up:
		if again {
			t.Error("first connection reported as a reconnection")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not connect")
	}
	for _, n := range []struct{ channel, payload string }{{"other", "no"}, {"astreinte_test", `{"k":"created"}`}} {
		if err := dbs[0].Notify(ctx, n.channel, n.payload); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case p := <-got:
		if p != `{"k":"created"}` {
			t.Errorf("heard %q", p)
		}
	case <-time.After(time.Second):
		t.Fatal("notification not heard within a second")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Listen ended with %v, want context.Canceled", err)
	}
	if len(got) != 0 {
		t.Errorf("heard more: %q", <-got)
	}
}
