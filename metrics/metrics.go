// Package metrics exposes astreinte's operational state to Prometheus
// (/metrics, on a registry of its own) and answers the health probes
// (/healthz, /readyz).
//
// Most figures are read at scrape time from what already keeps them: the
// SIP server's and the guard's counters, and the calls and paging tables of
// the database (through the read-only Counts interface). Only the SQLite
// write probe's latency is observed here. Trunk registrations come through
// a hook (Options.Registrations) that the trunk code fills in.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/astreinte/astreinte/sip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// SIPStats is what the metrics read from the SIP server.
type SIPStats interface {
	Stats() sip.Stats
	MediaTotals() sip.MediaTotals
}

// GuardStats is what the metrics read from the SIP guard.
type GuardStats interface {
	Refused() map[sip.RefuseReason]uint64
	SuppressedLogLines() uint64
	RecentRefusals() []sip.Refusal
}

// Counts reads the call log and paging tables, at scrape time.
type Counts interface {
	// CallCounts counts calls by line, calendar case and outcome.
	CallCounts(ctx context.Context) ([]CallCount, error)
	// PageCounts counts notifications by channel and state.
	PageCounts(ctx context.Context) ([]PageCount, error)
	// EscalationCounts counts escalations (pages) by state.
	EscalationCounts(ctx context.Context) ([]EscalationCount, error)
}

// CallCount is the number of calls of one line, case and outcome.
type CallCount struct {
	Line, Case, Outcome string
	N                   float64
}

// PageCount is the number of notifications on one channel in one state.
type PageCount struct {
	Channel, State string
	N              float64
}

// EscalationCount is the number of escalations in one state.
type EscalationCount struct {
	State string
	N     float64
}

// Registration is the state of one trunk registration.
type Registration struct {
	Trunk string
	State string // e.g. registered, registering, failed
}

// Options are the sources of the metrics; a nil source's metrics are left
// out.
type Options struct {
	SIP    SIPStats
	Guard  GuardStats
	Counts Counts
	// Registrations returns the trunks' registration states (hook for the
	// trunk code; nil: no trunk metrics).
	Registrations func() []Registration
	// Shipped returns what the recorder copied to the shared store
	// (PostgreSQL; nil: no such metrics).
	Shipped func() Shipped
	Log     *slog.Logger
}

// Shipped counts the recordings' audio rows copied to the shared store.
type Shipped struct {
	Rows, Bytes     int64
	Dropped, Failed int64 // rows late: not queued (queue full), refused by the store; owed
	Owed            int64 // rows owed now, written from the files when the store keeps up
	Repaid          int64 // rows written late, from the files
	Lost            int64 // rows the store will not have (the file on this node has them)
}

// Metrics is astreinte's Prometheus registry.
type Metrics struct {
	reg          *prometheus.Registry
	opts         Options
	sqliteWrites prometheus.Histogram
	scrapeErrors prometheus.Counter
}

// New builds the registry: Go runtime (goroutines, memory) and process
// (CPU, open files) collectors, and astreinte's own.
func New(o Options) *Metrics {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	m := &Metrics{reg: prometheus.NewRegistry(), opts: o}
	m.sqliteWrites = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "astreinte_sqlite_write_seconds",
		Help:    "Time to take SQLite's write lock and write to the data directory, measured by the write probe (readiness and every 15s).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	m.scrapeErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "astreinte_metrics_scrape_errors_total",
		Help: "Scrapes in which the database could not be read (those figures are then missing).",
	})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.sqliteWrites, m.scrapeErrors, (*collector)(m),
	)
	return m
}

// Registry is the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(m.opts.Log.Handler(), slog.LevelWarn)})
}

// ObserveSQLiteWrite records the duration of a database write.
func (m *Metrics) ObserveSQLiteWrite(d time.Duration) { m.sqliteWrites.Observe(d.Seconds()) }

var (
	descCalls = prometheus.NewDesc("astreinte_calls_total",
		"Calls that ended, from the call log, by line, calendar case and outcome.", []string{"line", "case", "outcome"}, nil)
	descActive = prometheus.NewDesc("astreinte_calls_active",
		"Calls in progress.", nil, nil)
	descInvites = prometheus.NewDesc("astreinte_sip_invites_total",
		"New INVITEs received since start.", nil, nil)
	descInvitesRejected = prometheus.NewDesc("astreinte_sip_invites_rejected_total",
		"New INVITEs not answered with a call (refused, unknown number, no codec, overload) since start.", nil, nil)
	descRefused = prometheus.NewDesc("astreinte_sip_refused_total",
		"SIP requests refused or dropped by the guard, or unparsable, by reason.", []string{"reason"}, nil)
	descSuppressed = prometheus.NewDesc("astreinte_log_lines_suppressed_total",
		"Log lines held back by the per-source log throttle.", nil, nil)
	descRTPReceived = prometheus.NewDesc("astreinte_rtp_packets_received_total",
		"RTP packets received in calls that ended.", nil, nil)
	descRTPLost = prometheus.NewDesc("astreinte_rtp_packets_lost_total",
		"RTP packets missing from the recordings of calls that ended.", nil, nil)
	descRTPLate = prometheus.NewDesc("astreinte_rtp_packets_late_total",
		"RTP packets that arrived too late to be recorded, in calls that ended.", nil, nil)
	descPages = prometheus.NewDesc("astreinte_pages_total",
		"Notifications of technicians that were sent or gave up, by channel and outcome (done, failed).", []string{"channel", "outcome"}, nil)
	descPagesPending = prometheus.NewDesc("astreinte_pages_pending",
		"Notifications waiting to be sent or being sent, by channel.", []string{"channel"}, nil)
	descEscalations = prometheus.NewDesc("astreinte_escalations_total",
		"Escalations that ended, by how (acked, exhausted, cancelled).", []string{"state"}, nil)
	descEscalationsActive = prometheus.NewDesc("astreinte_escalations_active",
		"Escalations in progress.", nil, nil)
	descShippedRows = prometheus.NewDesc("astreinte_recording_rows_shipped_total",
		"Rows of recordings' audio written to the shared store while the calls went on.", nil, nil)
	descShippedBytes = prometheus.NewDesc("astreinte_recording_bytes_shipped_total",
		"Bytes of recordings' audio (PCM) written to the shared store.", nil, nil)
	descShipLost = prometheus.NewDesc("astreinte_recording_rows_unshipped_total",
		"Rows of recordings' audio not written to the shared store when they came, by reason: queue_full, refused (owed: written later from the files), lost (never: the file on this node has them).", []string{"reason"}, nil)
	descShipOwed = prometheus.NewDesc("astreinte_recording_rows_owed",
		"Rows of recordings' audio owed to the shared store, to be written from the files once it keeps up.", nil, nil)
	descShipRepaid = prometheus.NewDesc("astreinte_recording_rows_repaid_total",
		"Rows of recordings' audio written late to the shared store, read back from the files.", nil, nil)
	descRegistrations = prometheus.NewDesc("astreinte_trunk_registrations",
		"Trunk registrations: 1 for the current state of each trunk.", []string{"trunk", "state"}, nil)
)

