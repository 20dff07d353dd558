package main

import (
	"bytes"
	"slices"
	"strings"
	"time"
)

// setupTiming is INVITE → 200 OK as seen on the wire.
type setupTiming struct {
	invites, answered      int
	p50, p95, p99, maxTime time.Duration
	// INVITE → 180 Ringing and 180 → 200, p50 and p99: where the time to
	// answer goes (astreinte rings once the call log row is written).
	ringing, answer [2]time.Duration
}

// analyzeSIP pairs each Call-ID's first INVITE sent to port with the first
// 200 OK to it (CSeq INVITE) coming back from port.
func analyzeSIP(ds []datagram, port uint16) setupTiming {
	type call struct {
		invite, ringing, ok time.Time
	}
	calls := map[string]*call{}
	for _, d := range ds {
		if d.dstPort != port && d.srcPort != port {
			continue
		}
		first, headers, ok := sipHead(d.payload)
		if !ok {
			continue
		}
		id := headers["call-id"]
		if id == "" {
			continue
		}
		c := calls[id]
		switch {
		case d.dstPort == port && strings.HasPrefix(first, "INVITE "):
			if c == nil {
				c = &call{invite: d.at}
				calls[id] = c
			}
		case d.srcPort == port && strings.HasPrefix(first, "SIP/2.0 180") && c != nil && c.ringing.IsZero():
			c.ringing = d.at
		case d.srcPort == port && strings.HasPrefix(first, "SIP/2.0 200") &&
			strings.HasSuffix(strings.ToUpper(headers["cseq"]), "INVITE"):
			if c != nil && c.ok.IsZero() {
				c.ok = d.at
			}
		}
	}
	var res setupTiming
	var lat, ringing, answer []time.Duration
	for _, c := range calls {
		res.invites++
		if !c.ringing.IsZero() {
			ringing = append(ringing, c.ringing.Sub(c.invite))
			if !c.ok.IsZero() {
				answer = append(answer, c.ok.Sub(c.ringing))
			}
		}
		if !c.ok.IsZero() {
			res.answered++
			lat = append(lat, c.ok.Sub(c.invite))
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		res.p50, res.p95, res.p99 = pct(lat, 0.50), pct(lat, 0.95), pct(lat, 0.99)
		res.maxTime = lat[len(lat)-1]
	}
	for _, x := range []struct {
		d   []time.Duration
		out *[2]time.Duration
	}{{ringing, &res.ringing}, {answer, &res.answer}} {
		if len(x.d) > 0 {
			slices.Sort(x.d)
			x.out[0], x.out[1] = pct(x.d, 0.50), pct(x.d, 0.99)
		}
	}
	return res
}

// sipHead returns a SIP message's first line and its headers (lower-case
// names, compact forms expanded for Call-ID).
func sipHead(p []byte) (string, map[string]string, bool) {
	end := bytes.Index(p, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(p)
	}
	lines := strings.Split(string(p[:end]), "\r\n")
	if len(lines) == 0 || !(strings.HasPrefix(lines[0], "SIP/2.0 ") || strings.Contains(lines[0], " SIP/2.0")) {
		return "", nil, false
	}
	h := map[string]string{}
	for _, l := range lines[1:] {
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "i" {
			name = "call-id"
		}
		if _, seen := h[name]; !seen {
			h[name] = strings.TrimSpace(val)
		}
	}
	return lines[0], h, true
}
