-- 0001: calls, tickets and their timeline, paging state (pages and their
-- outbox of sends), on-call overrides.
--
-- Times are UTC text of fixed width ("2006-01-02T15:04:05.000000000Z"), so
-- that text order is time order; NULL when unset. Optional references and
-- optional times are NULL rather than 0 or ''.

CREATE TABLE calls (
	id            INTEGER PRIMARY KEY,
	sip_call_id   TEXT    NOT NULL DEFAULT '',
	line          TEXT    NOT NULL DEFAULT '',
	caller_number TEXT    NOT NULL DEFAULT '',
	caller_name   TEXT    NOT NULL DEFAULT '',
	called        TEXT    NOT NULL DEFAULT '',
	calendar_case TEXT    NOT NULL DEFAULT '',
	started_at    TEXT    NOT NULL,
	answered_at   TEXT,
	ended_at      TEXT,
	outcome       TEXT    NOT NULL DEFAULT 'in_progress',
	hangup_by     TEXT    NOT NULL DEFAULT '',
	ticket_id     INTEGER REFERENCES tickets (id) ON DELETE SET NULL
);
CREATE INDEX calls_started ON calls (started_at, id);
CREATE INDEX calls_ticket ON calls (ticket_id);

-- The last ticket sequence number given out in each year. Numbers are never
-- reused, even if tickets are deleted.
CREATE TABLE ticket_counters (
	year INTEGER PRIMARY KEY,
	last INTEGER NOT NULL
);

CREATE TABLE tickets (
	id            INTEGER PRIMARY KEY,
	year          INTEGER NOT NULL,
	seq           INTEGER NOT NULL,
	number        TEXT    NOT NULL UNIQUE, -- printf('%d-%06d', year, seq)
	call_id       INTEGER REFERENCES calls (id) ON DELETE SET NULL,
	line          TEXT    NOT NULL DEFAULT '',
	caller_number TEXT    NOT NULL DEFAULT '',
	caller_name   TEXT    NOT NULL DEFAULT '',
	urgency       TEXT    NOT NULL DEFAULT '',
	calendar_case TEXT    NOT NULL DEFAULT '',
	status        TEXT    NOT NULL DEFAULT 'new'
	              CHECK (status IN ('new', 'acknowledged', 'called_back', 'resolved')),
	recording     TEXT    NOT NULL DEFAULT '',
	duration_ms   INTEGER NOT NULL DEFAULT 0,
	created_at    TEXT    NOT NULL,
	due_at        TEXT,
	acked_by      TEXT    NOT NULL DEFAULT '',
	acked_at      TEXT,
	resolved_at   TEXT,
	UNIQUE (seq, year) -- also serves "123": the most recent year having it
);
CREATE INDEX tickets_created ON tickets (created_at, id);
CREATE INDEX tickets_status_created ON tickets (status, created_at, id);
CREATE INDEX tickets_call ON tickets (call_id);

CREATE TABLE events (
	id        INTEGER PRIMARY KEY,
	ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	at        TEXT    NOT NULL,
	kind      TEXT    NOT NULL,
	actor     TEXT    NOT NULL DEFAULT '',
	channel   TEXT    NOT NULL DEFAULT '',
	detail    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_ticket ON events (ticket_id, at, id);

-- The escalation of one ticket. step is the next step to fire, at next_at.
CREATE TABLE pages (
	id         INTEGER PRIMARY KEY,
	ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	policy     TEXT    NOT NULL DEFAULT '',
	state      TEXT    NOT NULL DEFAULT 'active'
	           CHECK (state IN ('active', 'acked', 'exhausted', 'cancelled')),
	step       INTEGER NOT NULL DEFAULT 0,
	next_at    TEXT    NOT NULL,
	created_at TEXT    NOT NULL,
	acked_by   TEXT    NOT NULL DEFAULT '',
	acked_via  TEXT    NOT NULL DEFAULT '',
	acked_at   TEXT
);
CREATE INDEX pages_state_next ON pages (state, next_at);
CREATE INDEX pages_ticket ON pages (ticket_id);

-- The outbox: one notification of one person on one channel for one step.
-- The unique key makes a step replayed after a restart a no-op. A row in
-- state 'sending' is leased to a worker until next_try_at.
CREATE TABLE sends (
	id          INTEGER PRIMARY KEY,
	page_id     INTEGER NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
	ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	step        INTEGER NOT NULL,
	channel     TEXT    NOT NULL,
	person      TEXT    NOT NULL DEFAULT '',
	state       TEXT    NOT NULL DEFAULT 'pending'
	            CHECK (state IN ('pending', 'sending', 'done', 'failed')),
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_try_at TEXT    NOT NULL,
	last_error  TEXT    NOT NULL DEFAULT '',
	created_at  TEXT    NOT NULL,
	UNIQUE (page_id, step, channel, person)
);
CREATE INDEX sends_state_next ON sends (state, next_try_at);
CREATE INDEX sends_ticket ON sends (ticket_id);

CREATE TABLE shift_overrides (
	id        INTEGER PRIMARY KEY,
	replaced  TEXT NOT NULL,
	by_person TEXT NOT NULL DEFAULT '', -- '' for nobody
	from_at   TEXT NOT NULL,
	to_at     TEXT NOT NULL,
	note      TEXT NOT NULL DEFAULT '',
	set_by    TEXT NOT NULL DEFAULT '',
	set_at    TEXT NOT NULL,
	CHECK (to_at > from_at)
);
CREATE INDEX shift_overrides_from ON shift_overrides (from_at, to_at);

-- At most one row.
CREATE TABLE calendar_override (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	open     INTEGER NOT NULL CHECK (open IN (0, 1)),
	until_at TEXT, -- NULL: until cleared
	reason   TEXT NOT NULL DEFAULT '',
	set_by   TEXT NOT NULL DEFAULT '',
	set_at   TEXT NOT NULL
);
