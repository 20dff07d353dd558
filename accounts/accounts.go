// Package accounts holds who may use the web pages and the JSON API:
// users (technicians and admins) with bcrypt-hashed passwords, login
// sessions, API tokens stored hashed, and the rate limiting of failed
// logins per account and per address. These are web accounts; the SIP
// accounts that may call in with digest authentication are configured
// under security and checked by the SIP admission guard (sip.Guard).
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/lang"
)

// Role is what an account may do.
type Role string

// Roles.
const (
	Admin      Role = "admin"      // everything, including adding and removing overrides
	Technician Role = "technician" // tickets, taking the on-call
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == Admin || r == Technician }

// User is a person who logs in to the web pages.
type User struct {
	ID     int64
	Name   string
	Role   Role
	Person string // the oncall.people id the user acts as ("" for none)
	// Language is the pages' language for this user ("fr", "en"; "":
	// their person's, else the browser's).
	Language     string
	PasswordHash string
	CreatedAt    time.Time
}

// Actor is the name recorded on tickets for what the user does: their
// person id, or their user name when they are not a person of the rota.
func (u User) Actor() string {
	if u.Person != "" {
		return u.Person
	}
	return u.Name
}

// Token is an API token (its secret is only known when it is made).
type Token struct {
	ID        int64
	Name      string
	Role      Role
	Person    string
	CreatedAt time.Time
	LastUsed  time.Time
}

// Session is a logged-in browser.
type Session struct {
	Hash      string // hex SHA-256 of the cookie value
	UserID    int64
	CSRF      string // the token every form of this session carries
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Errors.
var (
	ErrNotFound    = astreinte.ErrNotFound
	ErrExists      = errors.New("already exists")
	ErrBadLogin    = errors.New("wrong user name or password")
	ErrRateLimited = errors.New("too many failed logins: wait before trying again")
)

// Store keeps users, tokens and sessions (store.DB).
type Store interface {
	AddUser(ctx context.Context, u *User) error
	UserByName(ctx context.Context, name string) (User, error)
	UserByID(ctx context.Context, id int64) (User, error)
	Users(ctx context.Context) ([]User, error)
	RemoveUser(ctx context.Context, name string) error
	SetPasswordHash(ctx context.Context, name, hash string) error
	SetLanguage(ctx context.Context, name, language string) error
	AddToken(ctx context.Context, t *Token, hash string) error
	TokenByHash(ctx context.Context, hash string) (Token, error)
	TouchToken(ctx context.Context, id int64, at time.Time) error
	Tokens(ctx context.Context) ([]Token, error)
	RemoveToken(ctx context.Context, name string) error
	AddSession(ctx context.Context, s Session) error
	SessionByHash(ctx context.Context, hash string) (Session, error)
	RemoveSession(ctx context.Context, hash string) error
}

// Service manages accounts. Build it with New.
type Service struct {
	store   Store
	now     func() time.Time
	log     *slog.Logger
	limiter *Limiter
	// SessionLength is how long a login lasts (default 12 hours: a night).
	SessionLength time.Duration
	// Cost is the bcrypt cost (default bcrypt.DefaultCost).
	Cost int

	dummyOnce sync.Once
	dummyHash []byte
}

// New returns the service over st; now is the clock (nil: time.Now).
func New(st Store, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: st, now: now, log: log, limiter: NewLimiter(now), SessionLength: 12 * time.Hour,
		Cost: bcrypt.DefaultCost}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// MinPassword is the shortest password accepted.
const MinPassword = 8

func checkPassword(p string) error {
	if len(p) < MinPassword {
		return fmt.Errorf("password too short: at least %d characters", MinPassword)
	}
	if len(p) > 72 {
		return errors.New("password too long: at most 72 bytes")
	}
	return nil
}

// AddUser makes a user with the password.
func (s *Service) AddUser(ctx context.Context, name string, role Role, person, password string) (User, error) {
	if !nameRE.MatchString(name) {
		return User{}, fmt.Errorf("user name %q: letters, digits, '.', '_', '@', '-' only", name)
	}
	if !role.Valid() {
		return User{}, fmt.Errorf("role %q: want admin or technician", role)
	}
	if err := checkPassword(password); err != nil {
		return User{}, err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.Cost)
	if err != nil {
		return User{}, err
	}
	u := User{Name: name, Role: role, Person: person, PasswordHash: string(h), CreatedAt: s.now()}
	if err := s.store.AddUser(ctx, &u); err != nil {
		return User{}, err
	}
	return u, nil
}

// SetPassword changes a user's password and ends their sessions.
func (s *Service) SetPassword(ctx context.Context, name, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.Cost)
	if err != nil {
		return err
	}
	return s.store.SetPasswordHash(ctx, name, string(h))
}

