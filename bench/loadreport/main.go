// Command loadreport turns what bench/load.sh collected (packet captures,
// astreinte's JSON log, the tickets table, SIPp's statistics) into rows of
// the benchmark's markdown table. It only reads files; load.sh runs it with
// `go run ./bench/loadreport`.
//
//	loadreport rtp CAPTURE.pcap                      RTP gaps and RFC 3550 jitter per stream
//	loadreport sip CAPTURE.pcap PORT                 INVITE → 200 OK per call
//	loadreport calls LOG CALLS BIRTHS PRELUDE MINMSG recordings and packets per call
//	loadreport sipp WANTED STAT.csv...               calls placed, successful, failed
package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadreport:", err)
		os.Exit(1)
	}
}

func run(args []string, w io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: loadreport rtp|sip|calls|sipp ARGS")
	}
	switch args[0] {
	case "rtp":
		if len(args) != 2 {
			return fmt.Errorf("usage: loadreport rtp CAPTURE.pcap")
		}
		ds, err := readPcap(args[1])
		if err != nil {
			return err
		}
		t := analyzeRTP(ds, 50)
		if t.streams == 0 {
			fmt.Fprintf(w, "| RTP at the receiver (sample) | no stream of 50+ packets captured |\n")
			return nil
		}
		fmt.Fprintf(w, "| RTP sample at the receiver | %d streams, %d packets, %d lost |\n", t.streams, t.packets, t.lost)
		fmt.Fprintf(w, "| RTP gap p50 / p99 / max | %s / %s / %s ms |\n", ms(t.gapP50), ms(t.gapP99), ms(t.gapMax))
		fmt.Fprintf(w, "| RTP jitter (RFC 3550) median / worst stream / worst instant | %.2f / %.2f / %.2f ms |\n", t.jitP50, t.jitMax, t.jitPeak)
	case "sip":
		if len(args) != 3 {
			return fmt.Errorf("usage: loadreport sip CAPTURE.pcap PORT")
		}
		port, err := strconv.Atoi(args[2])
		if err != nil {
			return err
		}
		ds, err := readPcap(args[1])
		if err != nil {
			return err
		}
		s := analyzeSIP(ds, uint16(port))
		fmt.Fprintf(w, "| INVITEs captured / answered 200 | %d / %d |\n", s.invites, s.answered)
		if s.answered > 0 {
			fmt.Fprintf(w, "| **INVITE→200** p50 / p95 / **p99** / max | %s / %s / **%s** / %s ms |\n", ms(s.p50), ms(s.p95), ms(s.p99), ms(s.maxTime))
			fmt.Fprintf(w, "| of which INVITE→180 (line, calendar; the call log row is written aside) p50 / p99; 180→200 (answer: RTP socket, SDP) p50 / p99 | %s / %s ms; %s / %s ms |\n",
				ms(s.ringing[0]), ms(s.ringing[1]), ms(s.answer[0]), ms(s.answer[1]))
		}
	case "calls":
		if len(args) != 6 {
			return fmt.Errorf("usage: loadreport calls LOG CALLS BIRTHS PRELUDE MINMSG")
		}
		prelude, err := time.ParseDuration(args[4])
		if err != nil {
			return err
		}
		minMsg, err := time.ParseDuration(args[5])
		if err != nil {
			return err
		}
		calls, err := readCallLog(args[1])
		if err != nil {
			return err
		}
		rows, err := readCallRows(args[2])
		if err != nil {
			return err
		}
		births, err := readBirths(args[3])
		if err != nil {
			return err
		}
		r := analyzeCalls(calls, rows, births, prelude, minMsg)
		fmt.Fprintf(w, "| calls seen by astreinte / hung up by the caller / reached the beep | %d / %d / %d |\n", r.calls, r.hungUp, r.reached)
		fmt.Fprintf(w, "| messages left / tickets created | %d / %d |\n", r.messages, r.tickets)
		if len(r.pktRatios) > 0 {
			fmt.Fprintf(w, "| RTP received by astreinte ÷ sent by the caller (answer to BYE at 50/s), min / median | %.3f / %.3f |\n",
				r.pktRatios[0], r.pktRatios[len(r.pktRatios)/2])
			fmt.Fprintf(w, "| packets lost / late / silence filled in recordings | %d / %d / %d samples |\n", r.lost, r.late, r.silence)
		}
		if len(r.lenRatios) > 0 {
			fmt.Fprintf(w, "| WAV length ÷ audio sent while recording, min / median; most missing; WAVs missing > 100 ms | %.3f / %.3f; %s ms; %d of %d |\n",
				r.lenRatios[0], r.lenRatios[len(r.lenRatios)/2], ms(r.maxMissing), r.short, r.wavs)
		}
		if b := r.beepToRecord; len(b) > 0 {
			fmt.Fprintf(w, "| end of beep → recording starts (caller audio lost), p50 / p99 / max | %s / %s / %s ms |\n",
				ms(pct(b, 0.5)), ms(pct(b, 0.99)), ms(b[len(b)-1]))
		}
		if r.wavErrors > 0 {
			fmt.Fprintf(w, "| unreadable WAVs | %d |\n", r.wavErrors)
		}
	case "sipp":
		if len(args) < 3 {
			return errors.New("usage: loadreport sipp WANTED STAT.csv [STAT.csv]")
		}
		want, err := strconv.Atoi(args[1])
		if err != nil {
			return err
		}
		var placed, ok, failed int
		for _, p := range args[2:] {
			c, s, f, err := sippTotals(p)
			if err != nil {
				return err
			}
			placed, ok, failed = placed+c, ok+s, failed+f
		}
		// A call never placed (SIPp stopped early) is a failed call too.
		failed = max(failed, want-ok)
		fmt.Fprintf(w, "| calls wanted / placed / successful / **failed** (SIPp) | %d / %d / %d / **%d** |\n", want, placed, ok, failed)
	default:
		return fmt.Errorf("unknown report %q", args[0])
	}
	return nil
}

// sippTotals reads the last line of a SIPp -trace_stat file: calls created,
// successful and failed, cumulated.
func sippTotals(path string) (created, ok, failed int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		return 0, 0, 0, fmt.Errorf("%s: no statistics (%v)", path, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimSpace(h)] = i
	}
	last := rows[len(rows)-1]
	get := func(name string) int {
		i, okc := col[name]
		if !okc || i >= len(last) {
			return 0
		}
		n, _ := strconv.Atoi(strings.TrimSpace(last[i]))
		return n
	}
	return get("TotalCallCreated"), get("SuccessfulCall(C)"), get("FailedCall(C)"), nil
}
