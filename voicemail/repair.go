package voicemail

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/vad"
)

// Recovered is a recording found by RepairRecordings that may lack a ticket.
type Recovered struct {
	Path     string        // the WAV file, under its final name
	Meta     RecordingMeta // from the sidecar; zero if there was none
	Duration time.Duration
	Voiced   time.Duration // speech in it, by the line's voice detection (Meta.VAD)
	// Closed is true for a recording that was closed normally but whose
	// sidecar is still there: its ticket may or may not exist (the process
	// stopped between Close and RemoveSidecar, or creating the ticket
	// failed). False for one repaired after a crash: it has no ticket.
	Closed bool
	// fromStore: read from the store's copy (FileCutCalls), no file here.
	fromStore bool
}

// RepairRecordings finds, under dir and its sub-directories, the recordings
// a crash or a failure left without a ticket, and returns them for the
// caller to make their tickets (then RemoveSidecar):
//
//   - each ".part" file (a recording cut short) has its RIFF and data sizes
//     set from its length, a trailing half sample cut, and is renamed to its
//     final name. Its meta comes from its sidecar, if any.
//   - each final WAV whose sidecar still exists is returned with Closed set.
//
// A sidecar with no audio beside it (a crash at the very start of a
// recording, or during Discard) is removed. Problems with one file (too
// short to hold a header, not a WAV, unreadable sidecar…) do not stop the
// others: RepairRecordings returns what it recovered together with the
// problems joined in one error. A missing dir is not an error. Run it before
// any Recorder writes under dir: it would take a live recording for a
// crashed one.
func RepairRecordings(dir string) ([]Recovered, error) {
	var parts, sides []string
	var errs []error
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			errs = append(errs, fmt.Errorf("repair recordings: %w", err))
			return nil
		}
		switch {
		case d.IsDir():
		case strings.HasSuffix(path, ".part"):
			parts = append(parts, path)
		case strings.HasSuffix(path, ".json"):
			sides = append(sides, path)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("repair recordings: %w", err))
	}

	var found []Recovered
	repaired := make(map[string]bool)
	for _, part := range parts {
		rec, err := repairPart(part)
		if err != nil {
			errs = append(errs, err)
		}
		if rec.Path != "" {
			found = append(found, rec)
			repaired[rec.Path] = true
		}
	}
	for _, side := range sides {
		wav := strings.TrimSuffix(side, ".json")
		if repaired[wav] || !isWAVName(wav) {
			continue
		}
		if _, err := os.Lstat(wav); err == nil {
			rec, err := recovered(wav, true)
			if err != nil {
				errs = append(errs, err)
			}
			found = append(found, rec)
			continue
		}
		if _, err := os.Lstat(wav + ".part"); errors.Is(err, fs.ErrNotExist) {
			if err := os.Remove(side); err != nil {
				errs = append(errs, fmt.Errorf("repair recordings: %w", err))
			}
		}
	}
	return found, errors.Join(errs...)
}

