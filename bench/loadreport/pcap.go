package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// datagram is one captured UDP datagram over IPv4.
type datagram struct {
	at               time.Time
	srcPort, dstPort uint16
	payload          []byte
}

// readPcap reads the UDP/IPv4 datagrams of a classic pcap file (tshark -F
// pcap), on Ethernet, Linux cooked (v1, v2), or BSD loopback framing.
func readPcap(path string) ([]datagram, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	var gh [24]byte
	if _, err := io.ReadFull(r, gh[:]); err != nil {
		return nil, fmt.Errorf("%s: pcap header: %w", path, err)
	}
	var bo binary.ByteOrder
	nano := false
	switch {
	case binary.LittleEndian.Uint32(gh[0:]) == 0xa1b2c3d4:
		bo = binary.LittleEndian
	case binary.LittleEndian.Uint32(gh[0:]) == 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(gh[0:]) == 0xa1b2c3d4:
		bo = binary.BigEndian
	case binary.BigEndian.Uint32(gh[0:]) == 0xa1b23c4d:
		bo, nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("%s: not a classic pcap file (capture with -F pcap)", path)
	}
	link := bo.Uint32(gh[20:])
	var skip int
	switch link {
	case 1: // Ethernet
		skip = 14
	case 113: // Linux cooked v1
		skip = 16
	case 276: // Linux cooked v2
		skip = 20
	case 0: // BSD loopback
		skip = 4
	default:
		return nil, fmt.Errorf("%s: link type %d not handled", path, link)
	}
	var out []datagram
	var rh [16]byte
	for {
		if _, err := io.ReadFull(r, rh[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return out, nil
			}
			return out, err
		}
		sec, frac := bo.Uint32(rh[0:]), bo.Uint32(rh[4:])
		n := bo.Uint32(rh[8:])
		if n > 1<<18 {
			return out, fmt.Errorf("%s: record of %d bytes", path, n)
		}
		pkt := make([]byte, n)
		if _, err := io.ReadFull(r, pkt); err != nil {
			return out, nil // a capture cut mid-record
		}
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		if d, ok := udpOf(pkt, skip); ok {
			d.at = time.Unix(int64(sec), ns)
			out = append(out, d)
		}
	}
}

// udpOf extracts the UDP datagram of an IPv4 packet after skip bytes of
// link-layer header.
func udpOf(pkt []byte, skip int) (datagram, bool) {
	if len(pkt) < skip+20 {
		return datagram{}, false
	}
	ip := pkt[skip:]
	if ip[0]>>4 != 4 || ip[9] != 17 {
		return datagram{}, false
	}
	ihl := int(ip[0]&0x0f) * 4
	if len(ip) < ihl+8 {
		return datagram{}, false
	}
	u := ip[ihl:]
	ulen := int(binary.BigEndian.Uint16(u[4:]))
	if ulen < 8 || ulen > len(u) {
		ulen = len(u) // a truncated capture: keep what there is
	}
	return datagram{
		srcPort: binary.BigEndian.Uint16(u[0:]),
		dstPort: binary.BigEndian.Uint16(u[2:]),
		payload: u[8:ulen],
	}, true
}
