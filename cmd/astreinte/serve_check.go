package main

import (
	"log/slog"
	"os"

	"github.com/astreinte/astreinte/config"
)

// logConfigFindings logs, at start-up, what `config check` finds beyond
// what stops the service (a technician no channel reaches, a malformed
// address, closed hours with nobody on call): the service still starts
// and answers calls, and the log says who may not be paged.
func logConfigFindings(log *slog.Logger, e *env) {
	cfg := e.cfg
	var b []byte
	if cfg.Source == "" {
		b = config.Example()
	} else {
		var err error
		if b, err = os.ReadFile(cfg.Source); err != nil {
			return
		}
	}
	_, r := config.Check(b, cfg.Source, e.now())
	for _, p := range r.Errors.List {
		log.Warn("configuration: a technician may not be paged", "line", p.Line, "path", p.Path, "problem", p.Msg)
	}
	for _, p := range r.Warnings.List {
		log.Warn("configuration", "line", p.Line, "path", p.Path, "warning", p.Msg)
	}
}
