package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/astreinte/astreinte/config"
)

// checkConfig runs on the configuration what `config check` runs: on an
// error serve does not start, and says the same lines; warnings (an
// address for a channel that is not configured, closed hours with nobody
// on call that no contract promises) are logged.
func checkConfig(log *slog.Logger, cfg *config.Config, now time.Time, opt config.CheckOptions) error {
	b := config.Example()
	if cfg.Source != "" {
		var err error
		if b, err = os.ReadFile(cfg.Source); err != nil {
			return fmt.Errorf("read config: %w", err)
		}
	}
	_, r := config.Check(b, cfg.Source, now, opt)
	if n := len(r.Errors.List); n > 0 {
		return exitError{1, fmt.Sprintf("%s\n%d problem(s) in the configuration (astreinte config check %s): not starting", r.Errors.Error(), n, cfg.Source)}
	}
	for _, p := range r.Warnings.List {
		log.Warn("configuration", "line", p.Line, "column", p.Column, "path", p.Path, "warning", p.Msg)
	}
	return nil
}
