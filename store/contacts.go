package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/astreinte/astreinte"
)

// ContactSession is a contact's signed-in session in the customer space;
// Hash is the SHA-256 of the cookie's value.
type ContactSession struct {
	Hash      string
	Email     string
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ErrLinkUsed is returned when a sign-in link was already used, and
// ErrLinkExpired when it is past its time.
var (
	ErrLinkUsed    = errors.New("this sign-in link was already used")
	ErrLinkExpired = errors.New("this sign-in link has expired")
)

// AddContactLink stores a one-time sign-in link (its token's hash) for an
// address, valid until expires, and drops links expired for a day.
func (db *DB) AddContactLink(ctx context.Context, hash, email string, expires time.Time) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add sign-in link: %w", err)
	}
	defer tx.Rollback()
	now := db.now()
	if _, err := tx.ExecContext(ctx, `DELETE FROM contact_links WHERE expires_at <= ?`, ts(now.Add(-24*time.Hour))); err != nil {
		return fmt.Errorf("add sign-in link: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO contact_links (hash, email, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		hash, email, ts(now), ts(expires)); err != nil {
		return fmt.Errorf("add sign-in link: %w", err)
	}
	return tx.Commit()
}

// UseContactLink spends a sign-in link at now and returns its address: a
// link is used once (ErrLinkUsed after), before it expires
// (ErrLinkExpired); an unknown one wraps astreinte.ErrNotFound. Spending it
// is one conditional update, so two tabs opening it at once sign in once.
func (db *DB) UseContactLink(ctx context.Context, hash string, now time.Time) (string, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("sign-in link: %w", err)
	}
	defer tx.Rollback()
	var email string
	var expires, used time.Time
	err = tx.QueryRowContext(ctx, `SELECT email, expires_at, used_at FROM contact_links WHERE hash = ?`, hash).
		Scan(&email, timeCol{&expires}, timeCol{&used})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("sign-in link: %w", astreinte.ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("sign-in link: %w", err)
	case !used.IsZero():
		return "", ErrLinkUsed
	case !now.Before(expires):
		return "", ErrLinkExpired
	}
	res, err := tx.ExecContext(ctx, `UPDATE contact_links SET used_at = ? WHERE hash = ? AND used_at IS NULL`, ts(now), hash)
	if err != nil {
		return "", fmt.Errorf("sign-in link: %w", err)
	}
	if ok, err := affected(res); err != nil || !ok {
		return "", errors.Join(err, ErrLinkUsed)
	}
	return email, tx.Commit()
}

// SetContactPassword stores a contact's password hash (bcrypt).
func (db *DB) SetContactPassword(ctx context.Context, email, hash string) error {
	_, err := db.exec(ctx, "set contact password", `INSERT INTO contact_passwords (email, hash, set_at) VALUES (?, ?, ?)
		ON CONFLICT (email) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at`, email, hash, ts(db.now()))
	return err
}

// ContactPassword returns a contact's password hash, or an error wrapping
// astreinte.ErrNotFound when they set none.
func (db *DB) ContactPassword(ctx context.Context, email string) (string, error) {
	var h string
	err := db.rdb.QueryRowContext(ctx, `SELECT hash FROM contact_passwords WHERE email = ?`, email).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("contact password: %w", astreinte.ErrNotFound)
	}
	return h, err
}

// AddContactSession stores a session, and drops expired ones.
func (db *DB) AddContactSession(ctx context.Context, s ContactSession) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add contact session: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM contact_sessions WHERE expires_at <= ?`, ts(s.CreatedAt)); err != nil {
		return fmt.Errorf("add contact session: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO contact_sessions (hash, email, csrf, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, s.Hash, s.Email, s.CSRF, ts(s.CreatedAt), ts(s.ExpiresAt)); err != nil {
		return fmt.Errorf("add contact session: %w", err)
	}
	return tx.Commit()
}

// ContactSessionByHash returns a session, or an error wrapping
// astreinte.ErrNotFound.
func (db *DB) ContactSessionByHash(ctx context.Context, hash string) (ContactSession, error) {
	var s ContactSession
	err := db.rdb.QueryRowContext(ctx, `SELECT hash, email, csrf, created_at, expires_at FROM contact_sessions
		WHERE hash = ?`, hash).Scan(&s.Hash, &s.Email, &s.CSRF, timeCol{&s.CreatedAt}, timeCol{&s.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("contact session: %w", astreinte.ErrNotFound)
	}
	return s, err
}

// RemoveContactSession deletes a session (no error when there is none).
func (db *DB) RemoveContactSession(ctx context.Context, hash string) error {
	_, err := db.exec(ctx, "remove contact session", `DELETE FROM contact_sessions WHERE hash = ?`, hash)
	return err
}
