package main

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/astreinte/astreinte/acklink"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/deskmail"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/notify/email"
	"github.com/astreinte/astreinte/oncall/notify/sipcall"
	"github.com/astreinte/astreinte/oncall/notify/sipmessage"
	"github.com/astreinte/astreinte/oncall/notify/webhook"
	"github.com/astreinte/astreinte/sip"
	"github.com/astreinte/astreinte/tickets"
)

// ackLinks is the acknowledge-link component every notifier and the web
// listener share, its key kept in the data directory.
func ackLinks(e *env) (*acklink.Links, error) {
	key, err := acklink.LoadOrCreateKey(filepath.Join(e.cfg.DataDir, "ack.key"))
	if err != nil {
		return nil, fmt.Errorf("acknowledge link key: %w", err)
	}
	return &acklink.Links{BaseURL: e.cfg.Paging.BaseURL, Key: key, TTL: e.cfg.Paging.LinkTTL, Now: e.now}, nil
}

// channels are the configured paging channels.
type channels struct {
	notifiers map[string]oncall.Notifier
	policy    []string        // paged once per step, not per person
	email     *email.Notifier // also in notifiers; nil without paging.email.smtp
}

// channelOrder is the order a person's channels are paged in: the phone
// first (it wakes people), then email, then the text message.
var channelOrder = []string{"sip", "email", "message"}

// newChannels builds the configured notifiers. srv places the SIP
// call-outs and messages (nil: no SIP channel); links makes acknowledge
// links (nil: none).
func newChannels(e *env, srv *sip.Server, links oncall.AckLinks) (channels, error) {
	cfg := e.cfg.Paging
	ch := channels{notifiers: map[string]oncall.Notifier{}}
	opts := sip.DialOptions{FromUser: cfg.SIP.FromUser, FromDisplay: cfg.SIP.FromDisplay, RingTimeout: cfg.SIP.RingTimeout,
		Proxy: cfg.SIP.Proxy, Username: cfg.SIP.Username, Password: cfg.SIP.Password}
	if cfg.SIPEnabled() && srv != nil {
		prompts := map[string]*audio.Prompts{}
		for _, lang := range []string{"fr", "en"} {
			p, err := audio.LoadPrompts(lang, "")
			if err != nil {
				return ch, err
			}
			prompts[lang] = p
		}
		ch.notifiers["sip"] = &sipcall.Notifier{Dialer: srv, Recordings: e.recordings(), Options: opts, Prompts: prompts, Log: e.logger()}
	}
	if cfg.SIP.Message && srv != nil {
		mo := opts
		mo.RingTimeout = 0
		ch.notifiers["message"] = &sipmessage.Notifier{Sender: srv, Options: mo, Links: links, Location: e.location(),
			PhoneByProxy: cfg.MessagesPhones()}
	}
	if cfg.Email.SMTP != "" {
		mc, err := e.cfg.Mailer()
		if err != nil {
			return ch, err
		}
		ch.email = &email.Notifier{Now: e.now, Cfg: email.Config{
			Config: mc, Links: links, Location: e.location(), Recordings: e.recordings(),
		}}
		ch.email.Sessions = &mailer.Pool{Config: &ch.email.Cfg.Config} // pages without a new connection each
		ch.notifiers["email"] = ch.email
	}
	if cfg.Webhook.URL != "" {
		ch.notifiers["webhook"] = &webhook.Notifier{URL: cfg.Webhook.URL, Secret: cfg.Webhook.Secret,
			Timeout: cfg.Webhook.Timeout, Links: links, Now: e.now}
		ch.policy = append(ch.policy, "webhook")
	}
	return ch, nil
}

// newEngine is the escalation engine over the store, taking
// acknowledgements through the tickets service; it wakes on every change
// that can concern paging.
func newEngine(e *env, ch channels, log *slog.Logger) *oncall.Engine {
	eng := &oncall.Engine{
		Store: e.db, Schedule: e.sched, Tickets: e.tickets, Notifiers: ch.notifiers, PolicyChannels: ch.policy,
		Order: channelOrder, Now: e.now, Log: log.With("component", "pager"), Retries: e.cfg.Paging.Retries,
		Location: e.location(), Failing: e.db.ChannelFailing,
	}
	for _, a := range e.cfg.Paging.Fallback.Emails {
		eng.Fallback = append(eng.Fallback, oncall.Contact{Channel: "email", Address: a})
	}
	e.tickets.Subscribe(func(c tickets.Change) {
		if c.ForPager() {
			eng.Trigger()
		}
	})
	e.tickets.SetMemoryPager(eng) // a ticket the store refuses still pages
	e.tickets.SetFirstPager(eng)  // a ticket's first pages go as it is written
	return eng
}

// newDeskMail emails each line's desk (lines[].desk_email) the tickets made
// in opening hours, by the email channel.
func newDeskMail(e *env, ch channels, log *slog.Logger) *deskmail.Desk {
	d := &deskmail.Desk{Tickets: e.tickets, To: map[string]string{}, Log: log}
	if ch.email != nil {
		d.Mail = ch.email
	}
	for _, l := range e.cfg.Lines {
		if l.DeskEmail != "" {
			d.To[l.Name] = l.DeskEmail
		}
	}
	e.tickets.Subscribe(d.Changed)
	return d
}

// logger is the default logger (set by serve; discards for other commands
// until they set one).
func (e *env) logger() *slog.Logger { return slog.Default() }
