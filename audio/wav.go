package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/astreinte/astreinte/sip/media"
)

// Errors wrapped by DecodeWAV, for errors.Is.
var (
	// ErrNotWAV means the input is not a RIFF/WAVE file at all.
	ErrNotWAV = errors.New("not a WAV file")
	// ErrInvalidWAV means the input starts like a WAV file but is malformed.
	ErrInvalidWAV = errors.New("invalid WAV file")
	// ErrUnsupportedWAV means a valid WAV file in an encoding DecodeWAV cannot
	// read (float, compressed, …); the message says how to convert it.
	ErrUnsupportedWAV = errors.New("not supported")
)

// maxDecode bounds the audio DecodeWAV accepts, against memory exhaustion by a
// bogus or hostile file. Prompts last seconds and recordings minutes.
const maxDecode = 30 * time.Minute

// WAV format tags.
const (
	tagPCM        = 0x0001
	tagFloat      = 0x0003
	tagALaw       = 0x0006
	tagMuLaw      = 0x0007
	tagExtensible = 0xFFFE
)

// soxHint ends the error for an encoding we cannot read.
const soxHint = "convert with: sox in.wav -e signed-integer -b 16 out.wav"

// wavFormat is what DecodeWAV needs of a fmt chunk.
type wavFormat struct {
	tag        uint16 // the real encoding, WAVE_FORMAT_EXTENSIBLE resolved
	channels   int
	rate       int
	bits       int
	width      int // bytes per sample in the container
	blockAlign int // bytes per frame
}

// DecodeWAV reads a WAV file and returns its audio as SampleRate mono int16.
// It reads integer PCM of 8, 16, 24 or 32 bits (plain or
// WAVE_FORMAT_EXTENSIBLE), A-law and µ-law, at any rate from 4 kHz to 384 kHz
// and with any number of channels: channels are mixed to mono, the rate is
// converted with a windowed-sinc filter that removes what lies above 3.6 kHz,
// and the depth is brought to 16 bits. A data chunk longer than the file (a
// recording cut short) yields the whole frames present. Errors wrap ErrNotWAV,
// ErrInvalidWAV or ErrUnsupportedWAV, or are the reader's.
func DecodeWAV(r io.Reader) ([]int16, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrNotWAV
		}
		return nil, err
	}
	switch {
	case string(hdr[:4]) == "RF64" && string(hdr[8:]) == "WAVE":
		return nil, fmt.Errorf("RF64 (64-bit WAV) is %w, %s", ErrUnsupportedWAV, soxHint)
	case string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WAVE":
		return nil, ErrNotWAV
	}
	var f *wavFormat
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, err
			}
			if f == nil {
				return nil, fmt.Errorf("%w: no fmt chunk", ErrInvalidWAV)
			}
			return nil, fmt.Errorf("%w: no data chunk", ErrInvalidWAV)
		}
		size := binary.LittleEndian.Uint32(ch[4:])
		switch string(ch[:4]) {
		case "fmt ":
			var err error
			if f, err = readFmt(br, size); err != nil {
				return nil, err
			}
		case "data":
			if f == nil {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrInvalidWAV)
			}
			return readData(br, size, f)
		default: // LIST, fact, bext, cue …: skip, with the pad byte of odd sizes
			if _, err := br.Discard(int(size) + int(size&1)); err != nil {
				if errors.Is(err, io.EOF) {
					return nil, fmt.Errorf("%w: no data chunk", ErrInvalidWAV)
				}
				return nil, err
			}
		}
	}
}

// readFmt reads a fmt chunk of size bytes and checks that DecodeWAV can
// decode what it describes.
func readFmt(br *bufio.Reader, size uint32) (*wavFormat, error) {
	if size < 16 || size > 1024 {
		return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrInvalidWAV, size)
	}
	b := make([]byte, size+size&1)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil, fmt.Errorf("%w: truncated fmt chunk", ErrInvalidWAV)
	}
	le := binary.LittleEndian
	f := &wavFormat{
		tag:        le.Uint16(b[0:]),
		channels:   int(le.Uint16(b[2:])),
		rate:       int(le.Uint32(b[4:])),
		blockAlign: int(le.Uint16(b[12:])),
		bits:       int(le.Uint16(b[14:])),
	}
	if f.tag == tagExtensible {
		if size < 40 {
			return nil, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes", ErrInvalidWAV, size)
		}
		f.tag = le.Uint16(b[24:]) // first two bytes of the SubFormat GUID
	}
	if f.channels < 1 || f.channels > 64 {
		return nil, fmt.Errorf("%w: %d channels", ErrInvalidWAV, f.channels)
	}
	if f.rate < 4000 || f.rate > 384000 {
		return nil, fmt.Errorf("a sample rate of %d Hz is %w, convert with: sox in.wav -r 8000 out.wav", f.rate, ErrUnsupportedWAV)
	}
	switch f.tag {
	case tagPCM:
		if f.bits < 1 || f.bits > 32 {
			return nil, fmt.Errorf("%d-bit PCM is %w, %s", f.bits, ErrUnsupportedWAV, soxHint)
		}
		f.width = (f.bits + 7) / 8
	case tagALaw, tagMuLaw:
		if f.bits != 8 {
			return nil, fmt.Errorf("%w: %d-bit G.711", ErrInvalidWAV, f.bits)
		}
		f.width = 1
	case tagFloat:
		return nil, fmt.Errorf("%d-bit float is %w, convert with: sox in.wav -b 16 out.wav", f.bits, ErrUnsupportedWAV)
	default:
		return nil, fmt.Errorf("WAV encoding 0x%04x%s is %w, %s", f.tag, encodingName(f.tag), ErrUnsupportedWAV, soxHint)
	}
	if f.blockAlign != f.width*f.channels {
		return nil, fmt.Errorf("%w: block align %d for %d channels of %d bits", ErrInvalidWAV, f.blockAlign, f.channels, f.bits)
	}
	return f, nil
}

