package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/sip"
)

// testPageNumber is the ticket number a test page carries; it is spoken
// "zero" and matches no real ticket.
const testPageNumber = "0000-000000"

// testPage pages one technician now on each of their channels (or the one
// asked for) with a test ticket, and says what became of each. The
// channels are built as the service builds them, without acknowledge
// links (the test ticket does not exist).
func testPage(ctx context.Context, e *env, id, channel string, w io.Writer) error {
	person, ok := e.sched.Person(id)
	if !ok {
		return exitError{1, fmt.Sprintf("unknown technician %q (see oncall.people in the configuration)", id)}
	}
	var srv *sip.Server
	if e.cfg.Paging.SIPEnabled() || e.cfg.Paging.SIP.Message {
		s, stop, err := testPageSIP(ctx, e, slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		defer stop()
		srv = s
	}
	ch, err := newChannels(e, srv, nil)
	if err != nil {
		return err
	}
	eng := &oncall.Engine{Notifiers: ch.notifiers, Order: channelOrder}
	chans := append(eng.ChannelsOf(person), ch.policy...)
	if channel != "" {
		if _, ok := ch.notifiers[channel]; !ok {
			configured := make([]string, 0, len(ch.notifiers))
			for n := range ch.notifiers {
				configured = append(configured, n)
			}
			slices.Sort(configured)
			return usageError("channel %q is not configured (configured: %s)", channel, strings.Join(configured, ", "))
		}
		chans = []string{channel}
	}
	if len(chans) == 0 {
		return exitError{1, fmt.Sprintf("%s cannot be paged: no configured channel reaches them (sip, email)", person.Name)}
	}
	now := e.now()
	notice := oncall.Notice{
		Ticket: astreinte.Ticket{Number: testPageNumber, Urgency: astreinte.Urgent, Case: astreinte.CaseOutOfHours,
			Line: "test", CallerName: "TEST", CreatedAt: now, DueAt: now},
		Person: person, Tier: "test",
	}
	fmt.Fprintf(w, "Test page to %s (ticket %s). On the call, press 1.\n", person.Name, testPageNumber)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tRESULT\t")
	failed := 0
	for _, c := range chans {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		res, err := ch.notifiers[c].Notify(cctx, notice)
		cancel()
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(tw, "%s\tFAILED: %v\t\n", c, err)
		case res.Acked:
			fmt.Fprintf(tw, "%s\tOK, acknowledged: %s\t\n", c, res.Detail)
		default:
			fmt.Fprintf(tw, "%s\tOK: %s\t\n", c, res.Detail)
		}
	}
	tw.Flush()
	if failed > 0 {
		return exitError{1, fmt.Sprintf("%d of %d channel(s) failed", failed, len(chans))}
	}
	return nil
}

// testPageSIP starts a SIP user agent for the test page on the configured
// address with a port of its own (the service may hold the configured one).
func testPageSIP(ctx context.Context, e *env, log *slog.Logger) (*sip.Server, func(), error) {
	cfg := e.cfg.SIP
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, nil, err
	}
	lo, hi, _ := cfg.RTPRange()
	var ext netip.Addr
	if cfg.ExternalIP != "" {
		ext, _ = netip.ParseAddr(cfg.ExternalIP)
	}
	srv, err := sip.NewServer(sip.Config{
		Listen: net.JoinHostPort(host, "0"), Transports: []string{"udp"}, ExternalIP: ext,
		RTPMin: lo, RTPMax: hi, UserAgent: cfg.UserAgent, Logger: log, Now: e.now,
		Handler: sip.HandlerFunc(func(context.Context, *sip.Call) {}),
		Lines:   func(string) (string, bool) { return "", false },
	})
	if err != nil {
		return nil, nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(sctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		cancel()
		return nil, nil, fmt.Errorf("sip for the test page: %w", err)
	}
	return srv, func() { cancel(); <-done }, nil
}
