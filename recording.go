package astreinte

import "time"

// RecordingOp is one step of a caller's recording as written to a store
// several nodes share: a row of its audio, or the deletion of rows (Drop).
// The recording package ships them while the call goes on and rebuilds
// the WAV from the rows read back (RecordingChunk).
type RecordingOp struct {
	Recording string // the recording's final path
	Seq       int64
	Offset    int64  // byte offset of PCM in the audio
	PCM       []byte // nil: a row that only cuts
	Meta      string // the recording's sidecar, when it changed
	// Drop deletes the recording's rows instead of writing one: those
	// with 0 < seq < Seq (superseded by a restart), or every row when Seq
	// is 0 (the recording is deleted).
	Drop bool
}

// RecordingChunk is one row of a recording as read back from the store.
type RecordingChunk struct {
	Seq    int64
	Offset int64
	PCM    []byte
	Meta   string
	At     time.Time // when the row was written
}
