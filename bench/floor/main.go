//go:build linux && (amd64 || arm64)

// Command floor is the cost floor bench/load.sh measures astreinte against:
// it does, for every call, only what no answering machine can avoid, with
// the same kind of sockets and system calls as astreinte's media engine
// (sip/media/engine.go), and nothing else.
//
// Per call: a SIP answer (sipgo, as astreinte: INVITE → 200 OK with an SDP
// answer, ACK, BYE → 200 OK), one UDP socket of its own taken from the RTP
// range, its 50 packets a second received with recvmmsg(2) by one receive
// pass every 100 ms over every call, the G.711 samples decoded to 16-bit PCM
// and written to a file of its own in half-second write(2)s, 50 packets a
// second of silence sent back with one sendto(2) each by one pacing pass
// every 20 ms over every call, and at the hang-up one fsync(2) of the file
// (a message must survive a crash). One line is printed to stdout when a
// call starts and one when it ends, which is how load.sh counts calls up.
//
// What it leaves out, which astreinte does: prompts, menus, DTMF, jitter
// buffer, voice detection, the database, the sidecar, logging, paging.
//
//	floor -listen 127.0.0.1:5060 -rtp 40000-41000 -dir /tmp/floor
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/astreinte/astreinte/sip/media"
)

const (
	frame        = 20 * time.Millisecond
	recvInterval = 5 * frame // as astreinte's receiver
	batchLen     = 8         // datagrams per recvmmsg(2), as astreinte
	maxBatches   = 4
	chunk        = 8000 // bytes of PCM per write(2): half a second (astreinte writes a quarter, 4 KB less memory a call)
	payload      = 160  // one 20 ms G.711 frame
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5060", "SIP UDP address")
	rtp := flag.String("rtp", "40000-41000", "RTP port range LO-HI")
	dir := flag.String("dir", os.TempDir(), "directory for the recordings")
	flag.Parse()
	if err := run(*listen, *rtp, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(listen, rtp, dir string) error {
	lo, hi, err := portRange(rtp)
	if err != nil {
		return err
	}
	host, sipPort, err := splitHostPort(listen)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Is4() {
		return fmt.Errorf("-listen: %q is not an IPv4 address", host)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	f := &floor{ip: ip, sipPort: sipPort, lo: lo, hi: hi, next: lo, dir: dir, calls: map[string]*call{}}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("floor"))
	if err != nil {
		return err
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		return err
	}
	srv.OnInvite(f.invite)
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(f.bye)
	go f.pace(ctx)
	go f.receive(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe(ctx, "udp", listen) }()
	fmt.Println("floor ready")
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	f.mu.Lock()
	for _, c := range f.calls {
		c.end()
	}
	f.mu.Unlock()
	return nil
}

// floor holds the calls up.
type floor struct {
	ip      netip.Addr
	sipPort int
	lo, hi  int
	dir     string

	mu    sync.Mutex
	next  int
	calls map[string]*call // by Call-ID
	list  []*call          // what the passes serve
	seq   atomic.Int64
}

// call is one call's socket, file and packet state.
type call struct {
	fd   int
	file *os.File
	sa   syscall.RawSockaddrInet4 // where the caller wants RTP
	pkt  [12 + payload]byte       // the next packet sent; silence
	seq  uint16
	ts   uint32
	buf  []byte // PCM not yet written
	done bool   // under floor.mu
}

func (f *floor) invite(req *sip.Request, tx sip.ServerTransaction) {
	dst, err := sdpAudio(req.Body())
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, err.Error(), nil))
		return
	}
	id := req.CallID().Value()
	c, port, err := f.open(dst)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "no RTP port", nil))
		return
	}
	body := fmt.Sprintf("v=0\r\no=floor 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\nm=audio %[2]d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n", f.ip, port)
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", []byte(body))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "floor", Host: f.ip.String(), Port: f.sipPort}})
	if err := tx.Respond(res); err != nil {
		f.hangUp(id)
		return
	}
	f.mu.Lock()
	f.calls[id] = c
	f.list = append(f.list, c)
	f.mu.Unlock()
	fmt.Println("call start", id)
}

func (f *floor) bye(req *sip.Request, tx sip.ServerTransaction) {
	tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	f.hangUp(req.CallID().Value())
}

// hangUp reads what waits on the call's socket, writes it, syncs and closes
// the file and the socket.
func (f *floor) hangUp(id string) {
	f.mu.Lock()
	c := f.calls[id]
	if c == nil || c.done {
		f.mu.Unlock()
		return
	}
	delete(f.calls, id)
	for i, x := range f.list {
		if x == c {
			f.list = append(f.list[:i], f.list[i+1:]...)
			break
		}
	}
	var b batch
	c.poll(&b)
	c.end()
	f.mu.Unlock()
	fmt.Println("call end", id)
}