// SetLanguage sets the language a user reads the pages in: "fr", "en",
// or "" for their person's, else their browser's.
func (s *Service) SetLanguage(ctx context.Context, name, language string) error {
	if language != "" {
		t, ok := lang.Parse(language)
		if !ok {
			return fmt.Errorf("language %q: want fr, en, or empty for the browser's", language)
		}
		language = string(t)
	}
	return s.store.SetLanguage(ctx, name, language)
}

// Users lists the users by name.
func (s *Service) Users(ctx context.Context) ([]User, error) { return s.store.Users(ctx) }

// RemoveUser removes a user and their sessions.
func (s *Service) RemoveUser(ctx context.Context, name string) error {
	return s.store.RemoveUser(ctx, name)
}

// dummy is the hash compared against when the user does not exist, so
// that a wrong name takes as long as a wrong password (made once, at the
// service's cost).
func (s *Service) dummy() []byte {
	s.dummyOnce.Do(func() {
		s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("astreinte-no-such-user"), s.Cost)
	})
	return s.dummyHash
}

// Login checks name and password from addr and opens a session: it
// returns the cookie value (secret) and the session. After too many
// failures for the account or the address it returns ErrRateLimited
// without checking the password.
func (s *Service) Login(ctx context.Context, name, password, addr string) (string, Session, User, error) {
	if wait := s.limiter.Blocked(name, addr); wait > 0 {
		s.log.Warn("web: login refused, rate limited", "user", name, "remote", addr, "wait", wait.Round(time.Second))
		return "", Session{}, User{}, ErrRateLimited
	}
	u, err := s.store.UserByName(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", Session{}, User{}, err
	}
	hash := s.dummy()
	if err == nil {
		hash = []byte(u.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil {
		s.limiter.Fail(name, addr)
		s.log.Warn("web: failed login", "user", name, "remote", addr)
		return "", Session{}, User{}, ErrBadLogin
	}
	s.limiter.Succeed(name)
	secret, h := NewSecret()
	csrf, _ := NewSecret()
	now := s.now()
	sess := Session{Hash: h, UserID: u.ID, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(s.SessionLength)}
	if err := s.store.AddSession(ctx, sess); err != nil {
		return "", Session{}, User{}, err
	}
	s.log.Info("web: login", "user", name, "remote", addr)
	return secret, sess, u, nil
}

// Session returns the live session and user of a cookie value.
func (s *Service) Session(ctx context.Context, secret string) (Session, User, error) {
	if secret == "" {
		return Session{}, User{}, ErrNotFound
	}
	sess, err := s.store.SessionByHash(ctx, Hash(secret))
	if err != nil {
		return Session{}, User{}, err
	}
	if !s.now().Before(sess.ExpiresAt) {
		_ = s.store.RemoveSession(ctx, sess.Hash)
		return Session{}, User{}, ErrNotFound
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if err != nil {
		return Session{}, User{}, err
	}
	return sess, u, nil
}

// Logout ends the session of a cookie value.
func (s *Service) Logout(ctx context.Context, secret string) error {
	return s.store.RemoveSession(ctx, Hash(secret))
}

// AddToken makes an API token and returns its secret, which is not
// stored: only its hash is.
func (s *Service) AddToken(ctx context.Context, name string, role Role, person string) (string, Token, error) {
	if !nameRE.MatchString(name) {
		return "", Token{}, fmt.Errorf("token name %q: letters, digits, '.', '_', '@', '-' only", name)
	}
	if !role.Valid() {
		return "", Token{}, fmt.Errorf("role %q: want admin or technician", role)
	}
	secret, _ := NewSecret()
	secret = "ast_" + secret
	h := Hash(secret)
	t := Token{Name: name, Role: role, Person: person, CreatedAt: s.now()}
	if err := s.store.AddToken(ctx, &t, h); err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

// TokenBySecret returns the token whose secret this is, noting its use.
func (s *Service) TokenBySecret(ctx context.Context, secret string) (Token, error) {
	if secret == "" {
		return Token{}, ErrNotFound
	}
	t, err := s.store.TokenByHash(ctx, Hash(secret))
	if err != nil {
		return Token{}, err
	}
	now := s.now()
	if err := s.store.TouchToken(ctx, t.ID, now); err != nil {
		s.log.Warn("api token: last use", "token", t.Name, "error", err)
	} else if t.LastUsed.Before(now.Add(-time.Minute)) {
		t.LastUsed = now
	}
	return t, nil
}

// Tokens lists the API tokens by name.
func (s *Service) Tokens(ctx context.Context) ([]Token, error) { return s.store.Tokens(ctx) }

// RemoveToken revokes an API token.
func (s *Service) RemoveToken(ctx context.Context, name string) error {
	return s.store.RemoveToken(ctx, name)
}

// NewSecret returns a random 256-bit secret (URL-safe) and its hash.
func NewSecret() (secret, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, Hash(secret)
}

// Hash is the stored form of a secret: hex SHA-256.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
