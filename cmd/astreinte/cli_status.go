package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/sip"
	flag "github.com/spf13/pflag"
)

// `astreinte status` asks the running service over a Unix socket in the
// data directory (GET /status, JSON). A socket rather than the web
// listener: the web listener faces the technicians' phones (often on every
// address), the socket only this machine's users allowed into the data
// directory (owner-only), and it works with http.listen: off.

// statusSocket is where the service answers status requests.
func statusSocket(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "astreinte.sock") }

// RefusedSource is a source whose requests were refused lately.
type RefusedSource struct {
	Source string    `json:"source"`
	Reason string    `json:"reason"`
	Count  uint64    `json:"count"`
	Last   time.Time `json:"last"`
}

// statusSource is what the status report is read from.
type statusSource struct {
	SIP *sip.Server
	// RefusedSources gives the sources the admission guard refused
	// lately, most recent first; nil without a guard, and the report then
	// says "not available".
	RefusedSources func() []RefusedSource
}

// statusReport is the JSON of GET /status.
type statusReport struct {
	At            time.Time      `json:"at"`
	SIP           string         `json:"sip"`
	TLS           string         `json:"tls,omitempty"`
	Registrations []sip.RegState `json:"registrations"`
	Calls         []sip.CallInfo `json:"calls"`
	TotalCalls    uint64         `json:"total_calls"`
	Rejected      uint64         `json:"rejected_calls"`
	// RefusedSources is null when no admission guard reports them.
	RefusedSources []RefusedSource `json:"refused_sources"`
}

func (src statusSource) report() statusReport {
	st := src.SIP.Stats()
	r := statusReport{
		At: src.SIP.Now(), SIP: src.SIP.Addr(), TLS: src.SIP.TLSAddr(),
		Registrations: src.SIP.Registrations(), Calls: src.SIP.Calls(),
		TotalCalls: st.TotalCalls, Rejected: st.Rejected,
	}
	if r.Registrations == nil {
		r.Registrations = []sip.RegState{}
	}
	if src.RefusedSources != nil {
		r.RefusedSources = src.RefusedSources()
		if r.RefusedSources == nil {
			r.RefusedSources = []RefusedSource{}
		}
	}
	return r
}

type statusServer struct {
	srv  *http.Server
	path string
	done chan struct{}
}

// startStatus serves GET /status on the status socket.
func startStatus(cfg *config.Config, src statusSource, log *slog.Logger) (*statusServer, error) {
	path := statusSocket(cfg)
	// A socket left by a crash: nobody answers on it any more.
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: another astreinte answers on it", path)
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("status socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("status socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(src.report())
	})
	s := &statusServer{path: path, done: make(chan struct{}), srv: &http.Server{
		Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("status socket", "error", err)
		}
	}()
	log.Info("status socket listening", "path", path)
	return s, nil
}

func (s *statusServer) close() {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	<-s.done
	_ = os.Remove(s.path)
}

// fetchStatus asks the running service for its status.
func fetchStatus(ctx context.Context, path string) (statusReport, error) {
	var r statusReport
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://astreinte/status", nil)
	if err != nil {
		return r, err
	}
	res, err := client.Do(req)
	if err != nil {
		return r, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return r, fmt.Errorf("status: %s", res.Status)
	}
	return r, json.NewDecoder(res.Body).Decode(&r)
}

func statusCommand() *command {
	return &command{
		name: "status", short: "the running service: trunk registrations, calls in progress (exit 1: not running, or a trunk not registered)",
		setup: func(fs *flag.FlagSet) runner {
			cfgPath := configFlag(fs)
			asJSON := fs.Bool("json", false, "print the JSON report")
			return func(ctx context.Context, s stdio, _ []string) error {
				stdout := s.out
				cfg, err := loadConfig(*cfgPath)
				if err != nil {
					return err
				}
				path := statusSocket(cfg)
				r, err := fetchStatus(ctx, path)
				if err != nil {
					return exitError{1, fmt.Sprintf("astreinte is not running, or not with this configuration (no answer on %s: %v)", path, err)}
				}
				if *asJSON {
					enc := json.NewEncoder(stdout)
					enc.SetIndent("", "  ")
					if err := enc.Encode(r); err != nil {
						return err
					}
				} else {
					printStatus(stdout, r)
				}
				var down []string
				for _, g := range r.Registrations {
					if g.Status != sip.RegRegistered {
						down = append(down, g.Trunk)
					}
				}
				if len(down) > 0 {
					return exitError{1, fmt.Sprintf("not registered: %s", strings.Join(down, ", "))}
				}
				return nil
			}
		},
	}
}

func printStatus(w io.Writer, r statusReport) {
	at := r.At
	fmt.Fprintf(w, "astreinte at %s — SIP %s", at.Format("2006-01-02 15:04:05"), r.SIP)
	if r.TLS != "" {
		fmt.Fprintf(w, ", TLS %s", r.TLS)
	}
	fmt.Fprintf(w, "; %d call(s) since start, %d rejected\n\n", r.TotalCalls, r.Rejected)

	if len(r.Registrations) == 0 {
		fmt.Fprintln(w, "Registrations: none configured")
	} else {
		fmt.Fprintln(w, "Registrations:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  TRUNK\tSTATE\tSINCE\tREGISTRAR\tACCOUNT\tGRANTED\tEXPIRES IN\tLAST ERROR")
		for _, g := range r.Registrations {
			granted, expires := "-", "-"
			if g.Granted > 0 {
				granted = g.Granted.String()
			}
			if !g.Expires.IsZero() {
				expires = max(0, g.Expires.Sub(at)).Round(time.Second).String()
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Trunk, g.Status, g.Since.Format("2006-01-02 15:04:05"),
				g.Registrar, g.AOR, granted, expires, dashIfEmpty(g.LastError))
		}
		tw.Flush()
	}
	fmt.Fprintln(w)

	if len(r.Calls) == 0 {
		fmt.Fprintln(w, "Calls in progress: none")
	} else {
		fmt.Fprintf(w, "Calls in progress: %d\n", len(r.Calls))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  LINE\tDIRECTION\tFROM\tTO\tFOR\tSTATE\tCALL-ID")
		for _, c := range r.Calls {
			dir, state := "in", "ringing"
			if !c.Inbound {
				dir = "out"
			}
			if c.Answered {
				state = "answered"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", dashIfEmpty(c.Line), dir, dashIfEmpty(c.From), dashIfEmpty(c.To), c.Duration, state, c.ID)
		}
		tw.Flush()
	}
	fmt.Fprintln(w)

	switch {
	case r.RefusedSources == nil:
		fmt.Fprintln(w, "Last refused sources: not available (no admission guard in this build)")
	case len(r.RefusedSources) == 0:
		fmt.Fprintln(w, "Last refused sources: none")
	default:
		fmt.Fprintln(w, "Last refused sources:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  SOURCE\tREASON\tCOUNT\tLAST")
		for _, s := range r.RefusedSources {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", s.Source, s.Reason, s.Count, s.Last.Format("2006-01-02 15:04:05"))
		}
		tw.Flush()
	}
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
