-- 0002: the web page's accounts: users (technicians and admins), API
-- tokens and login sessions. Secrets are stored hashed: passwords with
-- bcrypt, tokens and session ids with SHA-256 (they are long random
-- values, so a fast hash is enough).

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	role          TEXT NOT NULL CHECK (role IN ('admin', 'technician')),
	person        TEXT NOT NULL DEFAULT '', -- oncall.people id; '' for none
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL
);

CREATE TABLE api_tokens (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	role       TEXT NOT NULL CHECK (role IN ('admin', 'technician')),
	person     TEXT NOT NULL DEFAULT '',
	hash       TEXT NOT NULL UNIQUE, -- hex SHA-256 of the token
	created_at TEXT NOT NULL,
	last_used  TEXT
);

CREATE TABLE sessions (
	hash       TEXT PRIMARY KEY, -- hex SHA-256 of the cookie value
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
