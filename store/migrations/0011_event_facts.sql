-- The figures of a work-log or quote entry, as JSON (astreinte.EventFacts),
-- so that pages write them in their reader's language; '' for other
-- entries and for those written before.
ALTER TABLE events ADD COLUMN facts TEXT NOT NULL DEFAULT '';
