-- 0012: the nodes that take calls, and which of them took each call.
--
-- Every process that serves calls adds its row at start-up (name: host and
-- process id); on PostgreSQL it holds a session advisory lock keyed by the
-- row's id while it runs, so that a killed node's lease goes with its
-- connection. A call in progress whose node holds no lease was cut by that
-- node's death: a surviving node turns it into a ticket (outcome 'cut').
CREATE TABLE nodes (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	started_at TEXT    NOT NULL
);

-- The node that took the call (NULL: before 0011, or a tool's row), and the
-- recording being made of it, once started ('' : none yet).
ALTER TABLE calls ADD COLUMN node_id INTEGER;
ALTER TABLE calls ADD COLUMN recording TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_outcome ON calls (outcome, node_id);
