package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/metrics"
	"github.com/astreinte/astreinte/recording"
	"github.com/astreinte/astreinte/sip"
	"github.com/astreinte/astreinte/store"
)

// ops is what keeps `serve` safe and observable: the SIP guard (who may
// call in, limits, throttled logs) and the operations endpoints (/metrics,
// /healthz, /readyz).
type ops struct {
	guard   *sip.Guard
	metrics *metrics.Metrics
	health  *metrics.Health
	db      *metrics.DB
	log     *slog.Logger

	// Trunks returns the registered trunks' addresses, trusted like the
	// configured networks; Registrations and Registered report their state.
	// Hooks for the trunk registration code: nil until it sets them.
	Trunks        func() []netip.Prefix
	Registrations func() []metrics.Registration
	Registered    func() error
}

// newOps builds the guard from the configuration's security section. The
// metrics come later (startMetrics), once the SIP server and the database
// exist.
func newOps(cfg *config.Config, log *slog.Logger, now func() time.Time) *ops {
	o := &ops{log: log}
	s := cfg.Security.WithDefaults()
	accounts := map[string]string{}
	for _, a := range s.Accounts {
		accounts[a.Username] = a.Password
	}
	l := s.Limits
	o.guard = sip.NewGuard(sip.GuardConfig{
		Trusted: s.TrustedPrefixes(),
		Trunks: func() []netip.Prefix {
			if o.Trunks == nil {
				return nil
			}
			return o.Trunks()
		},
		Drop: s.Refuse == config.RefuseDrop, Realm: s.Realm, Accounts: accounts,
		ScannerUserAgents: s.ScannerUserAgents,
		RequestsPerSecond: l.RequestsPerSecond, RequestsBurst: l.RequestsBurst,
		CallsPerSecond: l.CallsPerSecond, CallsBurst: l.CallsBurst,
		CallsPerSource: l.CallsPerSource, MaxCalls: l.MaxCalls, Sources: l.Sources,
		RetryAfter: l.RetryAfter, LogPerMinute: s.LogPerMinute,
		Logger: log.With("component", "guard"), Now: now,
	})
	log.Info("sip guard", "trusted", len(s.Trusted), "accounts", len(accounts), "refuse", s.Refuse,
		"calls_per_source", l.CallsPerSource, "max_calls", l.MaxCalls)
	return o
}

// startMetrics opens the database for the metrics and the write probe:
// connections of their own to a SQLite file, the store's pools on
// PostgreSQL (the probe's file goes in dataDir); ship, when not nil, the
// recordings' copy to the shared store.
func (o *ops) startMetrics(srv *sip.Server, st *store.DB, ship *recording.Shipper, dataDir string) error {
	var db *metrics.DB
	if st.Postgres() {
		ro, rw := st.Pools()
		db = metrics.NewDB(ro, rw, dataDir)
	} else {
		var err error
		if db, err = metrics.OpenDB(st.Path()); err != nil {
			return err
		}
	}
	o.db = db
	var shipped func() metrics.Shipped
	if ship != nil {
		shipped = func() metrics.Shipped {
			st := ship.Stats()
			return metrics.Shipped{Rows: st.Rows, Bytes: st.Bytes, Dropped: st.Dropped, Failed: st.Failed,
				Owed: st.Owed, Repaid: st.Repaid, Lost: st.Lost}
		}
	}
	o.metrics = metrics.New(metrics.Options{SIP: srv, Guard: o.guard, Counts: db, Log: o.log, Shipped: shipped,
		Registrations: func() []metrics.Registration {
			if o.Registrations == nil {
				return nil
			}
			return o.Registrations()
		}})
	o.health = &metrics.Health{SIPReady: srv.Ready(), Draining: srv.Draining, Probe: db.ProbeWrite, Metrics: o.metrics,
		Registered: func() error {
			if o.Registered == nil {
				return nil
			}
			return o.Registered()
		}}
	return nil
}

// handler adds /metrics, /healthz and /readyz in front of next.
func (o *ops) handler(next http.Handler) http.Handler {
	if o == nil || o.metrics == nil {
		return next
	}
	return metrics.Handler(o.metrics, o.health, next)
}

// run probes the database every 15 s until ctx is done.
func (o *ops) run(ctx context.Context) {
	if o.health != nil {
		go o.health.Run(ctx, 15*time.Second)
	}
}

func (o *ops) close() {
	if o.db != nil {
		o.db.Close()
	}
}
