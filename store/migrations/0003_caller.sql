-- 0003: what the caller's flow knows of a ticket beyond the message
-- (kind, callback number, where the message starts after what was said over
-- the prompts), and the further recordings of a ticket that later calls from
-- the same number joined.

CREATE TABLE ticket_caller (
	ticket_id       INTEGER PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
	kind            TEXT    NOT NULL DEFAULT 'voicemail',
	callback_number TEXT    NOT NULL DEFAULT '', -- E.164, '' unknown
	message_at_ms   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ticket_caller_callback ON ticket_caller (callback_number);

CREATE TABLE ticket_recordings (
	id            INTEGER PRIMARY KEY,
	ticket_id     INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	call_id       INTEGER REFERENCES calls (id) ON DELETE SET NULL,
	path          TEXT    NOT NULL,
	duration_ms   INTEGER NOT NULL DEFAULT 0,
	message_at_ms INTEGER NOT NULL DEFAULT 0,
	created_at    TEXT    NOT NULL
);
CREATE INDEX ticket_recordings_ticket ON ticket_recordings (ticket_id, id);
