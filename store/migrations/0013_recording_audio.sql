-- 0013: recordings kept in the store while they are made, and the urgency
-- the caller chose, on the call's row.
--
-- On PostgreSQL (a store several nodes share) the recorder's audio is also
-- written here as it is flushed, so that any node can read a recording made
-- by another, alive or dead. A recording is the rows of its path (the final
-- WAV path the tickets name), read in seq order: each row's PCM (16-bit mono
-- little-endian at 8 kHz) goes at byte offset_bytes of the audio, which is
-- first cut there (a row with no PCM only cuts: the recording's start, a
-- trim, a restart, its close), or padded with silence if a row before it was
-- lost. The row of seq 0 carries the recording's meta (the sidecar's JSON).
-- at: when the row was written (the recording's modification time).
CREATE TABLE recording_chunks (
	recording    TEXT    NOT NULL,
	seq          INTEGER NOT NULL,
	offset_bytes INTEGER NOT NULL,
	pcm          BLOB    NOT NULL,
	meta         TEXT    NOT NULL DEFAULT '',
	at           TEXT    NOT NULL,
	PRIMARY KEY (recording, seq)
);

-- The urgency the caller chose during the call ('' : not chosen, normal),
-- written as soon as they press the key: a call cut by its node's death is
-- filed urgent even when nobody can read its recording.
ALTER TABLE calls ADD COLUMN urgency TEXT NOT NULL DEFAULT '';

-- A call's row is found by its SIP Call-ID: the call log's create is
-- retried when its commit's outcome is unknown (a timeout), and must then
-- find the row it may have written rather than write a second.
CREATE INDEX calls_sip_call_id ON calls (sip_call_id);
