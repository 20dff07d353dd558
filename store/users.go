package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/astreinte/astreinte/accounts"
)

var _ accounts.Store = (*DB)(nil)

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// exec runs one statement in a write transaction and reports whether a
// row changed.
func (db *DB) exec(ctx context.Context, op, q string, args ...any) (bool, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	return n > 0, nil
}

// AddUser stores a new user (u gets its ID); a taken name is an error
// wrapping accounts.ErrExists.
func (db *DB) AddUser(ctx context.Context, u *accounts.User) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	defer tx.Rollback()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = db.now()
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO users (name, role, person, language, password_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, u.Name, string(u.Role), u.Person, u.Language, u.PasswordHash, ts(u.CreatedAt)).Scan(&u.ID)
	if isUnique(err) {
		return fmt.Errorf("add user %s: %w", u.Name, accounts.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("add user %s: %w", u.Name, err)
	}
	return tx.Commit()
}

const userCols = `id, name, role, person, language, password_hash, created_at`

func scanUser(sc interface{ Scan(...any) error }) (accounts.User, error) {
	var u accounts.User
	var role string
	err := sc.Scan(&u.ID, &u.Name, &role, &u.Person, &u.Language, &u.PasswordHash, timeCol{&u.CreatedAt})
	u.Role = accounts.Role(role)
	return u, err
}

// UserByName returns the user, or an error wrapping accounts.ErrNotFound.
func (db *DB) UserByName(ctx context.Context, name string) (accounts.User, error) {
	u, err := scanUser(db.rdb.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %s: %w", name, accounts.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("user %s: %w", name, err)
	}
	return u, nil
}

// UserByID returns the user, or an error wrapping accounts.ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id int64) (accounts.User, error) {
	u, err := scanUser(db.rdb.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %d: %w", id, accounts.ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// Users returns every user by name.
func (db *DB) Users(ctx context.Context) ([]accounts.User, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	var out []accounts.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// RemoveUser deletes a user and, by cascade, their sessions.
func (db *DB) RemoveUser(ctx context.Context, name string) error {
	ok, err := db.exec(ctx, "remove user "+name, `DELETE FROM users WHERE name = ?`, name)
	if err == nil && !ok {
		err = fmt.Errorf("user %s: %w", name, accounts.ErrNotFound)
	}
	return err
}

// SetLanguage sets a user's language for the pages.
func (db *DB) SetLanguage(ctx context.Context, name, language string) error {
	ok, err := db.exec(ctx, "set language of "+name, `UPDATE users SET language = ? WHERE name = ?`, language, name)
	if err == nil && !ok {
		err = fmt.Errorf("user %s: %w", name, accounts.ErrNotFound)
	}
	return err
}

// SetPasswordHash replaces a user's password hash and ends their sessions.
func (db *DB) SetPasswordHash(ctx context.Context, name, hash string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, `UPDATE users SET password_hash = ? WHERE name = ? RETURNING id`, hash, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("user %s: %w", name, accounts.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return tx.Commit()
}

// AddToken stores an API token by the hash of its secret (t gets its ID).
func (db *DB) AddToken(ctx context.Context, t *accounts.Token, hash string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add token: %w", err)
	}
	defer tx.Rollback()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.now()
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO api_tokens (name, role, person, hash, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, t.Name, string(t.Role), t.Person, hash, ts(t.CreatedAt)).Scan(&t.ID)
	if isUnique(err) {
		return fmt.Errorf("add token %s: %w", t.Name, accounts.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("add token %s: %w", t.Name, err)
	}
	return tx.Commit()
}

const tokenCols = `id, name, role, person, created_at, last_used`

func scanToken(sc interface{ Scan(...any) error }) (accounts.Token, error) {
	var t accounts.Token
	var role string
	err := sc.Scan(&t.ID, &t.Name, &role, &t.Person, timeCol{&t.CreatedAt}, timeCol{&t.LastUsed})
	t.Role = accounts.Role(role)
	return t, err
}

// TokenByHash returns the token with that hash, or an error wrapping
// accounts.ErrNotFound.
func (db *DB) TokenByHash(ctx context.Context, hash string) (accounts.Token, error) {
	t, err := scanToken(db.rdb.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("api token: %w", accounts.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("api token: %w", err)
	}
	return t, nil
}

// TouchToken notes a token's last use (at most once a minute is written).
func (db *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := db.exec(ctx, "touch token", `UPDATE api_tokens SET last_used = ?1 WHERE id = ?2
		AND (last_used IS NULL OR last_used < ?3)`, ts(at), id, ts(at.Add(-time.Minute)))
	return err
}

// Tokens returns every API token by name.
func (db *DB) Tokens(ctx context.Context) ([]accounts.Token, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer rows.Close()
	var out []accounts.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RemoveToken deletes an API token.
func (db *DB) RemoveToken(ctx context.Context, name string) error {
	ok, err := db.exec(ctx, "remove token "+name, `DELETE FROM api_tokens WHERE name = ?`, name)
	if err == nil && !ok {
		err = fmt.Errorf("token %s: %w", name, accounts.ErrNotFound)
	}
	return err
}

// AddSession stores a login session, and drops expired ones.
func (db *DB) AddSession(ctx context.Context, s accounts.Session) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add session: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, ts(s.CreatedAt)); err != nil {
		return fmt.Errorf("add session: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, s.Hash, s.UserID, s.CSRF, ts(s.CreatedAt), ts(s.ExpiresAt)); err != nil {
		return fmt.Errorf("add session: %w", err)
	}
	return tx.Commit()
}

// SessionByHash returns a session, or an error wrapping
// accounts.ErrNotFound.
func (db *DB) SessionByHash(ctx context.Context, hash string) (accounts.Session, error) {
	var s accounts.Session
	err := db.rdb.QueryRowContext(ctx, `SELECT hash, user_id, csrf, created_at, expires_at FROM sessions
		WHERE hash = ?`, hash).Scan(&s.Hash, &s.UserID, &s.CSRF, timeCol{&s.CreatedAt}, timeCol{&s.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("session: %w", accounts.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("session: %w", err)
	}
	return s, nil
}

// RemoveSession deletes a session (no error when there is none).
func (db *DB) RemoveSession(ctx context.Context, hash string) error {
	_, err := db.exec(ctx, "remove session", `DELETE FROM sessions WHERE hash = ?`, hash)
	return err
}
