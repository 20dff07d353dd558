// Package recording is a caller's recording wherever it is kept: the WAV
// file its node writes, and, on a store several nodes share (PostgreSQL),
// the copy of its audio the node ships to the store while the call goes on
// (Shipper), so that any node can serve, play, attach and page with it,
// even after the node that made it died. Open gives every reader the same
// recording: the local file when there is one, else a WAV rebuilt from the
// store's rows.
//
// A recording in the store is rows (Op written, Chunk read back) keyed by
// its final path, read in Seq order: each cuts the audio at Offset (bytes
// of PCM), padding with silence when a row before it was lost, then
// appends its PCM. A row without PCM only cuts (a trim, a restart). Meta,
// when a row has it, is the recording's sidecar (JSON); the last one wins.
package recording

import "github.com/astreinte/astreinte"

// Op is one step of a recording as written to the store: a row, or the
// deletion of rows (Drop).
type Op = astreinte.RecordingOp

// Chunk is one row of a recording as read back from the store.
type Chunk = astreinte.RecordingChunk
