// Package vad tells a caller's speech from silence and noise, 20 ms at a
// time, on 8 kHz telephone audio.
//
// A frame is speech when its energy stands out from the noise floor by a
// margin (Config.SNR) and is above an absolute level (Config.Threshold).
// The noise floor is tracked by minimum statistics: the quietest frame of
// the last second or so, which follows a street or a car's hum within
// that time and is not pulled up by speech, whose syllables always leave
// quieter gaps. Speech frames make segments: a gap shorter than
// Config.Hangover does not end one, and a segment counts only once it holds
// Config.MinSpeech of speech in a row (a click, a key's tone or a breath
// does not, however many).
//
// Two decisions come out of it: how much speech there was and how long the
// caller has been quiet (the end of a message), and whether the caller is
// really talking over a prompt: a segment that lasts Config.BargeIn
// (1.5 s), loud enough (Config.BargeLevel). "Allô ?", "oui bonjour", a
// cough or a "hmm" are shorter and never cut a prompt; speech that stops
// to listen ends its segment.
//
// A Detector allocates nothing; Write runs on the media path, the other
// methods from the call's goroutine.
package vad

import (
	"math"
	"sync"
	"time"
)

// SampleRate is the audio rate the detector works at.
const SampleRate = 8000

// FrameSamples is the frame the decisions are made on: 20 ms, one RTP
// packet of G.711.
const FrameSamples = SampleRate / 50

const frameDur = 20 * time.Millisecond

// Defaults of Config's fields.
const (
	// DefaultThreshold is low enough for a quiet handset (speech at -45
	// dBFS); noise above it is the adaptive floor's to reject.
	DefaultThreshold = -50.0 // dBFS
	DefaultSNR       = 9.0   // dB
	DefaultHangover  = 400 * time.Millisecond
	DefaultMinSpeech = 100 * time.Millisecond
	DefaultBargeIn   = 1500 * time.Millisecond
	// DefaultBargeLevel is the level a frame must reach to count towards
	// barge-in: a voice into the phone is -30 to -15 dBFS, while a line's
	// echo of our prompt or a distant conversation is lower.
	DefaultBargeLevel = -30.0 // dBFS
)

// floorMin is the lowest noise floor considered: below it, a frame is
// speech by the absolute threshold alone (digital silence has no floor).
const floorMin = -80.0 // dBFS

// Config tunes a Detector. The zero value of a field takes its default.
type Config struct {
	// Threshold is the level in dBFS (RMS of a frame) below which a frame
	// is never speech, whatever the noise: a line's silence threshold.
	Threshold float64 `json:"threshold_dbfs,omitempty"`
	// SNR is how far above the noise floor, in dB, a frame must be.
	SNR float64 `json:"snr_db,omitempty"`
	// Hangover: a pause shorter than this does not end a segment.
	Hangover time.Duration `json:"hangover,omitempty"`
	// MinSpeech is the speech in a row a segment needs to count at all.
	MinSpeech time.Duration `json:"min_speech,omitempty"`
	// BargeIn is how long a segment must last to cut a prompt.
	BargeIn time.Duration `json:"barge_in,omitempty"`
	// BargeLevel is the level in dBFS a frame must reach to count towards
	// barge-in.
	BargeLevel float64 `json:"barge_level_dbfs,omitempty"`
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	if c.SNR == 0 {
		c.SNR = DefaultSNR
	}
	if c.Hangover == 0 {
		c.Hangover = DefaultHangover
	}
	if c.MinSpeech == 0 {
		c.MinSpeech = DefaultMinSpeech
	}
	if c.BargeIn == 0 {
		c.BargeIn = DefaultBargeIn
	}
	if c.BargeLevel == 0 {
		c.BargeLevel = DefaultBargeLevel
	}
	return c
}

// Floor tracking: the minimum of the current block of blockFrames frames
// and of the floorBlocks blocks before it (0.8 to 1 s): short enough that
// noise that starts mid-call (a car, a television) is the floor again
// before it could last BargeIn, long enough to span the gaps of speech.
const (
	blockFrames = 10 // 200 ms
	floorBlocks = 4
)

// Detector decides, frame by frame, whether the caller speaks. Its methods
// are safe for concurrent use. The zero value is not ready: use New.
type Detector struct {
	mu sync.Mutex

	// Settings, as frame energies (mean square of a frame) and frames.
	threshold float64 // absolute level
	snr       float64 // factor above the floor
	barge     float64 // level counting towards barge-in
	hangover  int64
	minSpeech int64
	bargeIn   int64
	cfg       Config

	// The frame being filled.
	sumSq int64
	n     int

	// Noise floor.
	blockMin float64
	blockN   int
	blocks   [floorBlocks]float64
	blockAt  int
	floor    float64
	floorLow float64 // energy at floorMin

	frames int64 // frames measured

	// The segment in progress.
	active     bool
	segStart   int64 // frame index of its first speech frame
	lastSpeech int64 // frame index of its last speech frame
	segSpeech  int64 // speech frames in it
	segLoud    int64 // of which loud enough for barge-in
	run        int64 // speech frames in a row
	counted    bool  // reached MinSpeech: it counts
	barged     bool  // reached BargeIn: signalled

	// Totals over counted segments.
	speech     int64 // speech frames
	segments   int64 // segments that reached MinSpeech
	lastHeard  int64 // frame index of the last speech frame of a counted segment; -1: none
	bargeIns   int64
	bargeInSig chan struct{}
}

// New returns a detector with c's settings (zero fields: defaults).
func New(c Config) *Detector {
	d := &Detector{bargeInSig: make(chan struct{}, 1)}
	d.configure(c)
	d.reset()
	return d
}

