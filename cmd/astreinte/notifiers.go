package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/oncall/notify/email"
	"github.com/astreinte/astreinte/oncall/notify/webhook"
	"github.com/astreinte/astreinte/web"
)

// addNotifiers sets up the email and webhook channels when configured.
func addNotifiers(e *env, eng *oncall.Engine, log *slog.Logger) error {
	cfg := e.cfg.Paging
	key, err := web.LoadOrCreateKey(filepath.Join(e.cfg.DataDir, "ack.key"))
	if err != nil {
		return fmt.Errorf("acknowledge link key: %w", err)
	}
	e.ackKey = key
	if cfg.Email.SMTP != "" {
		var tlsCfg *tls.Config
		if cfg.Email.CAFile != "" {
			pool, err := config.LoadCAFile(cfg.Email.CAFile)
			if err != nil {
				return fmt.Errorf("paging.email.ca_file: %w", err)
			}
			tlsCfg = &tls.Config{RootCAs: pool}
		}
		eng.Notifiers["email"] = &email.Notifier{Now: e.now, Cfg: email.Config{
			Addr: cfg.Email.SMTP, From: cfg.Email.From, Username: cfg.Email.Username, Password: cfg.Email.Password,
			TLS: cfg.Email.TLS, TLSConfig: tlsCfg, BaseURL: cfg.BaseURL, Key: key, LinkTTL: cfg.LinkTTL, Location: e.cal.Location(),
		}}
	}
	if cfg.Webhook.URL != "" {
		eng.Notifiers["webhook"] = &webhook.Notifier{URL: cfg.Webhook.URL, Secret: cfg.Webhook.Secret,
			Timeout: cfg.Webhook.Timeout, BaseURL: cfg.BaseURL, Key: key, LinkTTL: cfg.LinkTTL, Now: e.now}
		eng.PolicyChannels = append(eng.PolicyChannels, "webhook")
	}
	return nil
}

// httpServer serves acknowledge links, /healthz, /readyz and /metrics.
type httpServer struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

func startHTTP(e *env, log *slog.Logger, onAck func(), wrap func(http.Handler) http.Handler) (*httpServer, error) {
	if e.cfg.HTTP.Listen == "off" {
		return nil, nil
	}
	ws := &web.Server{Store: e.db, Key: e.ackKey, Now: e.now, Log: log, OnAck: onAck, Location: e.cal.Location()}
	ln, err := net.Listen("tcp", e.cfg.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("http listen %s: %w", e.cfg.HTTP.Listen, err)
	}
	h := &httpServer{ln: ln, done: make(chan struct{}), srv: &http.Server{
		Handler: wrap(ws.Handler()), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	go func() {
		defer close(h.done)
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http", "error", err)
		}
	}()
	log.Info("http listening", "addr", ln.Addr().String())
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
