package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// The PostgreSQL back-end: the same DB, its queries written in SQLite's
// dialect and translated by the connection (dialect.go), so every method
// runs unchanged on both. What SQLite gets from one writer at a time
// (BEGIN IMMEDIATE), PostgreSQL gets from a transaction-scoped advisory
// lock taken by every transaction of the writer pool: the store's
// transactions read, decide and write, and stay correct when the nodes
// sharing the database write one at a time, as the processes sharing a
// SQLite file do. Reads take no lock.

// Drivers, as written in the configuration's store.driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// writerLock is the advisory lock key that serializes the writers of every
// node sharing a PostgreSQL database ("astreint" in ASCII).
const writerLock int64 = 0x6173747265696e74

// pgRaw marks a statement already written for PostgreSQL: the connection
// runs it as it is.
const pgRaw = "/*pg*/ "

// OpenDriver opens the store that the configuration names: driver
// "sqlite" (or "") with dsn the database file's path, or "postgres" with dsn
// a PostgreSQL connection string (postgres://user:pass@host:5432/db or
// "host=… dbname=…").
func OpenDriver(drv, dsn string) (*DB, error) {
	switch drv {
	case "", DriverSQLite:
		return Open(dsn)
	case DriverPostgres:
		return OpenPostgres(dsn)
	}
	return nil, fmt.Errorf("store: driver %q: want %s or %s", drv, DriverSQLite, DriverPostgres)
}

// OpenPostgres connects to the PostgreSQL database dsn and applies the
// migrations it lacks, as Open does for a file. Several processes (nodes)
// may use the same database at once.
func OpenPostgres(dsn string) (*DB, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("store: open postgres: empty store.dsn (e.g. postgres://astreinte@127.0.0.1:5432/astreinte)")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: store.dsn: %w", err)
	}
	name := fmt.Sprintf("postgres %s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	// A node that dies without closing its connections (power, network)
	// releases its locks once the server notices: within a few seconds.
	for k, v := range map[string]string{"tcp_keepalives_idle": "3", "tcp_keepalives_interval": "1",
		"tcp_keepalives_count": "3", "application_name": "astreinte"} {
		if _, set := cfg.RuntimeParams[k]; !set {
			cfg.RuntimeParams[k] = v
		}
	}
	w := sql.OpenDB(pgConnector{inner: stdlib.GetConnector(*cfg), lock: true})
	w.SetMaxOpenConns(1) // as with SQLite: this process's writers queue here
	w.SetMaxIdleConns(1)

	db := &DB{Now: time.Now, path: name, db: w, pg: true, pgcfg: cfg.Copy()}
	ctx := context.Background()
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", name, err)
	}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: migrate: %w", name, err)
	}
	rcfg := cfg.Copy()
	rcfg.RuntimeParams["default_transaction_read_only"] = "on"
	r := sql.OpenDB(pgConnector{inner: stdlib.GetConnector(*rcfg)})
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", name, err)
	}
	db.rdb = r
	db.leases = newLeases(sql.OpenDB(pgConnector{inner: stdlib.GetConnector(*cfg)}))
	db.node.pool = sql.OpenDB(pgConnector{inner: stdlib.GetConnector(*cfg)}) // connects at StartNode
	// The recordings' audio and the call log are written outside the
	// writers' lock, and their commits do not wait for the server's disk
	// (unsynced.go): a node's death loses nothing the server took; only
	// the server's own crash can lose their last fraction of a second,
	// which the recording's file on its node still has. Recordings stream
	// megabytes a second: synced, each batch's WAL flush would queue with
	// the tickets' own.
	acfg := cfg.Copy()
	acfg.RuntimeParams["synchronous_commit"] = "off"
	db.audio = openAudioPool(pgConnector{inner: stdlib.GetConnector(*acfg)})
	db.calls = openCallPool(pgConnector{inner: stdlib.GetConnector(*acfg)})
	return db, nil
}

// Pools returns the store's reader and writer pools, for the metrics'
// counts and write probe on PostgreSQL; the store keeps them, and closes
// them in Close.
func (db *DB) Pools() (read, write *sql.DB) { return db.rdb, db.db }

// Postgres reports whether the store is PostgreSQL.
func (db *DB) Postgres() bool { return db.pg }

