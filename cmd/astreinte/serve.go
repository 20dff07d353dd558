package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/sip"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/voicemail"
)

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs, cfgPath := newFlags("serve")
	if _, err := parseFlags(fs, args); err != nil {
		return exitError{2, err.Error()}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	slog.SetDefault(log)

	// SIGTERM drains (new calls get 503, calls in progress finish);
	// SIGINT, or a second signal, stops the calls now, keeping recordings.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()

	app, err := newApp(runCtx, cfg, log)
	if err != nil {
		return err
	}
	defer app.close()

	errc := make(chan error, 1)
	go func() { errc <- app.sip.ListenAndServe(runCtx) }()
	select {
	case <-app.sip.Ready():
	case err := <-errc:
		return err
	}
	app.start(runCtx)
	log.Info("astreinte ready", "sip", app.sip.Addr(), "data", cfg.DataDir, "lines", len(cfg.Lines), "config", orDefault(cfg.Source))

	var sig os.Signal
	select {
	case sig = <-sigs:
	case err := <-errc:
		if err != nil {
			return err
		}
	case <-ctx.Done():
	}
	drain := cfg.SIP.DrainTimeout
	if sig == syscall.SIGINT {
		drain = 0
	}
	log.Info("shutting down", "signal", fmt.Sprint(sig), "drain", drain, "calls", app.sip.Stats().ActiveCalls)
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	go func() {
		select {
		case <-sigs:
			log.Warn("second signal: ending calls now")
			cancel()
		case <-dctx.Done():
		}
	}()
	err = app.sip.Shutdown(dctx)
	stopRun()
	app.wait()
	if err != nil {
		log.Error("shutdown", "error", err)
	}
	log.Info("stopped")
	return nil
}

func orDefault(s string) string {
	if s == "" {
		return "built-in default"
	}
	return s
}

// app is the running service.
type app struct {
	env   *env
	log   *slog.Logger
	sip   *sip.Server
	recs  string
	pager *pager
	http  *httpServer
}

func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, "astreinte.db"))
	if err != nil {
		return nil, err
	}
	e, err := newEnv(cfg, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &app{env: e, log: log, recs: filepath.Join(cfg.DataDir, "recordings")}
	lines := map[string]*voicemail.Line{}
	numbers := map[string]string{}
	for _, l := range cfg.Lines {
		p, err := voicemail.LoadPrompts(l.Language, l.PromptsDir)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("line %s: %w", l.Name, err)
		}
		lines[l.Name] = &voicemail.Line{Line: l, Prompts: p}
		for _, n := range l.Numbers {
			numbers[n] = l.Name
		}
	}
	a.pager, err = newPager(e, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := a.repair(ctx); err != nil {
		log.Error("start-up repair of recordings", "error", err)
	}
	lo, hi, _ := cfg.SIP.RTPRange()
	var ext netip.Addr
	if cfg.SIP.ExternalIP != "" {
		ext, _ = netip.ParseAddr(cfg.SIP.ExternalIP)
	}
	h := &voicemail.Handler{
		Lines: lines, Calls: db, Tickets: a, Calendar: calendarAdapter{e},
		RecordDir: a.recs, Now: e.now, Log: log,
	}
	a.sip, err = sip.NewServer(sip.Config{
		Listen: cfg.SIP.Listen, Transports: cfg.SIP.Transports, ExternalIP: ext,
		RTPMin: lo, RTPMax: hi, FirstPacketTimeout: cfg.SIP.FirstPacketTimeout, MediaTimeout: cfg.SIP.MediaTimeout,
		UserAgent: cfg.SIP.UserAgent, Handler: h, Logger: log, Now: e.now,
		Lines:        func(user string) (string, bool) { l, ok := numbers[user]; return l, ok },
		SRTPRequired: cfg.LineRequiresSRTP,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	a.pager.sip = a.sip
	a.http, err = startHTTP(e, log, a.pager.trigger)
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) start(ctx context.Context) { a.pager.start(ctx) }
func (a *app) wait()                     { a.pager.wait() }
func (a *app) close() {
	a.http.shutdown()
	a.env.Close()
}

// CreateTicket sets the due time, decides whether the ticket pages someone
// and stores it with its page in one transaction; then wakes the pager.
func (a *app) CreateTicket(ctx context.Context, t *astreinte.Ticket) error {
	var line config.Line
	for _, l := range a.env.cfg.Lines {
		if l.Name == t.Line {
			line = l
		}
	}
	days := line.Due.Normal
	if t.Urgency == astreinte.Urgent {
		days = line.Due.Urgent
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = a.env.now()
	}
	t.DueAt = t.CreatedAt
	if days > 0 {
		t.DueAt = a.env.cal.AddBusinessDays(t.CreatedAt, days)
	}
	var page *store.NewPage
	if shouldPage(line.Page, t) {
		page = &store.NewPage{Policy: "default", NextAt: t.CreatedAt}
	}
	if err := a.env.db.CreateTicket(ctx, t, page); err != nil {
		return err
	}
	if page != nil {
		a.pager.trigger()
	}
	return nil
}

func shouldPage(policy string, t *astreinte.Ticket) bool {
	switch policy {
	case config.PageUrgent:
		return t.Urgency == astreinte.Urgent
	case config.PageOutOfHours:
		return t.Urgency == astreinte.Urgent || !t.Case.Open()
	}
	return false
}

// repair finishes recordings a crash left behind and makes sure each has its
// ticket, so that no message is ever lost.
func (a *app) repair(ctx context.Context) error {
	if _, err := os.Stat(a.recs); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	found, err := voicemail.RepairRecordings(a.recs)
	for _, r := range found {
		if _, terr := a.env.db.TicketByRecording(ctx, r.Path); terr == nil {
			voicemail.RemoveSidecar(r.Path)
			continue
		}
		m := r.Meta
		started := m.StartedAt
		if started.IsZero() {
			started = a.env.now()
		}
		t := &astreinte.Ticket{
			CallID: m.CallRow, Line: m.Line, CallerNumber: m.CallerNumber, CallerName: m.CallerName,
			Urgency: astreinte.Urgency(m.Urgency), Case: astreinte.Case(m.Case), Recording: r.Path,
			Duration: r.Duration, CreatedAt: started,
		}
		if t.Urgency == "" {
			t.Urgency = astreinte.NotUrgent
		}
		if t.Line == "" && len(a.env.cfg.Lines) > 0 {
			t.Line = a.env.cfg.Lines[0].Name
		}
		if cerr := a.CreateTicket(ctx, t); cerr != nil {
			a.log.Error("ticket for a recovered recording", "path", r.Path, "error", cerr)
			continue
		}
		voicemail.RemoveSidecar(r.Path)
		a.env.db.AddEvent(ctx, astreinte.Event{TicketID: t.ID, At: a.env.now(), Kind: astreinte.EventNote, Actor: "system",
			Detail: "recording recovered at start-up after an interruption"})
		a.log.Warn("recovered an interrupted recording", "ticket", t.Number, "path", r.Path, "duration", r.Duration)
	}
	return err
}