// open binds the call's socket on the next free port of the range and
// creates its recording.
func (f *floor) open(dst netip.AddrPort) (*call, int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, 0, err
	}
	f.mu.Lock()
	port := 0
	for range (f.hi - f.lo) / 2 {
		p := f.next
		f.next += 2
		if f.next > f.hi {
			f.next = f.lo
		}
		if syscall.Bind(fd, &syscall.SockaddrInet4{Port: p, Addr: f.ip.As4()}) == nil {
			port = p
			break
		}
	}
	f.mu.Unlock()
	if port == 0 {
		syscall.Close(fd)
		return nil, 0, errors.New("no free RTP port")
	}
	name := filepath.Join(f.dir, fmt.Sprintf("%d.pcm", f.seq.Add(1)))
	file, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		syscall.Close(fd)
		return nil, 0, err
	}
	c := &call{fd: fd, file: file, buf: make([]byte, 0, chunk)}
	c.sa.Family = syscall.AF_INET
	p := (*[2]byte)(unsafe.Pointer(&c.sa.Port))
	p[0], p[1] = byte(dst.Port()>>8), byte(dst.Port())
	c.sa.Addr = dst.Addr().As4()
	c.pkt[0] = 0x80 // version 2, PCMU
	ssrc := uint32(time.Now().UnixNano())
	c.pkt[8], c.pkt[9], c.pkt[10], c.pkt[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
	for i := 12; i < len(c.pkt); i++ {
		c.pkt[i] = 0xff // µ-law silence
	}
	return c, port, nil
}

// end writes what is buffered, syncs and closes the file, closes the
// socket. f.mu is held.
func (c *call) end() {
	if c.done {
		return
	}
	c.done = true
	c.flush()
	c.file.Sync()
	c.file.Close()
	syscall.Close(c.fd)
}

func (c *call) flush() {
	if len(c.buf) > 0 {
		c.file.Write(c.buf)
		c.buf = c.buf[:0]
	}
}

// pace sends every call's next packet every 20 ms.
func (f *floor) pace(ctx context.Context) {
	t := time.NewTicker(frame)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f.mu.Lock()
		for _, c := range f.list {
			c.pkt[2], c.pkt[3] = byte(c.seq>>8), byte(c.seq)
			c.pkt[4], c.pkt[5], c.pkt[6], c.pkt[7] = byte(c.ts>>24), byte(c.ts>>16), byte(c.ts>>8), byte(c.ts)
			c.seq++
			c.ts += payload
			syscall.Syscall6(syscall.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(&c.pkt[0])), uintptr(len(c.pkt)),
				syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(&c.sa)), syscall.SizeofSockaddrInet4)
		}
		f.mu.Unlock()
	}
}

// receive drains every call's socket every 100 ms.
func (f *floor) receive(ctx context.Context) {
	var b batch
	b.init()
	t := time.NewTicker(recvInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f.mu.Lock()
		for _, c := range f.list {
			c.poll(&b)
		}
		f.mu.Unlock()
	}
}

// mmsghdr is struct mmsghdr of recvmmsg(2) on 64-bit Linux.
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

type batch struct {
	buf [batchLen][2048]byte
	hdr [batchLen]mmsghdr
	iov [batchLen]syscall.Iovec
}

func (b *batch) init() {
	for i := range b.hdr {
		b.iov[i].Base = &b.buf[i][0]
		b.iov[i].SetLen(len(b.buf[i]))
		b.hdr[i].hdr.Iov = &b.iov[i]
		b.hdr[i].hdr.Iovlen = 1
	}
}

// poll reads what waits on the socket and appends its samples to the file.
func (c *call) poll(b *batch) {
	if b.hdr[0].hdr.Iov == nil {
		b.init()
	}
	for range maxBatches {
		r, _, e := syscall.Syscall6(syscall.SYS_RECVMMSG, uintptr(c.fd), uintptr(unsafe.Pointer(&b.hdr[0])),
			batchLen, syscall.MSG_DONTWAIT, 0, 0)
		if e != 0 {
			return
		}
		for i := range int(r) {
			p := b.buf[i][:b.hdr[i].n]
			if len(p) <= 12 || p[0]>>6 != 2 {
				continue
			}
			for _, u := range p[12:] {
				if len(c.buf) == cap(c.buf) {
					c.flush()
				}
				s := media.UlawDecode(u)
				c.buf = append(c.buf, byte(s), byte(s>>8))
			}
		}
		if int(r) < batchLen {
			return
		}
	}
}

// sdpAudio returns the address of the first audio stream of an SDP offer.
func sdpAudio(body []byte) (netip.AddrPort, error) {
	var ip netip.Addr
	port := 0
	for _, l := range strings.Split(string(body), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "c=IN IP4 "):
			a, err := netip.ParseAddr(strings.TrimPrefix(l, "c=IN IP4 "))
			if err == nil {
				ip = a
			}
		case strings.HasPrefix(l, "m=audio ") && port == 0:
			fs := strings.Fields(l)
			if len(fs) > 1 {
				port, _ = strconv.Atoi(fs[1])
			}
		}
	}
	if !ip.IsValid() || port <= 0 || port > 65535 {
		return netip.AddrPort{}, errors.New("no IPv4 audio stream in the SDP")
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}

func portRange(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || lo >= hi {
		return 0, 0, fmt.Errorf("-rtp %q: want LO-HI, 1024 ≤ LO < HI ≤ 65535", s)
	}
	return lo + lo%2, hi, nil
}

func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("%q: want HOST:PORT", s)
	}
	p, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return "", 0, fmt.Errorf("%q: want HOST:PORT", s)
	}
	return s[:i], p, nil
}