// encodingName names the compressed encodings an admin is likely to meet.
func encodingName(tag uint16) string {
	switch tag {
	case 0x0002:
		return " (MS ADPCM)"
	case 0x0011:
		return " (IMA ADPCM)"
	case 0x0031:
		return " (GSM 6.10)"
	case 0x0050, 0x0055:
		return " (MPEG)"
	}
	return ""
}

// readData reads a data chunk declared as size bytes and converts it.
func readData(br *bufio.Reader, size uint32, f *wavFormat) ([]int16, error) {
	// The declared size only bounds the reading: writers that stream (sox or
	// ffmpeg to a pipe, a recording cut short) leave 0 or a huge placeholder.
	maxBytes := int64(maxDecode/time.Second) * int64(f.rate) * int64(f.blockAlign)
	limit := int64(size)
	if size == 0 || limit > maxBytes {
		limit = maxBytes + 1
	}
	lr := io.LimitReader(br, limit)

	direct := f.tag == tagPCM && f.width == 2 && f.channels == 1 && f.rate == SampleRate
	// Size the output from the header, but not beyond 8 MiB of input: the
	// header may lie, and append grows the slices with what really comes.
	hint := min(int64(size), 8<<20) / int64(f.blockAlign)
	var out []int16
	var mono []float32
	if direct {
		out = make([]int16, 0, hint)
	} else {
		mono = make([]float32, 0, hint)
	}
	buf := make([]byte, f.blockAlign*4096)
	var read int64
	for {
		n, err := io.ReadFull(lr, buf)
		n -= n % f.blockAlign // a half frame at the end of a cut file
		read += int64(n)
		if read > maxBytes {
			return nil, fmt.Errorf("audio longer than %v is %w", maxDecode, ErrUnsupportedWAV)
		}
		if direct {
			for i := 0; i < n; i += 2 {
				out = append(out, int16(binary.LittleEndian.Uint16(buf[i:])))
			}
		} else {
			mono = appendMono(mono, buf[:n], f)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if direct {
		return out, nil
	}
	if f.rate != SampleRate {
		mono = resample(mono, f.rate)
	}
	out = make([]int16, len(mono))
	for i, v := range mono {
		out[i] = floatToInt16(v)
	}
	return out, nil
}

// appendMono decodes the whole frames in b, mixes each to mono in [-1, 1)
// and appends it to dst.
func appendMono(dst []float32, b []byte, f *wavFormat) []float32 {
	scale := 1 / float32(f.channels)
	for len(b) >= f.blockAlign {
		var sum float32
		for c := 0; c < f.channels; c++ {
			sum += sampleValue(b[c*f.width:], f)
		}
		dst = append(dst, sum*scale)
		b = b[f.blockAlign:]
	}
	return dst
}

// sampleValue decodes one sample at the start of b as a value in [-1, 1).
func sampleValue(b []byte, f *wavFormat) float32 {
	switch f.tag {
	case tagALaw:
		return float32(media.AlawDecode(b[0])) / 32768
	case tagMuLaw:
		return float32(media.UlawDecode(b[0])) / 32768
	}
	switch f.width {
	case 1: // 8-bit WAV is unsigned
		return (float32(b[0]) - 128) / 128
	case 2:
		return float32(int16(binary.LittleEndian.Uint16(b))) / (1 << 15)
	case 3:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float32(v) / (1 << 23)
	default:
		return float32(int32(binary.LittleEndian.Uint32(b))) / (1 << 31)
	}
}

// floatToInt16 rounds v in [-1, 1) to int16, clipping what lies outside.
func floatToInt16(v float32) int16 {
	x := math.Round(float64(v) * 32768)
	switch {
	case x > math.MaxInt16:
		return math.MaxInt16
	case x < math.MinInt16:
		return math.MinInt16
	}
	return int16(x)
}

// WAVHeaderSize is the size of the canonical header written by PutWAVHeader.
const WAVHeaderSize = 44

// PutWAVHeader fills h with the canonical header of a 16-bit mono PCM WAV at
// SampleRate whose data chunk holds dataBytes bytes.
func PutWAVHeader(h *[WAVHeaderSize]byte, dataBytes uint32) {
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], WAVHeaderSize-8+dataBytes)
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)           // fmt chunk size
	le.PutUint16(h[20:], tagPCM)       // format
	le.PutUint16(h[22:], 1)            // channels
	le.PutUint32(h[24:], SampleRate)   // sample rate
	le.PutUint32(h[28:], SampleRate*2) // byte rate
	le.PutUint16(h[32:], 2)            // block align
	le.PutUint16(h[34:], 16)           // bits per sample
	copy(h[36:], "data")
	le.PutUint32(h[40:], dataBytes)
}
