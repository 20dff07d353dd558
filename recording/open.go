package recording

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"time"

	"github.com/astreinte/astreinte/audio"
)

// Source reads a recording's rows from the store (store.DB).
type Source interface {
	RecordingAudio(ctx context.Context, path string) ([]Chunk, error)
}

// Opener opens recordings by their path. Its zero value (or nil) opens
// local files only: a single node on SQLite, where the file is all there
// is.
type Opener struct {
	Store Source // nil: files only
}

// NewOpener opens recordings from local files, else from st.
func NewOpener(st Source) *Opener { return &Opener{Store: st} }

// File is an open recording: a WAV file, local or rebuilt from the store.
type File struct {
	r interface {
		io.ReadSeeker
		io.ReaderAt
	}
	f       *os.File // the local file; nil when rebuilt
	Size    int64
	ModTime time.Time
	// Meta is the recording's sidecar (JSON) as the store has it; "" for
	// a local file (its sidecar is beside it).
	Meta string
}

// FromStore says whether the recording was rebuilt from the store.
func (f *File) FromStore() bool { return f.f == nil }

func (f *File) Read(p []byte) (int, error)                { return f.r.Read(p) }
func (f *File) Seek(off int64, whence int) (int64, error) { return f.r.Seek(off, whence) }
func (f *File) ReadAt(p []byte, off int64) (int, error)   { return f.r.ReadAt(p, off) }

// Close closes the local file; a rebuilt recording has nothing to close.
func (f *File) Close() error {
	if f.f != nil {
		return f.f.Close()
	}
	return nil
}

// Open opens the recording at path: the regular file there if this node
// can read it, else the WAV rebuilt from the store's rows. When neither
// has it, the error wraps fs.ErrNotExist.
func (o *Opener) Open(ctx context.Context, path string) (*File, error) {
	if path == "" {
		return nil, fmt.Errorf("recording: no path: %w", fs.ErrNotExist)
	}
	f, ferr := os.Open(path)
	if ferr == nil {
		fi, err := f.Stat()
		if err == nil && fi.Mode().IsRegular() {
			return &File{r: f, f: f, Size: fi.Size(), ModTime: fi.ModTime()}, nil
		}
		f.Close()
		if err == nil {
			err = errors.New("not a regular file")
		}
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	if o == nil || o.Store == nil || !errors.Is(ferr, fs.ErrNotExist) {
		return nil, ferr
	}
	chunks, err := o.Store.RecordingAudio(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("recording %s: not here (%v), and the store: %w", path, ferr, err)
	}
	if len(chunks) == 0 {
		return nil, fmt.Errorf("recording %s: not here, nor in the store: %w", path, fs.ErrNotExist)
	}
	wav, meta, at := Rebuild(chunks)
	return &File{r: bytes.NewReader(wav), Size: int64(len(wav)), ModTime: at, Meta: meta}, nil
}

// Samples reads the recording at path (Open) as 8 kHz samples.
func (o *Opener) Samples(ctx context.Context, path string) ([]int16, *File, error) {
	f, err := o.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	pcm, err := audio.DecodeWAV(f)
	if err != nil {
		return nil, f, fmt.Errorf("recording %s: %w", path, err)
	}
	return pcm, f, nil
}

// Rebuild makes the WAV file (16-bit mono at audio.SampleRate, the
// recorder's canonical 44-byte header) of a recording's rows in Seq
// order, and returns its last meta and when its last row was written.
// A row whose offset is past the audio so far (rows lost before it) is
// preceded by silence; one before its end cuts the audio there first.
func Rebuild(chunks []Chunk) (wav []byte, meta string, at time.Time) {
	size := 0
	for _, c := range chunks {
		size = max(size, int(c.Offset)+len(c.PCM))
	}
	wav = make([]byte, audio.WAVHeaderSize, audio.WAVHeaderSize+size)
	for _, c := range chunks {
		off := audio.WAVHeaderSize + int(max(c.Offset, 0))
		off -= (off - audio.WAVHeaderSize) % 2 // whole samples
		if off > len(wav) {
			wav = append(wav, make([]byte, off-len(wav))...)
		}
		wav = append(wav[:off], c.PCM...)
		if c.Meta != "" {
			meta = c.Meta
		}
		if c.At.After(at) {
			at = c.At
		}
	}
	if n := len(wav) - audio.WAVHeaderSize; n%2 == 1 {
		wav = wav[:len(wav)-1]
	}
	var h [audio.WAVHeaderSize]byte
	audio.PutWAVHeader(&h, uint32(min(len(wav)-audio.WAVHeaderSize, math.MaxUint32-audio.WAVHeaderSize)))
	copy(wav, h[:])
	return wav, meta, at
}