// RemoveSidecar deletes the sidecar of the recording at wavPath, once its
// ticket exists. A missing sidecar is not an error.
func RemoveSidecar(wavPath string) error {
	err := os.Remove(wavPath + ".json")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// isWAVName reports whether path ends in ".wav", whatever the case.
func isWAVName(path string) bool {
	return strings.EqualFold(filepath.Ext(path), ".wav")
}

// repairPart fixes the header of a ".part" recording, renames it to its
// final name and describes it. A non-empty Path comes back whenever the file
// was renamed, even with an error.
func repairPart(part string) (Recovered, error) {
	final := strings.TrimSuffix(part, ".part")
	if fi, err := os.Lstat(final); err == nil {
		pi, perr := os.Lstat(part)
		if perr != nil || !os.SameFile(fi, pi) {
			return Recovered{}, fmt.Errorf("repair %s: %s exists too; both left as they are", part, filepath.Base(final))
		}
		// One file under both names: the call filed it (Checkpoint) and
		// went on recording. Its ticket may exist; its length is the file's.
		if err := patchSizes(final); err != nil {
			return Recovered{}, fmt.Errorf("repair %s: %w", part, err)
		}
		if err := os.Remove(part); err != nil {
			return Recovered{}, fmt.Errorf("repair %s: %w", part, err)
		}
		if err := syncDir(filepath.Dir(final)); err != nil {
			return Recovered{}, fmt.Errorf("repair %s: %w", part, err)
		}
		return recovered(final, true)
	}
	if err := patchSizes(part); err != nil {
		return Recovered{}, fmt.Errorf("repair %s: %w", part, err)
	}
	if err := os.Rename(part, final); err != nil {
		return Recovered{}, fmt.Errorf("repair %s: %w", part, err)
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return Recovered{}, fmt.Errorf("repair %s: %w", part, err)
	}
	return recovered(final, false)
}

// patchSizes sets the RIFF and data chunk sizes of the WAV file at path from
// its length, cutting a trailing partial frame, and syncs it.
func patchSizes(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size < audio.WAVHeaderSize {
		return fmt.Errorf("%w: %d bytes is too short to hold a WAV header", audio.ErrInvalidWAV, size)
	}
	dataOff, blockAlign, err := findData(f, size)
	if err != nil {
		return err
	}
	dataLen := size - dataOff
	dataLen -= dataLen % int64(blockAlign)
	if dataOff+dataLen > math.MaxUint32 {
		return fmt.Errorf("%w: %d bytes is too long for a WAV file", audio.ErrInvalidWAV, size)
	}
	if dataOff+dataLen != size {
		if err := f.Truncate(dataOff + dataLen); err != nil {
			return err
		}
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(dataOff-8+dataLen))
	if _, err := f.WriteAt(b[:], 4); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b[:], uint32(dataLen))
	if _, err := f.WriteAt(b[:], dataOff-4); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// findData walks the chunks of a WAV file of size bytes and returns where
// its data chunk's samples start and its frame size. It does not trust the
// data chunk's size, which a crash leaves stale.
func findData(r io.ReaderAt, size int64) (dataOff int64, blockAlign int, err error) {
	var b [16]byte
	if _, err := r.ReadAt(b[:12], 0); err != nil {
		return 0, 0, err
	}
	if string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, 0, audio.ErrNotWAV
	}
	for off := int64(12); off+8 <= size; {
		if _, err := r.ReadAt(b[:8], off); err != nil {
			return 0, 0, err
		}
		n := int64(binary.LittleEndian.Uint32(b[4:8]))
		switch string(b[:4]) {
		case "fmt ":
			if n < 16 || off+8+16 > size {
				return 0, 0, fmt.Errorf("%w: short fmt chunk", audio.ErrInvalidWAV)
			}
			if _, err := r.ReadAt(b[:16], off+8); err != nil {
				return 0, 0, err
			}
			blockAlign = int(binary.LittleEndian.Uint16(b[12:14]))
			if blockAlign == 0 {
				return 0, 0, fmt.Errorf("%w: block align 0", audio.ErrInvalidWAV)
			}
		case "data":
			if blockAlign == 0 {
				return 0, 0, fmt.Errorf("%w: data chunk before fmt chunk", audio.ErrInvalidWAV)
			}
			return off + 8, blockAlign, nil
		}
		off += 8 + n + n&1
	}
	return 0, 0, fmt.Errorf("%w: no data chunk", audio.ErrInvalidWAV)
}

// recovered describes the recording at wav: meta from its sidecar, duration
// and voiced time from its audio.
func recovered(wav string, closed bool) (Recovered, error) {
	rec := Recovered{Path: wav, Closed: closed}
	var errs []error
	if b, err := os.ReadFile(wav + ".json"); err == nil {
		if err := json.Unmarshal(b, &rec.Meta); err != nil {
			errs = append(errs, fmt.Errorf("repair %s: sidecar: %w", wav, err))
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("repair %s: sidecar: %w", wav, err))
	}
	s, err := audio.DecodeWAVFile(wav)
	if err != nil {
		errs = append(errs, fmt.Errorf("repair %s: %w", wav, err))
	}
	rec.Duration = audio.DurationOf(int64(len(s)))
	rec.Voiced = vad.Measure(rec.Meta.VAD, s)
	return rec, errors.Join(errs...)
}

// RepairRecording finishes the one recording at wavPath that a crash or a
// dead node left (its ".part" repaired and renamed, as RepairRecordings
// does), or reads it if it was closed, with its sidecar's meta. The
// recording must no longer be written. An error wrapping fs.ErrNotExist
// means neither file is there (or reachable from here).
func RepairRecording(wavPath string) (Recovered, error) {
	if _, err := os.Lstat(wavPath + ".part"); err == nil {
		return repairPart(wavPath + ".part")
	}
	if _, err := os.Lstat(wavPath); err != nil {
		return Recovered{}, fmt.Errorf("recording %s: %w", wavPath, err)
	}
	return recovered(wavPath, true)
}
