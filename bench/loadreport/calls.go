package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// callLog is one call's timeline from astreinte's JSON log.
type callLog struct {
	incoming, urgency, hungUp, ended time.Time
	beep                             time.Time // "beep", logged once the beep has played
	recorded                         bool
	duration, voiced                 time.Duration
	stats                            map[string]uint64
	ticket                           bool
}

var statField = regexp.MustCompile(`(\w+):(\d+)`)

// readCallLog reads astreinte's JSON log (log.format: json) into per-call
// timelines keyed by SIP Call-ID.
func readCallLog(path string) (map[string]*callLog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	calls := map[string]*callLog{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Time     time.Time `json:"time"`
			Msg      string    `json:"msg"`
			CallID   string    `json:"call_id"`
			Duration int64     `json:"duration"`
			Voiced   int64     `json:"voiced"`
			Stats    string    `json:"stats"`
			Dir      string    `json:"dir"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.CallID == "" || rec.Dir == "out" {
			continue
		}
		c := calls[rec.CallID]
		if c == nil {
			c = &callLog{}
			calls[rec.CallID] = c
		}
		switch rec.Msg {
		case "incoming call":
			c.incoming = rec.Time
		case "urgency chosen":
			c.urgency = rec.Time
		case "beep":
			c.beep = rec.Time
		case "remote hung up":
			c.hungUp = rec.Time
		case "call ended":
			c.ended = rec.Time
		case "message recorded":
			c.recorded = true
			c.duration, c.voiced = time.Duration(rec.Duration), time.Duration(rec.Voiced)
			c.stats = map[string]uint64{}
			for _, m := range statField.FindAllStringSubmatch(rec.Stats, -1) {
				n, _ := strconv.ParseUint(m[2], 10, 64)
				c.stats[m[1]] = n
			}
		case "ticket created":
			c.ticket = true
		}
	}
	return calls, sc.Err()
}

// callRow is one line of `sqlite3 -separator '|'` over the calls table
// joined with the tickets: Call-ID, recording path and duration in ms (empty
// and 0 without a ticket), answered_at (RFC 3339, empty if never answered).
type callRow struct {
	callID, path string
	ms           int64
	answered     time.Time
}

func readCallRows(path string) ([]callRow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows []callRow
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(l, "|")
		if len(f) != 4 {
			continue
		}
		n, _ := strconv.ParseInt(f[2], 10, 64)
		at, _ := time.Parse(time.RFC3339Nano, f[3])
		rows = append(rows, callRow{f[0], f[1], n, at})
	}
	return rows, nil
}

// readBirths reads `stat -c '%n|%w'` lines: each recording's creation time,
// which is when astreinte started recording (the .part file is created
// just before the recorder is attached, and renamed at the end).
func readBirths(path string) (map[string]time.Time, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]time.Time{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		name, at, ok := strings.Cut(l, "|")
		if !ok {
			continue
		}
		if t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700", at); err == nil {
			out[name] = t
		}
	}
	return out, nil
}

// wavSamples returns the number of 16-bit mono samples in a WAV file's
// data chunk.
func wavSamples(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var hdr [12]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return 0, fmt.Errorf("%s: not a WAV file", path)
	}
	var channels, bits uint16 = 1, 16
	for {
		var ch [8]byte
		if _, err := io.ReadFull(f, ch[:]); err != nil {
			return 0, fmt.Errorf("%s: no data chunk", path)
		}
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		switch string(ch[0:4]) {
		case "fmt ":
			var fm [16]byte
			if _, err := io.ReadFull(f, fm[:]); err != nil {
				return 0, err
			}
			channels, bits = binary.LittleEndian.Uint16(fm[2:]), binary.LittleEndian.Uint16(fm[14:])
			size -= 16
		case "data":
			st, err := f.Stat()
			if err != nil {
				return 0, err
			}
			pos, _ := f.Seek(0, io.SeekCurrent)
			size = min(size, st.Size()-pos)
			return size / int64(channels) / int64(max(bits/8, 1)), nil
		}
		if _, err := f.Seek(size+size%2, io.SeekCurrent); err != nil {
			return 0, err
		}
	}
}

// callsReport checks every call: did the caller reach the recording, was a
// ticket made, is the WAV as long as the audio the caller sent after the
// beep, did astreinte receive every packet the caller sent.
type callsReport struct {
	calls, hungUp, reached, messages, tickets, wavs int
	lenRatios, pktRatios                            []float64
	short                                           int // recordings missing over 100 ms of the audio sent
	maxMissing                                      time.Duration
	// beepToRecord is, per recording, the time from the end of the beep
	// (estimated from the log) to the recording's start (its file's
	// creation): caller audio in between is not recorded.
	beepToRecord        []time.Duration
	lost, silence, late uint64
	wavErrors           int
}

// beepEnd is when the beep ended: from the "beep" line when the log has it,
// else "urgency chosen" + prelude; zero when neither was logged.
func (c *callLog) beepEnd(prelude time.Duration) time.Time {
	switch {
	case !c.beep.IsZero():
		return c.beep
	case !c.urgency.IsZero():
		return c.urgency.Add(prelude)
	}
	return time.Time{}
}

// analyzeCalls: prelude is the time from "urgency chosen" to the end of
// the beep (record instructions + beep), used when the log has no "beep"
// line; minMsg the audio after the beep
// that counts as a message left. A recording's start is its file's
// creation time when births has it, else the estimated end of the beep.
func analyzeCalls(calls map[string]*callLog, rows []callRow, births map[string]time.Time, prelude, minMsg time.Duration) callsReport {
	var r callsReport
	byID := map[string]callRow{}
	for _, t := range rows {
		byID[t.callID] = t
		if t.path != "" {
			r.tickets++
		}
	}
	for id, c := range calls {
		if c.incoming.IsZero() {
			continue
		}
		r.calls++
		row := byID[id]
		if c.hungUp.IsZero() {
			// Ended by astreinte (media timeout, a failure): whatever was
			// recorded still counts as a message left.
			if be := c.beepEnd(prelude); !be.IsZero() && !c.ended.IsZero() {
				r.reached++
				if c.ended.Sub(be) >= minMsg {
					r.messages++
				}
			}
			continue
		}
		r.hungUp++
		if c.stats != nil && !row.answered.IsZero() {
			// The caller streams from the answer (its ACK) to its BYE.
			sent := float64(c.hungUp.Sub(row.answered)) / float64(20*time.Millisecond)
			if sent > 10 {
				r.pktRatios = append(r.pktRatios, float64(c.stats["PacketsReceived"])/sent)
			}
		}
		if c.stats != nil {
			r.lost += c.stats["LostPackets"]
			r.silence += c.stats["SilenceSamples"]
			r.late += c.stats["Late"]
		}
		beepEnd := c.beepEnd(prelude)
		if beepEnd.IsZero() {
			continue
		}
		r.reached++
		if c.hungUp.Sub(beepEnd) >= minMsg {
			r.messages++
		}
		if row.path == "" {
			continue
		}
		start := beepEnd
		if b, ok := births[row.path]; ok {
			start = b
			r.beepToRecord = append(r.beepToRecord, b.Sub(beepEnd))
		}
		window := c.hungUp.Sub(start)
		if window <= 0 {
			continue
		}
		n, err := wavSamples(row.path)
		if err != nil {
			r.wavErrors++
			continue
		}
		r.wavs++
		r.lenRatios = append(r.lenRatios, float64(n)/(window.Seconds()*8000))
		missing := window - time.Duration(n)*time.Second/8000
		r.maxMissing = max(r.maxMissing, missing)
		if missing > 100*time.Millisecond {
			r.short++
		}
	}
	slices.Sort(r.lenRatios)
	slices.Sort(r.pktRatios)
	slices.Sort(r.beepToRecord)
	return r
}
