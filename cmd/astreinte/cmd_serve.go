package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/mailin"
	"github.com/astreinte/astreinte/metrics"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/recording"
	"github.com/astreinte/astreinte/sip"
	"github.com/astreinte/astreinte/voicemail"
	"github.com/astreinte/astreinte/web"
	flag "github.com/spf13/pflag"
)

func serveCommand() *command {
	return &command{
		name: "serve", short: "run the service: answer the support lines, record messages, page the on-call technician",
		long: `SIGTERM drains (new calls get 503, calls in progress finish within
sip.drain_timeout); SIGINT, or a second signal, ends the calls now, keeping
their recordings.`,
		setup: func(fs *flag.FlagSet) runner {
			cfgPath := configFlag(fs)
			allowGaps := fs.Bool("allow-gaps", false, "start although a contract promises on-call and closed hours have nobody on call")
			pprofAddr := fs.String("pprof", "", "serve Go's profiles (/debug/pprof/) on this address, e.g. 127.0.0.1:6060; off when empty")
			pprofPublic := fs.Bool("pprof-public", false, "allow --pprof on an address that is not a loopback one")
			return func(ctx context.Context, s stdio, _ []string) error {
				if *pprofAddr != "" {
					p, err := metrics.ListenPprof(*pprofAddr, *pprofPublic)
					if err != nil {
						return err
					}
					defer p.Close()
					fmt.Fprintf(s.err, "profiles on http://%s/debug/pprof/\n", p.Addr())
				}
				return serve(ctx, *cfgPath, config.CheckOptions{AllowGaps: *allowGaps, Customers: customersOnContracts}, s.err)
			}
		},
	}
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level)) // validated with the configuration
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, cfgPath string, check config.CheckOptions, stderr io.Writer) error {
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	slog.SetDefault(log)
	if err := checkConfig(log, cfg, clockOf(cfg.Clock)(), check); err != nil {
		return err
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()

	a, err := newApp(runCtx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if limit, set := sip.MemoryLimit(cfg.Security.Limits.MaxCalls); set {
		log.Info("memory limit", "bytes", limit, "max_calls", cfg.Security.Limits.MaxCalls)
	}

	errc := make(chan error, 1)
	go func() { errc <- a.sip.ListenAndServe(runCtx) }()
	select {
	case <-a.sip.Ready():
	case err := <-errc:
		return listenHint(err, "sip.listen")
	}
	a.start(runCtx)
	ops := startOperations(runCtx, cfg, a.sip, a.ops.refusedSources, log) // trunks.go: registrations, SIGHUP, status socket
	defer ops.close()
	log.Info("astreinte ready", "sip", a.sip.Addr(), "data", cfg.DataDir, "lines", len(cfg.Lines), "config", orDefault(cfg.Source))

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
	log.Info("shutting down", "signal", fmt.Sprint(sig), "drain", drain, "calls", a.sip.Stats().ActiveCalls)
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
	err = a.sip.Shutdown(dctx)
	stopRun()
	a.wait()
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
	env    *env
	log    *slog.Logger
	sip    *sip.Server
	engine *oncall.Engine
	http   *httpServer
	ops    *ops
	mail   *mailin.Server // the inbound SMTP listener (mail.listen), nil when off
	// audio copies recordings to the store as they are made (PostgreSQL
	// only: on SQLite the file is the recording); nil on SQLite.
	audio *recording.Shipper
	wg    sync.WaitGroup
}

// newApp builds the service in dependency order: store, calendar and
// tickets (env); recordings left by a crash made into tickets; the
// caller's flow and the SIP server that hands it calls; the paging
// channels (which place calls through that server) and the engine; the
// web listener.
func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (a *app, err error) {
	e, err := newEnv(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	recs := filepath.Join(cfg.DataDir, "recordings")
	if _, err := voicemail.Recover(ctx, recs, e.tickets, e.now, log); err != nil {
		log.Error("start-up repair of recordings", "error", err)
	}
	node, err := e.db.StartNode(ctx, nodeName())
	if err != nil {
		return nil, err
	}
	log.Info("node", "id", node, "name", nodeName())
	lines, err := flowLines(cfg)
	if err != nil {
		return nil, err
	}
	lo, hi, _ := cfg.SIP.RTPRange() // validated with the configuration
	var ext netip.Addr
	if cfg.SIP.ExternalIP != "" {
		ext, _ = netip.ParseAddr(cfg.SIP.ExternalIP)
	}
	guard := newOps(cfg, log, e.now) // ops.go: who may call in, limits, metrics, health
	flow := &voicemail.Handler{Lines: lines, Tickets: e.tickets, Calendar: e.cal, RecordDir: recs, Now: e.now, Log: log,
		Mail: e.desk}
	var shipper *recording.Shipper
	if e.db.Postgres() {
		shipper = recording.NewShipper(e.db, 0, log)
		flow.Audio = shipper
	}
	onCall := wireCaller(e, flow)
	srv, err := sip.NewServer(sip.Config{
		Listen: cfg.SIP.Listen, Transports: cfg.SIP.Transports, ExternalIP: ext,
		RTPMin: lo, RTPMax: hi, FirstPacketTimeout: cfg.SIP.FirstPacketTimeout, MediaTimeout: cfg.SIP.MediaTimeout,
		UserAgent: cfg.SIP.UserAgent, Handler: flow, Logger: log, Now: e.now, Guard: guard.guard,
		MaxCalls: cfg.Security.Limits.MaxCalls, Lines: lineMatcher(cfg), CalledHeader: cfg.Trunks.CalledHeader, SRTPRequired: cfg.LineRequiresSRTP, TLS: sipTLS(cfg), TLSClient: sipTLSClient(cfg),
	})
	if err != nil {
		return nil, err
	}
	guard.connectTrunks(srv)
	if err := guard.startMetrics(srv, e.db, shipper, cfg.DataDir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			guard.close()
		}
	}()
	links, err := ackLinks(e)
	if err != nil {
		return nil, err
	}
	ch, err := newChannels(e, srv, links)
	if err != nil {
		return nil, err
	}
	eng := newEngine(e, ch, log)
	onCall.bind(eng)
	newDeskMail(e, ch, log)
	logChannels(log, e, eng, ch)
	// The customer space (/client/) beside the technicians' pages, behind
	// the operations endpoints.
	withOps := func(h http.Handler) http.Handler { return guard.handler(withSpace(e, h, log)) }
	h, err := startHTTP(e, log, newWebServer(e, srv, links, ch, eng, log), withOps)
	if err != nil {
		return nil, err
	}
	ml, err := startMailListener(e, log) // mail.go
	if err != nil {
		h.shutdown()
		return nil, err
	}
	return &app{env: e, log: log, sip: srv, engine: eng, http: h, ops: guard, mail: ml, audio: shipper}, nil
}

// flowLines gives each configured line its prompts.
func flowLines(cfg *config.Config) (map[string]*voicemail.Line, error) {
	lines := map[string]*voicemail.Line{}
	for _, l := range cfg.Lines {
		p, err := audio.LoadPrompts(l.Language, l.PromptsDir)
		if err != nil {
			return nil, fmt.Errorf("line %s: %w", l.Name, err)
		}
		vl := &voicemail.Line{Name: l.Name, Prompts: p, AnswerAfter: l.AnswerAfter, UrgencyTimeout: l.UrgencyTimeout,
			Record: voicemail.Limits{MaxLength: l.Record.MaxLength, Silence: l.Record.Silence, MinLength: l.Record.MinLength,
				SilenceThreshold: l.Record.SilenceThreshold}}
		callerLine(l, vl)
		if l.OpenAction == config.OpenRedirect {
			vl.RedirectTo = l.RedirectTo
		}
		lines[l.Name] = vl
	}
	return lines, nil
}

func logChannels(log *slog.Logger, e *env, eng *oncall.Engine, ch channels) {
	var names []string
	for _, n := range append(append([]string{}, channelOrder...), ch.policy...) {
		if _, ok := ch.notifiers[n]; ok {
			names = append(names, n)
		}
	}
	log.Info("paging channels", "channels", names, "tiers", len(e.sched.Tiers()), "people", len(e.sched.People()))
	if len(e.sched.Tiers()) == 0 {
		log.Warn("no escalation tiers configured (oncall.escalation.tiers): urgent tickets will not page anyone")
	}
	for _, p := range e.sched.People() {
		if len(eng.ChannelsOf(p)) == 0 {
			log.Warn("technician cannot be paged: no configured channel reaches them", "person", p.ID)
		}
	}
}

func (a *app) start(ctx context.Context) {
	if a.audio != nil { // stopped by close, once the calls are over
		go a.audio.Run(context.WithoutCancel(ctx))
	}
	if a.env.db.Postgres() { // the other nodes' changes reach this one's pages and engine
		stop := a.env.tickets.Share(a.env.db)
		a.wg.Go(func() { <-ctx.Done(); stop() })
	}
	a.wg.Go(func() { a.engine.Run(ctx) })
	a.ops.run(ctx)
	a.wg.Go(func() { a.env.tickets.RetryPending(ctx, pendingRetry) })
	a.wg.Go(func() { a.env.desk.Run(ctx) }) // mail to requesters
	if a.env.db.Postgres() {
		// Calls other nodes had in progress when they died become tickets.
		a.wg.Go(func() { voicemail.WatchCutCalls(ctx, a.env.db, a.env.recordings(), a.env.tickets, cutPoll, a.log) })
	}
}

// cutPoll is how often a node on PostgreSQL looks for calls cut by the
// death of another.
const cutPoll = 2 * time.Second

// nodeName is this process's name among the nodes: host and process id.
func nodeName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// pendingRetry is how often tickets the store refused (a full disk) are
// tried again.
const pendingRetry = 5 * time.Second

func (a *app) wait() { a.wg.Wait() }

func (a *app) close() {
	closeMailListener(a.mail)
	a.http.shutdown()
	a.ops.close()
	if a.audio != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.audio.Close(ctx)
		cancel()
		st := a.audio.Stats()
		a.log.Info("recordings copied to the store", "rows", st.Rows, "bytes", st.Bytes, "batches", st.Batches,
			"max_batch", st.MaxBatch, "dropped", st.Dropped, "failed", st.Failed)
	}
	a.env.Close()
}

// httpServer serves the web pages (acknowledge links), /healthz, /readyz
// and /metrics.
type httpServer struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// startHTTP serves ws behind wrap (the operations endpoints).
func startHTTP(e *env, log *slog.Logger, ws *web.Server, wrap func(http.Handler) http.Handler) (*httpServer, error) {
	if e.cfg.HTTP.Listen == "off" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", e.cfg.HTTP.Listen)
	if err != nil {
		return nil, listenHint(fmt.Errorf("http listen %s: %w", e.cfg.HTTP.Listen, err), "http.listen")
	}
	h := &httpServer{ln: ln, done: make(chan struct{}), srv: &http.Server{
		Handler: wrap(ws.Handler()), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	h.srv.RegisterOnShutdown(ws.CloseStreams)
	if err := serveTLS(h, e.cfg.HTTP); err != nil {
		ln.Close()
		return nil, err
	}
	go func() {
		defer close(h.done)
		if err := h.srv.Serve(h.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http", "error", err)
		}
	}()
	log.Info("http listening", "addr", ln.Addr().String(), "tls", e.cfg.HTTP.TLSCert != "")
	return h, nil
}

func (h *httpServer) shutdown() {
	if h == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.srv.Shutdown(ctx)
	<-h.done
}

// listenHint says what to do when a listening address cannot be taken:
// the error alone ("address already in use") leaves a newcomer guessing.
func listenHint(err error, key string) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%w\n(another program, perhaps astreinte itself, already listens there: stop it, or set %s in the configuration)", err, key)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%w\n(ports below 1024 need root or CAP_NET_BIND_SERVICE, as deploy/astreinte.service gives; or set %s to a port above 1024)", err, key)
	}
	return err
}
