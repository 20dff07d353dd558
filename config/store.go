package config

import (
	"path/filepath"
	"strings"

	"github.com/astreinte/astreinte"
)

// Store names the database: a SQLite file in data_dir (the default: one
// node, no database server), or a PostgreSQL database that several nodes
// share (see docs/scaling.md).
type Store struct {
	// Driver is sqlite or postgres.
	Driver string `yaml:"driver"`
	// DSN is, for sqlite, the database file ("": data_dir/astreinte.db);
	// for postgres, the connection string (required), e.g.
	// postgres://astreinte:PASSWORD@db.example.net:5432/astreinte?sslmode=verify-full
	// or "host=db.example.net dbname=astreinte user=astreinte".
	DSN string `yaml:"dsn"`
}

// Store drivers.
const (
	StoreSQLite   = "sqlite"
	StorePostgres = "postgres"
)

// StoreDSN is what the store opens with Store.Driver: the SQLite file
// (data_dir/astreinte.db unless store.dsn names one) or the PostgreSQL
// connection string.
func (c *Config) StoreDSN() string {
	if c.Store.Driver == StoreSQLite && c.Store.DSN == "" {
		return filepath.Join(c.DataDir, "astreinte.db")
	}
	return c.Store.DSN
}

func (c *Config) validateStore(errs *astreinte.FieldErrors) {
	switch c.Store.Driver {
	case StoreSQLite:
	case StorePostgres:
		dsn := strings.TrimSpace(c.Store.DSN)
		switch {
		case dsn == "":
			errs.Add("store.dsn", "empty: the postgres driver needs a connection string, e.g. postgres://astreinte@db.example.net:5432/astreinte")
		case !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") && !strings.Contains(dsn, "="):
			errs.Add("store.dsn", "%q: want a URL (postgres://user@host:5432/database) or key=value pairs (host=… dbname=…)", dsn)
		}
	default:
		errs.Add("store.driver", "%q: want sqlite or postgres", c.Store.Driver)
	}
}
