-- 0007: each user's language for the pages (fr, en; '' : their on-call
-- person's, else the browser's), and the shift swaps technicians offer and
-- take. A swap is offered (taken_by ''), taken, approved by an admin when
-- the rota requires it, then done: its override_id is the shift override
-- that enacts it. A swap withdrawn is deleted.

ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';

CREATE TABLE shift_swaps (
	id          INTEGER PRIMARY KEY,
	offered_by  TEXT NOT NULL,               -- the technician giving the shift away
	from_at     TEXT NOT NULL,
	to_at       TEXT NOT NULL CHECK (to_at > from_at),
	note        TEXT NOT NULL DEFAULT '',
	taken_by    TEXT NOT NULL DEFAULT '',    -- '' while offered
	taken_at    TEXT,
	approved_by TEXT NOT NULL DEFAULT '',    -- '' : not approved (yet)
	approved_at TEXT,
	override_id INTEGER REFERENCES shift_overrides (id) ON DELETE SET NULL, -- set once done
	created_at  TEXT NOT NULL
);
CREATE INDEX shift_swaps_from ON shift_swaps (from_at);
