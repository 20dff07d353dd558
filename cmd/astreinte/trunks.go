package main

import (
	"context"
	"crypto/tls"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/phone"
	"github.com/astreinte/astreinte/sip"
)

// Wiring of the SIP side: trunks, number matching, SIP over TLS, the
// status socket. Only wiring: the behaviour
// lives in sip/register.go, sip/tls.go, phone/ and cli_status.go.

// lineMatcher answers the lines' numbers, compared in E.164 in the
// configured region, and their SIP user names as written.
func lineMatcher(cfg *config.Config) sip.LineMatcher {
	dir := phone.NewDirectory(cfg.Trunks.Region)
	for _, l := range cfg.Lines {
		for _, n := range l.Numbers {
			dir.Add(n, l.Name)
		}
	}
	return dir.Lookup
}

// sipTLS is the SIP over TLS listener's configuration, nil when off.
func sipTLS(cfg *config.Config) *sip.TLSConfig {
	t := cfg.SIP.TLS
	if !t.Enabled() {
		return nil
	}
	return &sip.TLSConfig{Listen: t.Listen, CertFile: t.CertFile, KeyFile: t.KeyFile}
}

// sipTLSClient is the TLS client configuration for outgoing connections:
// nil (the system's roots) unless sip.tls.ca_file is set.
func sipTLSClient(cfg *config.Config) *tls.Config {
	if cfg.SIP.TLS.CAFile == "" {
		return nil
	}
	pool, err := config.LoadCAFile(cfg.SIP.TLS.CAFile) // checked by config validation
	if err != nil {
		return nil
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// sipTrunks converts the configured registrations.
func sipTrunks(cfg *config.Config) []sip.Trunk {
	var out []sip.Trunk
	for _, t := range cfg.Trunks.Register {
		out = append(out, sip.Trunk{
			Name: t.Name, Host: t.Host, Port: t.Port, Transport: t.Transport, Domain: t.Domain,
			Username: t.Username, AuthUsername: t.AuthUsername, Password: t.Password, Realm: t.Realm,
			Expiry: t.Expiry, RetryMin: t.RetryMin, RetryMax: t.RetryMax,
		})
	}
	return out
}

// operations is what runs beside the SIP server once it listens: the
// trunk registrations, the TLS certificate reload on SIGHUP, the status
// socket.
type operations struct {
	status *statusServer
	stop   func()
}

// startOperations starts the registrations, the SIGHUP reload and the
// status socket; close stops the last two (the registrations are removed
// by the SIP server's Shutdown).
func startOperations(ctx context.Context, cfg *config.Config, srv *sip.Server, refused func() []RefusedSource, log *slog.Logger) *operations {
	if err := srv.StartRegistrations(ctx, sipTrunks(cfg)); err != nil {
		log.Error("trunk registrations", "error", err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if err := srv.ReloadTLS(); err != nil {
					log.Error("SIGHUP: tls certificate not reloaded, keeping the current one", "error", err)
				}
			case <-done:
				return
			}
		}
	}()
	ops := &operations{}
	st, err := startStatus(cfg, statusSource{SIP: srv, RefusedSources: refused}, log)
	if err != nil {
		log.Error("status socket", "error", err)
	}
	ops.status = st
	ops.stop = func() {
		signal.Stop(hup)
		close(done)
		ops.status.close()
	}
	return ops
}

func (o *operations) close() { o.stop() }
