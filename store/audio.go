package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/astreinte/astreinte"
)

// audioRowsPerInsert bounds one INSERT's rows (6 parameters each; PostgreSQL
// takes at most 65,535 parameters in a statement).
const audioRowsPerInsert = 500

// WriteRecordingAudio writes ops in order: consecutive rows in one
// multi-row INSERT (a row already there, seq and recording the same, is
// kept), each Drop as a DELETE. It writes on a connection of its own,
// outside the writers' lock: these rows are written by the one node making
// the recording, and deleted by it or by the purge of a ticket already
// filed, so nobody reads them to decide a write. A failed statement stops
// the writing; the ops before it stay written.
func (db *DB) WriteRecordingAudio(ctx context.Context, ops []astreinte.RecordingOp) error {
	pool := db.audio
	if pool == nil {
		pool = db.db
	}
	at := ts(db.now())
	var (
		q    strings.Builder
		args []any
		rows int
	)
	insert := func() error {
		if rows == 0 {
			return nil
		}
		_, err := pool.ExecContext(ctx, q.String(), args...)
		q.Reset()
		args, rows = args[:0], 0
		return err
	}
	for _, op := range ops {
		if op.Drop {
			if err := insert(); err != nil {
				return fmt.Errorf("recording audio: %w", err)
			}
			var err error
			if op.Seq == 0 {
				_, err = pool.ExecContext(ctx, `DELETE FROM recording_chunks WHERE recording = ?`, op.Recording)
			} else {
				_, err = pool.ExecContext(ctx, `DELETE FROM recording_chunks WHERE recording = ? AND seq > 0 AND seq < ?`,
					op.Recording, op.Seq)
			}
			if err != nil {
				return fmt.Errorf("recording audio %s: drop: %w", op.Recording, err)
			}
			continue
		}
		if rows == 0 {
			q.WriteString(`INSERT OR IGNORE INTO recording_chunks (recording, seq, offset_bytes, pcm, meta, at) VALUES `)
		} else {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?)")
		pcm := op.PCM
		if pcm == nil {
			pcm = []byte{}
		}
		args = append(args, op.Recording, op.Seq, op.Offset, pcm, op.Meta, at)
		if rows++; rows == audioRowsPerInsert {
			if err := insert(); err != nil {
				return fmt.Errorf("recording audio: %w", err)
			}
		}
	}
	if err := insert(); err != nil {
		return fmt.Errorf("recording audio: %w", err)
	}
	return nil
}

// RecordingAudio returns the rows of the recording at path, in seq order;
// none if the store has no audio of it.
func (db *DB) RecordingAudio(ctx context.Context, path string) ([]astreinte.RecordingChunk, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT seq, offset_bytes, pcm, meta, at FROM recording_chunks
		WHERE recording = ? ORDER BY seq`, path)
	if err != nil {
		return nil, fmt.Errorf("recording audio %s: %w", path, err)
	}
	defer rows.Close()
	var out []astreinte.RecordingChunk
	for rows.Next() {
		var c astreinte.RecordingChunk
		if err := rows.Scan(&c.Seq, &c.Offset, &c.PCM, &c.Meta, timeCol{&c.At}); err != nil {
			return nil, fmt.Errorf("recording audio %s: %w", path, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recording audio %s: %w", path, err)
	}
	return out, nil
}

// DeleteRecordingAudio deletes what the store keeps of the recording at
// path (its audio rows), for the purge of a recording.
func (db *DB) DeleteRecordingAudio(ctx context.Context, path string) error {
	return db.WriteRecordingAudio(ctx, []astreinte.RecordingOp{{Recording: path, Drop: true}})
}

// openAudioPool opens the connection the recordings' audio is written on
// (PostgreSQL): one, without the writers' lock.
func openAudioPool(c pgConnector) *sql.DB {
	p := sql.OpenDB(c)
	p.SetMaxOpenConns(1)
	p.SetMaxIdleConns(1)
	return p
}