// collector reads the figures at scrape time.
type collector Metrics

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCalls, descActive, descInvites, descInvitesRejected, descRefused,
		descSuppressed, descRTPReceived, descRTPLost, descRTPLate, descPages, descPagesPending, descEscalations,
		descEscalationsActive, descRegistrations, descShippedRows, descShippedBytes, descShipLost, descShipOwed, descShipRepaid} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	o := c.opts
	if o.SIP != nil {
		st := o.SIP.Stats()
		ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(st.ActiveCalls))
		ch <- prometheus.MustNewConstMetric(descInvites, prometheus.CounterValue, float64(st.TotalCalls))
		ch <- prometheus.MustNewConstMetric(descInvitesRejected, prometheus.CounterValue, float64(st.Rejected))
		mt := o.SIP.MediaTotals()
		ch <- prometheus.MustNewConstMetric(descRTPReceived, prometheus.CounterValue, float64(mt.Received))
		ch <- prometheus.MustNewConstMetric(descRTPLost, prometheus.CounterValue, float64(mt.Lost))
		ch <- prometheus.MustNewConstMetric(descRTPLate, prometheus.CounterValue, float64(mt.Late))
	}
	if o.Guard != nil {
		for r, n := range o.Guard.Refused() {
			ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(n), string(r))
		}
		ch <- prometheus.MustNewConstMetric(descSuppressed, prometheus.CounterValue, float64(o.Guard.SuppressedLogLines()))
	}
	if o.Registrations != nil {
		for _, r := range o.Registrations() {
			ch <- prometheus.MustNewConstMetric(descRegistrations, prometheus.GaugeValue, 1, r.Trunk, r.State)
		}
	}
	if o.Shipped != nil {
		sh := o.Shipped()
		ch <- prometheus.MustNewConstMetric(descShippedRows, prometheus.CounterValue, float64(sh.Rows))
		ch <- prometheus.MustNewConstMetric(descShippedBytes, prometheus.CounterValue, float64(sh.Bytes))
		ch <- prometheus.MustNewConstMetric(descShipLost, prometheus.CounterValue, float64(sh.Dropped), "queue_full")
		ch <- prometheus.MustNewConstMetric(descShipLost, prometheus.CounterValue, float64(sh.Failed), "refused")
		ch <- prometheus.MustNewConstMetric(descShipLost, prometheus.CounterValue, float64(sh.Lost), "lost")
		ch <- prometheus.MustNewConstMetric(descShipOwed, prometheus.GaugeValue, float64(sh.Owed))
		ch <- prometheus.MustNewConstMetric(descShipRepaid, prometheus.CounterValue, float64(sh.Repaid))
	}
	if o.Counts != nil {
		c.collectCounts(ch)
	}
}

func (c *collector) collectCounts(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	failed := func(what string, err error) {
		c.scrapeErrors.Inc()
		c.opts.Log.Warn("metrics: read "+what, "error", err)
	}
	if calls, err := c.opts.Counts.CallCounts(ctx); err != nil {
		failed("calls", err)
	} else {
		for _, x := range calls {
			if x.Outcome == "in_progress" {
				continue // astreinte_calls_active
			}
			ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, x.N, x.Line, x.Case, x.Outcome)
		}
	}
	if pages, err := c.opts.Counts.PageCounts(ctx); err != nil {
		failed("pages", err)
	} else {
		pending := map[string]float64{}
		for _, x := range pages {
			switch x.State {
			case "pending", "sending":
				pending[x.Channel] += x.N
			default:
				ch <- prometheus.MustNewConstMetric(descPages, prometheus.CounterValue, x.N, x.Channel, x.State)
			}
		}
		for chn, n := range pending {
			ch <- prometheus.MustNewConstMetric(descPagesPending, prometheus.GaugeValue, n, chn)
		}
	}
	if escs, err := c.opts.Counts.EscalationCounts(ctx); err != nil {
		failed("escalations", err)
	} else {
		active := 0.0
		for _, x := range escs {
			if x.State == "active" {
				active += x.N
				continue
			}
			ch <- prometheus.MustNewConstMetric(descEscalations, prometheus.CounterValue, x.N, x.State)
		}
		ch <- prometheus.MustNewConstMetric(descEscalationsActive, prometheus.GaugeValue, active)
	}
}