// pgConnector makes the connections of one pool; lock: each read-write
// transaction first takes writerLock.
type pgConnector struct {
	inner driver.Connector
	lock  bool
}

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: conn.(*stdlib.Conn), lock: c.lock}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is pgx's database/sql connection with the store's queries
// translated and its Go booleans sent as 0 or 1 (SQLite's integers).
type pgConn struct {
	*stdlib.Conn
	lock bool
}

func translate(q string) (string, error) {
	if strings.HasPrefix(q, pgRaw) {
		return q, nil
	}
	return pgCached(q)
}

func (c *pgConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

func (c *pgConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	t, err := translate(q)
	if err != nil {
		return nil, err
	}
	return c.Conn.PrepareContext(ctx, t)
}

func (c *pgConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	t, err := translate(q)
	if err != nil {
		return nil, err
	}
	return c.Conn.ExecContext(ctx, t, args)
}

func (c *pgConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	t, err := translate(q)
	if err != nil {
		return nil, err
	}
	rows, err := c.Conn.QueryContext(ctx, t, args)
	if err != nil {
		return nil, err
	}
	return pgRows{rows.(*stdlib.Rows)}, nil
}

// pgRows gives booleans (EXISTS, comparisons) as SQLite does, 0 or 1:
// database/sql scans those into integers and booleans alike.
type pgRows struct{ *stdlib.Rows }

func (r pgRows) Next(dest []driver.Value) error {
	if err := r.Rows.Next(dest); err != nil {
		return err
	}
	for i, v := range dest {
		if b, ok := v.(bool); ok {
			dest[i] = boolInt(b)
		}
	}
	return nil
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx begins a transaction; in the writer pool, a read-write one waits
// for writerLock, held until it ends.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil || !c.lock || opts.ReadOnly {
		return tx, err
	}
	if _, err := c.Conn.Conn().Exec(ctx, "SELECT pg_advisory_xact_lock($1)", writerLock); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("wait for the writer lock: %w", err)
	}
	return tx, nil
}

// CheckNamedValue passes every argument to pgx as it is, but booleans,
// stored as 0 and 1 as in SQLite.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if v, ok := nv.Value.(bool); ok {
		nv.Value = boolInt(v)
		return nil
	}
	if nv.Value != nil {
		if rv := reflect.ValueOf(nv.Value); rv.Kind() == reflect.Bool {
			nv.Value = boolInt(rv.Bool())
		}
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// pgMigrate applies one migration on PostgreSQL: the translated statements,
// then every identity column's sequence moved past the largest id (rows a
// migration copied with their ids).
func pgMigrate(ctx context.Context, tx *sql.Tx, src string) error {
	stmts, err := pgMigration(src)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, pgRaw+s); err != nil {
			return fmt.Errorf("%s: %w", summary(mustLex(s)), err)
		}
	}
	return pgSyncSequences(ctx, tx)
}

// pgSyncSequences sets each identity column's next value after the
// largest value in its table.
func pgSyncSequences(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, pgRaw+`SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY 1`)
	if err != nil {
		return err
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cols {
		t, col := pgx.Identifier{c[0]}.Sanitize(), pgx.Identifier{c[1]}.Sanitize()
		if _, err := tx.ExecContext(ctx, pgRaw+fmt.Sprintf(
			`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(%s), 0) + 1, false) FROM %s`, col, t),
			t, c[1]); err != nil {
			return fmt.Errorf("sequence of %s.%s: %w", c[0], c[1], err)
		}
	}
	return nil
}

// isPgUnique reports a PostgreSQL constraint violation (class 23).
func isPgConstraint(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23")
}

// OpenSQL opens a read-only database/sql pool on a store's database that
// speaks the store's dialect (SQLite's, translated on PostgreSQL), for
// tools and tests that query the schema directly. It applies no migration.
func OpenSQL(drv, dsn string) (*sql.DB, error) {
	switch drv {
	case "", DriverSQLite:
		abs, err := filepath.Abs(dsn)
		if err != nil {
			return nil, err
		}
		return sql.Open("sqlite3", "file:"+(&url.URL{Path: abs}).EscapedPath()+"?_query_only=on&_busy_timeout=5000")
	case DriverPostgres:
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
		return sql.OpenDB(pgConnector{inner: stdlib.GetConnector(*cfg)}), nil
	}
	return nil, fmt.Errorf("store: driver %q: want %s or %s", drv, DriverSQLite, DriverPostgres)
}
