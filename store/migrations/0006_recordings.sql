-- 0006: every message of a ticket with its own urgency and marks (the beep,
-- prompts talked over, keys): the ticket's own recording in ticket_caller,
-- the recordings of later calls in ticket_recordings. Marks are a JSON array
-- of {"at_ms", "kind", "name"}. The crash repair looks recordings up by path.

ALTER TABLE ticket_caller ADD COLUMN urgency TEXT NOT NULL DEFAULT ''; -- the first message's; '' : the ticket's
ALTER TABLE ticket_caller ADD COLUMN marks TEXT NOT NULL DEFAULT '[]';
ALTER TABLE ticket_caller ADD COLUMN recorded_at TEXT; -- NULL: the ticket's creation

ALTER TABLE ticket_recordings ADD COLUMN urgency TEXT NOT NULL DEFAULT '';
ALTER TABLE ticket_recordings ADD COLUMN marks TEXT NOT NULL DEFAULT '[]';

-- A ticket made before this migration with no later call: its urgency is the
-- first message's.
UPDATE ticket_caller SET urgency = (SELECT urgency FROM tickets WHERE tickets.id = ticket_caller.ticket_id)
	WHERE ticket_id NOT IN (SELECT ticket_id FROM ticket_recordings);

CREATE INDEX ticket_recordings_path ON ticket_recordings (path);
CREATE INDEX tickets_recording ON tickets (recording);