func (d *Detector) configure(c Config) {
	c = c.WithDefaults()
	d.cfg = c
	d.threshold = energy(c.Threshold)
	d.snr = math.Pow(10, c.SNR/10)
	d.barge = energy(c.BargeLevel)
	d.hangover = frames(c.Hangover)
	d.minSpeech = max(1, frames(c.MinSpeech))
	d.bargeIn = max(1, frames(c.BargeIn))
}

func (d *Detector) reset() {
	d.sumSq, d.n = 0, 0
	d.blockMin, d.blockN, d.blockAt = math.Inf(1), 0, 0
	for i := range d.blocks {
		d.blocks[i] = math.Inf(1)
	}
	d.floorLow = energy(floorMin)
	d.floor = d.floorLow
	d.frames = 0
	d.active, d.counted, d.barged = false, false, false
	d.segStart, d.lastSpeech, d.segSpeech, d.segLoud = 0, 0, 0, 0
	d.speech, d.segments, d.lastHeard, d.bargeIns = 0, 0, -1, 0
}

// Config returns the detector's settings, defaults filled in.
func (d *Detector) Config() Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// energy is the mean square of a frame whose RMS is at dbfs.
func energy(dbfs float64) float64 {
	rms := 32768 * math.Pow(10, dbfs/20)
	return rms * rms
}

func frames(t time.Duration) int64 { return int64(t / frameDur) }

// Write measures s. It never fails; it implements the media package's
// SampleWriter.
func (d *Detector) Write(s []int16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(s) > 0 {
		k := min(len(s), FrameSamples-d.n)
		var sq int64
		for _, v := range s[:k] {
			x := int32(v)
			sq += int64(x * x)
		}
		d.sumSq += sq
		d.n += k
		s = s[k:]
		if d.n == FrameSamples {
			d.frame(float64(d.sumSq) / FrameSamples)
			d.sumSq, d.n = 0, 0
		}
	}
}

// WriteSamples is Write for the media package's SampleWriter.
func (d *Detector) WriteSamples(s []int16) error {
	d.Write(s)
	return nil
}

// frame decides one frame of mean square e.
func (d *Detector) frame(e float64) {
	i := d.frames
	d.frames++
	isSpeech := e > d.threshold && e > d.floor*d.snr
	d.track(e)
	switch {
	case isSpeech:
		if !d.active {
			d.active, d.counted, d.barged = true, false, false
			d.segStart, d.segSpeech, d.segLoud = i, 0, 0
		}
		if d.lastSpeech == i-1 {
			d.run++
		} else {
			d.run = 1
		}
		d.lastSpeech = i
		d.segSpeech++
		if e > d.barge {
			d.segLoud++
		}
		if d.counted {
			d.speech++
			d.lastHeard = i
		} else if d.run >= d.minSpeech {
			d.counted = true
			d.segments++
			d.speech += d.segSpeech
			d.lastHeard = i
		}
		// Barge-in: the segment lasted BargeIn, and most of it was speech
		// loud enough.
		if !d.barged && d.counted && i-d.segStart+1 >= d.bargeIn && 2*d.segLoud >= d.bargeIn {
			d.barged = true
			d.bargeIns++
			select {
			case d.bargeInSig <- struct{}{}:
			default: // one pending signal is enough
			}
		}
	case d.active && i-d.lastSpeech > d.hangover:
		d.active = false
	}
}

// track updates the noise floor with a frame's energy. Digital silence
// (a phone that suppresses noise, the gaps the jitter buffer fills) makes
// the floor floorMin: speech is then judged by Threshold alone, and noise
// that starts after it is the floor again within the window.
func (d *Detector) track(e float64) {
	d.blockMin = min(d.blockMin, e)
	d.blockN++
	if d.blockN == blockFrames {
		d.blocks[d.blockAt] = d.blockMin
		d.blockAt = (d.blockAt + 1) % floorBlocks
		d.blockMin, d.blockN = math.Inf(1), 0
	}
	f := d.blockMin
	for _, b := range d.blocks {
		f = min(f, b)
	}
	if math.IsInf(f, 1) {
		f = d.floorLow
	}
	d.floor = max(f, d.floorLow)
}

// BargeIn returns a channel that receives a signal each time a segment
// reaches Config.BargeIn: the caller is talking over what we play. One
// signal waits at most.
func (d *Detector) BargeIn() <-chan struct{} { return d.bargeInSig }

// Speech returns the time of speech heard so far, in counted segments.
func (d *Detector) Speech() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return time.Duration(d.speech) * frameDur
}

// Segments returns how many times the caller started speaking (segments
// that reached Config.MinSpeech).
func (d *Detector) Segments() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.segments
}

// Quiet returns how long the caller has not spoken: since the last speech
// frame, or since the start when nothing was said.
func (d *Detector) Quiet() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return time.Duration(d.frames-1-d.lastHeard) * frameDur
}

// Heard returns the audio measured so far, in whole frames.
func (d *Detector) Heard() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return time.Duration(d.frames) * frameDur
}

// Talking reports whether a counted segment is in progress: the caller is
// speaking, or paused for less than the hangover.
func (d *Detector) Talking() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.active && d.counted
}

// FloorDBFS returns the noise floor now, in dBFS.
func (d *Detector) FloorDBFS() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return 10 * math.Log10(d.floor/(32768*32768))
}

// Measure runs a fresh detector with c over s and returns the speech in
// it: what crash repair uses to tell a message from a silent recording.
func Measure(c Config, s []int16) time.Duration {
	d := New(c)
	d.Write(s)
	return d.Speech()
}
