-- 0009: the correspondence with requesters: every email received for a
-- ticket and every email sent to its requester (acknowledgements,
-- technicians' replies), with its Message-ID for threading and, for mail
-- going out, its delivery state (an outbox that survives a restart).
-- Message-IDs are kept without angle brackets; references is a
-- space-separated list, oldest first.

CREATE TABLE mails (
	id          INTEGER PRIMARY KEY,
	ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	message_id  TEXT    NOT NULL UNIQUE,
	direction   TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
	kind        TEXT    NOT NULL CHECK (kind IN ('request', 'reply', 'ack')),
	at          TEXT    NOT NULL,
	addr        TEXT    NOT NULL, -- the requester: sender (in) or recipient (out), lower case
	name        TEXT    NOT NULL DEFAULT '',
	actor       TEXT    NOT NULL DEFAULT '',
	subject     TEXT    NOT NULL DEFAULT '',
	body        TEXT    NOT NULL DEFAULT '',
	in_reply_to TEXT    NOT NULL DEFAULT '',
	refs        TEXT    NOT NULL DEFAULT '',
	lang        TEXT    NOT NULL DEFAULT '',
	auto        TEXT    NOT NULL DEFAULT '', -- in: why a program sent it (RFC 3834)
	state       TEXT    NOT NULL CHECK (state IN ('received', 'queued', 'sending', 'sent', 'failed')),
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     TEXT,                        -- queued: when to try; sending: the lease's end
	error       TEXT    NOT NULL DEFAULT '',
	sent_at     TEXT
);
CREATE INDEX mails_ticket ON mails (ticket_id, at);
CREATE INDEX mails_due ON mails (state, next_at) WHERE state IN ('queued', 'sending');
CREATE INDEX mails_addr ON mails (addr, kind, at);
-- One acknowledgement per ticket.
CREATE UNIQUE INDEX mails_one_ack ON mails (ticket_id) WHERE kind = 'ack';
