-- 0008: the customer space. Contacts (the email addresses of customer
-- records) sign in with one-time links or an optional password and hold
-- sessions; requests made there keep their subject, text and
-- attachments; quotes get a description and interventions a confirmation
-- asked of the customer; appointments take 45-minute slots. Secrets are
-- stored hashed (links and sessions with SHA-256, passwords with bcrypt).

CREATE TABLE contact_links (
	hash       TEXT PRIMARY KEY, -- hex SHA-256 of the link's token
	email      TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	used_at    TEXT              -- set once: a link signs in one time
);
CREATE INDEX contact_links_email ON contact_links (email, created_at);

CREATE TABLE contact_passwords (
	email  TEXT PRIMARY KEY,
	hash   TEXT NOT NULL,
	set_at TEXT NOT NULL
);

CREATE TABLE contact_sessions (
	hash       TEXT PRIMARY KEY, -- hex SHA-256 of the cookie value
	email      TEXT NOT NULL,
	csrf       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE INDEX contact_sessions_email ON contact_sessions (email);

-- What a request from the space said, and who (a contact) made it.
CREATE TABLE space_requests (
	ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
	subject   TEXT NOT NULL,
	body      TEXT NOT NULL,
	contact   TEXT NOT NULL
);

CREATE TABLE ticket_attachments (
	id         INTEGER PRIMARY KEY,
	ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	type       TEXT NOT NULL,
	size       INTEGER NOT NULL,
	data       BLOB NOT NULL,
	created_at TEXT NOT NULL,
	created_by TEXT NOT NULL
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (ticket_id);

ALTER TABLE quotes ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE quotes ADD COLUMN decided_by TEXT NOT NULL DEFAULT '';

-- The confirmation of an intervention that may go past the contract's
-- threshold, asked of the customer before the work.
CREATE TABLE confirmation_requests (
	ticket_id   INTEGER PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
	units       INTEGER NOT NULL CHECK (units > 0), -- the units the intervention may take
	description TEXT NOT NULL,
	state       TEXT NOT NULL DEFAULT 'asked' CHECK (state IN ('asked', 'confirmed', 'refused')),
	asked_at    TEXT NOT NULL,
	asked_by    TEXT NOT NULL,
	decided_at  TEXT,
	decided_by  TEXT NOT NULL DEFAULT ''
);

-- Appointments: one slot is one appointment, and a ticket has at most one
-- that is not cancelled (the partial unique indexes make two bookings of
-- one slot impossible, whoever wins the race).
CREATE TABLE appointments (
	id           INTEGER PRIMARY KEY,
	ticket_id    INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	customer     TEXT NOT NULL,
	contact      TEXT NOT NULL,
	kind         TEXT NOT NULL CHECK (kind IN ('phone', 'video')),
	phone        TEXT NOT NULL DEFAULT '',
	room         TEXT NOT NULL DEFAULT '',
	uid          TEXT NOT NULL UNIQUE,
	starts_at    TEXT NOT NULL,
	ends_at      TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	cancelled_at TEXT,
	cancelled_by TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX appointments_slot ON appointments (starts_at) WHERE cancelled_at IS NULL;
CREATE UNIQUE INDEX appointments_ticket ON appointments (ticket_id) WHERE cancelled_at IS NULL;
CREATE INDEX appointments_customer ON appointments (customer, starts_at);
