package main

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/notify/sipcall"
	"github.com/astreinte/astreinte/oncall/notify/sipmessage"
	"github.com/astreinte/astreinte/sip"
	"github.com/astreinte/astreinte/voicemail"
)

// pager runs the paging engine with the configured channels.
type pager struct {
	env    *env
	log    *slog.Logger
	engine *oncall.Engine
	sip    *sip.Server
	wg     sync.WaitGroup
}

func newPager(e *env, log *slog.Logger) (*pager, error) {
	p := &pager{env: e, log: log}
	cfg := e.cfg.Paging
	eng := &oncall.Engine{
		Store: e.db, Schedule: e.sched, Now: e.now, Log: log.With("component", "pager"),
		Retries: cfg.Retries, Notifiers: map[string]oncall.Notifier{},
	}
	if cfg.SIPEnabled() {
		prompts := map[string]*voicemail.Prompts{}
		for _, lang := range []string{"fr", "en"} {
			pr, err := voicemail.LoadPrompts(lang, "")
			if err != nil {
				return nil, err
			}
			prompts[lang] = pr
		}
		eng.Notifiers["sip"] = &sipcall.Notifier{
			Dialer: dialerFunc(func(ctx context.Context, target string, o sip.DialOptions) (*sip.Call, error) {
				return p.sip.Dial(ctx, target, o)
			}),
			Options: sip.DialOptions{FromUser: cfg.SIP.FromUser, FromDisplay: cfg.SIP.FromDisplay, RingTimeout: cfg.SIP.RingTimeout,
				Proxy: cfg.SIP.Proxy, Username: cfg.SIP.Username, Password: cfg.SIP.Password},
			Prompts: prompts, Log: log,
		}
	}
	if err := addNotifiers(e, eng, log); err != nil {
		return nil, err
	}
	if cfg.SIP.Message {
		eng.Notifiers["message"] = &sipmessage.Notifier{
			Sender: senderFunc(func(ctx context.Context, target, text string, o sip.DialOptions) error {
				return p.sip.SendMessage(ctx, target, text, o)
			}),
			Options: sip.DialOptions{FromUser: cfg.SIP.FromUser, FromDisplay: cfg.SIP.FromDisplay,
				Proxy: cfg.SIP.Proxy, Username: cfg.SIP.Username, Password: cfg.SIP.Password},
			BaseURL: cfg.BaseURL, Key: e.ackKey, LinkTTL: cfg.LinkTTL, Location: e.cal.Location(), Now: e.now,
		}
	}
	chans := slices.Sorted(maps.Keys(eng.Notifiers))
	log.Info("paging channels", "channels", chans, "tiers", len(e.sched.Tiers()), "people", len(e.sched.People()))
	if len(e.sched.Tiers()) == 0 {
		log.Warn("no escalation tiers configured (oncall.escalation.tiers): urgent tickets will not page anyone")
	}
	p.engine = eng
	return p, nil
}

type senderFunc func(ctx context.Context, target, text string, o sip.DialOptions) error

func (f senderFunc) SendMessage(ctx context.Context, target, text string, o sip.DialOptions) error {
	return f(ctx, target, text, o)
}

type dialerFunc func(ctx context.Context, target string, o sip.DialOptions) (*sip.Call, error)

func (f dialerFunc) Dial(ctx context.Context, target string, o sip.DialOptions) (*sip.Call, error) {
	return f(ctx, target, o)
}

func (p *pager) start(ctx context.Context) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.engine.Run(ctx)
	}()
}

func (p *pager) wait()    { p.wg.Wait() }
func (p *pager) trigger() { p.engine.Trigger() }
