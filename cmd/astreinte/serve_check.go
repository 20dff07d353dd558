package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/astreinte/astreinte/config"
	"github.com/astreinte/astreinte/store"
)

// customersOnContracts counts the customers of each contract in cfg's
// database, for the check's on-call gaps (config.CheckOptions.Customers);
// nothing when there is no database yet (none is created).
func customersOnContracts(cfg *config.Config) (map[string]int, error) {
	path := filepath.Join(cfg.DataDir, "astreinte.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	db, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.ContractsInUse(context.Background())
}

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
