//go:build linux && (amd64 || arm64)

package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/pion/rtp"
)

// udpSocket is an RTP socket served by the engine's passes instead of the Go
// runtime's network poller: it is non-blocking and not registered with the
// runtime's epoll, so a datagram arriving wakes no thread and no goroutine.
// The receive pass drains it with recvmmsg(2); the send pass writes with
// sendto(2). One socket per call stays: the SDP gives each call its port, so
// sendmmsg(2), which batches datagrams of one socket, would carry one
// datagram per call and pass.
type udpSocket struct {
	fd     int
	family int // AF_INET or AF_INET6
	local  net.Addr
	closed atomic.Bool

	// The destination of the last send and its socket address, rebuilt
	// only when the destination changes (send pass only).
	dst    netip.AddrPort
	sa     syscall.RawSockaddrInet6
	saLen  uintptr
	saErr  error
	rawDst bool
}

var _ conn = (*udpSocket)(nil)

// newUDPSocket returns a duplicate of the descriptor of c (same socket,
// same port), non-blocking and outside the runtime's poller. c is left as it
// is: once c is closed (which takes it out of the poller), the duplicate
// alone keeps the socket open.
func newUDPSocket(c *net.UDPConn) (conn, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("media: rtp socket: %w", err)
	}
	fd := -1
	var derr error
	if err := rc.Control(func(f uintptr) {
		var r uintptr
		var e syscall.Errno
		r, _, e = syscall.Syscall(syscall.SYS_FCNTL, f, syscall.F_DUPFD_CLOEXEC, 0)
		if e != 0 {
			derr = e
			return
		}
		fd = int(r)
	}); err != nil {
		return nil, fmt.Errorf("media: rtp socket: %w", err)
	}
	if derr != nil {
		return nil, fmt.Errorf("media: duplicate rtp socket: %w", derr)
	}
	sa, err := syscall.Getsockname(fd)
	if err == nil {
		err = syscall.SetNonblock(fd, true)
	}
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("media: rtp socket: %w", err)
	}
	s := &udpSocket{fd: fd, family: syscall.AF_INET, local: c.LocalAddr()}
	if _, ok := sa.(*syscall.SockaddrInet6); ok {
		s.family = syscall.AF_INET6
	}
	return s, nil
}

func (s *udpSocket) LocalAddr() net.Addr { return s.local }

// Close closes the socket. The engine no longer uses it by then.
func (s *udpSocket) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return net.ErrClosed
	}
	return syscall.Close(s.fd)
}

// mmsghdr is struct mmsghdr of recvmmsg(2) on 64-bit Linux.
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// rxBatch holds the buffers of one recvmmsg(2) call, reused for every
// socket of a shard: rxBatchLen datagrams at most per call.
type rxBatch struct {
	buf  [rxBatchLen][readBufSize]byte
	n    [rxBatchLen]int
	src  [rxBatchLen]netip.AddrPort
	hdr  [rxBatchLen]mmsghdr
	iov  [rxBatchLen]syscall.Iovec
	name [rxBatchLen]syscall.RawSockaddrInet6
	pkt  rtp.Packet // the packet being handled, parsed (reader.use)
}

func (b *rxBatch) init() {
	for i := range b.hdr {
		b.iov[i].Base = &b.buf[i][0]
		b.iov[i].SetLen(readBufSize)
		b.hdr[i].hdr.Iov = &b.iov[i]
		b.hdr[i].hdr.Iovlen = 1
		b.hdr[i].hdr.Name = (*byte)(unsafe.Pointer(&b.name[i]))
	}
}

// recvBatch reads the datagrams waiting on the socket, up to rxBatchLen,
// without blocking: 0 and no error when there is none.
func (s *udpSocket) recvBatch(b *rxBatch) (int, error) {
	if b.hdr[0].hdr.Iov == nil {
		b.init()
	}
	for i := range b.hdr {
		b.hdr[i].hdr.Namelen = uint32(unsafe.Sizeof(b.name[i]))
		b.hdr[i].hdr.Flags = 0
		b.hdr[i].n = 0
	}
	r, _, e := syscall.Syscall6(syscall.SYS_RECVMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&b.hdr[0])),
		rxBatchLen, syscall.MSG_DONTWAIT, 0, 0)
	switch {
	case e == syscall.EAGAIN || e == syscall.EINTR:
		return 0, nil
	case e != 0:
		return 0, e
	}
	n := int(r)
	for i := range n {
		b.n[i] = int(b.hdr[i].n)
		b.src[i] = sockaddrAddrPort(&b.name[i])
	}
	return n, nil
}

func sockaddrAddrPort(sa *syscall.RawSockaddrInet6) netip.AddrPort {
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	port := uint16(p[0])<<8 | uint16(p[1])
	switch sa.Family {
	case syscall.AF_INET:
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case syscall.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), port)
	}
	return netip.AddrPort{}
}

var errFamily = errors.New("media: destination address family does not match the rtp socket")

// send writes one datagram to dst without blocking: a full socket buffer
// drops it (EAGAIN is returned, and counted by the caller).
func (s *udpSocket) send(b []byte, dst netip.AddrPort) error {
	if dst != s.dst || !s.rawDst {
		s.setDst(dst)
	}
	if s.saErr != nil {
		return s.saErr
	}
	_, _, e := syscall.Syscall6(syscall.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(&s.sa)), s.saLen)
	if e != 0 {
		return e
	}
	return nil
}

func (s *udpSocket) setDst(dst netip.AddrPort) {
	s.dst, s.rawDst, s.saErr = dst, true, nil
	s.sa = syscall.RawSockaddrInet6{}
	p := (*[2]byte)(unsafe.Pointer(&s.sa.Port))
	p[0], p[1] = byte(dst.Port()>>8), byte(dst.Port())
	a := dst.Addr()
	switch {
	case s.family == syscall.AF_INET && a.Unmap().Is4():
		sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&s.sa))
		sa4.Family = syscall.AF_INET
		sa4.Addr = a.Unmap().As4()
		s.saLen = syscall.SizeofSockaddrInet4
	case s.family == syscall.AF_INET6:
		s.sa.Family = syscall.AF_INET6
		s.sa.Addr = a.As16() // IPv4 as v4-mapped IPv6
		s.saLen = syscall.SizeofSockaddrInet6
	default:
		s.saErr = errFamily
	}
}
