-- 0005: customers, their phone numbers and addresses, the customer and
-- channel of each ticket, work log, quotes.

CREATE TABLE customers (
	number     TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	contract   TEXT NOT NULL,
	notes      TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL
);

-- Known phone numbers, E.164; one customer each.
CREATE TABLE customer_phones (
	phone    TEXT PRIMARY KEY,
	customer TEXT NOT NULL REFERENCES customers (number) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX customer_phones_customer ON customer_phones (customer);

-- Known email addresses, lower case; one customer each.
CREATE TABLE customer_emails (
	email    TEXT PRIMARY KEY,
	customer TEXT NOT NULL REFERENCES customers (number) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX customer_emails_customer ON customer_emails (customer);

-- A ticket's customer is kept as the number it had (no reference): a
-- removed customer's tickets stay billable history.
ALTER TABLE tickets ADD COLUMN channel TEXT NOT NULL DEFAULT 'phone';
ALTER TABLE tickets ADD COLUMN customer TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN contract TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN unverified INTEGER NOT NULL DEFAULT 0;
-- When the customer confirmed work beyond the contract's threshold.
ALTER TABLE tickets ADD COLUMN confirmed_at TEXT;
ALTER TABLE tickets ADD COLUMN confirmed_by TEXT NOT NULL DEFAULT '';
-- Why the ticket is not billed at all (e.g. cancelled: the problem could
-- not be solved by email); '' when it is billed as its contract says.
ALTER TABLE tickets ADD COLUMN waived TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_customer ON tickets (customer, created_at);

CREATE TABLE worklog (
	id          INTEGER PRIMARY KEY,
	ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	at          TEXT    NOT NULL,
	duration_s  INTEGER NOT NULL CHECK (duration_s > 0),
	by          TEXT    NOT NULL DEFAULT '',
	note        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX worklog_ticket ON worklog (ticket_id, at);

-- One quote per ticket: an amount before tax in cents (a cap, or a fixed
-- price when flat), or a time.
CREATE TABLE quotes (
	ticket_id   INTEGER PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
	amount_ht   INTEGER NOT NULL DEFAULT 0,
	duration_s  INTEGER NOT NULL DEFAULT 0,
	flat        INTEGER NOT NULL DEFAULT 0, -- amount_ht is a fixed price
	state       TEXT    NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed', 'accepted', 'refused')),
	set_at      TEXT    NOT NULL,
	set_by      TEXT    NOT NULL DEFAULT '',
	decided_at  TEXT
);
