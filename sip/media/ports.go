package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// ErrNoFreePort is returned by PortRange.Listen when every port of the range
// is in use.
var ErrNoFreePort = errors.New("media: no free RTP port")

// PortRange hands out the even ports of an RTP port range on one address, in
// round robin. Only the RTP port is opened; the RTCP port above it is left
// free. It is safe for concurrent use.
type PortRange struct {
	ip      netip.Addr
	network string
	lo, hi  int // first and last even port

	mu      sync.Mutex
	next    int // port to try first
	readBuf int // SO_RCVBUF asked of each socket; 0: the kernel's default
}

// NewPortRange returns the range of even ports in [minPort, maxPort] on ip
// (which may be unspecified, 0.0.0.0 or ::, to listen on every interface).
func NewPortRange(ip netip.Addr, minPort, maxPort int) (*PortRange, error) {
	if !ip.IsValid() {
		return nil, errors.New("media: RTP port range: no IP address")
	}
	if minPort < 1 || maxPort > 65535 || minPort > maxPort {
		return nil, fmt.Errorf("media: RTP port range %d-%d: want 1 <= min <= max <= 65535", minPort, maxPort)
	}
	lo, hi := minPort+minPort%2, maxPort-maxPort%2
	if lo > hi {
		return nil, fmt.Errorf("media: RTP port range %d-%d has no even port", minPort, maxPort)
	}
	ip = ip.Unmap()
	network := "udp4"
	if ip.Is6() {
		network = "udp6"
		if ip.IsUnspecified() {
			network = "udp" // dual stack
		}
	}
	return &PortRange{ip: ip, network: network, lo: lo, hi: hi, next: lo}, nil
}

// Receive buffers: a datagram of one 20 ms G.711 frame (172 bytes) takes
// 832 bytes of a socket's receive buffer on Linux's loopback (measured:
// the default 212,992 bytes hold 256 of them, 5.1 s of one call's audio);
// a network card's buffers take more, so 1 KiB a datagram is counted.
const (
	datagramCost = 1024
	minReadBuf   = 256 << 10
	// readStallBase and readStallPerCall are how long the receiver may be
	// away from a socket (short of CPU: a receive pass over every call of
	// its shard, delayed) without a datagram lost: the more calls, the
	// longer a starved pass takes to come round.
	readStallBase    = 4 * time.Second
	readStallPerCall = time.Millisecond
)

// ReadBufferFor returns the receive buffer (SO_RCVBUF, bytes) each RTP
// socket asks for when up to calls calls run at once: what arrives in
// 4 s + 1 ms per call of one call's audio, 256 KiB at least. A large
// buffer costs nothing until it fills: the kernel counts the datagrams
// queued, not the size asked.
func ReadBufferFor(calls int) int {
	stall := readStallBase + time.Duration(max(calls, 0))*readStallPerCall
	return max(minReadBuf, int(stall/frameDuration)*datagramCost)
}

// SetReadBuffer makes Listen ask each socket for a receive buffer of n
// bytes (SO_RCVBUF); 0 keeps the kernel's default. It returns what the
// kernel grants, tried on a socket of the range's address: Linux caps it
// at net.core.rmem_max (granted < n then). Call it before the first
// Listen.
func (p *PortRange) SetReadBuffer(n int) (granted int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readBuf = max(n, 0)
	c, err := net.ListenUDP(p.network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, 0)))
	if err != nil {
		return 0, fmt.Errorf("media: receive buffer: %w", err)
	}
	defer c.Close()
	if err := p.setReadBuffer(c); err != nil {
		return 0, err
	}
	return readBuffer(c)
}

func (p *PortRange) setReadBuffer(c *net.UDPConn) error {
	if p.readBuf == 0 {
		return nil
	}
	if err := c.SetReadBuffer(p.readBuf); err != nil {
		return fmt.Errorf("media: receive buffer: %w", err)
	}
	return nil
}

// readBuffer returns the receive buffer the kernel gave c, as asked of it:
// Linux reports twice what it grants (the other half for its own
// bookkeeping).
func readBuffer(c *net.UDPConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("media: receive buffer: %w", err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	}); err != nil {
		return 0, fmt.Errorf("media: receive buffer: %w", err)
	}
	if gerr != nil {
		return 0, fmt.Errorf("media: receive buffer: %w", gerr)
	}
	return v / 2, nil
}

// Size returns the number of ports in the range.
func (p *PortRange) Size() int { return (p.hi-p.lo)/2 + 1 }

// Listen binds the next free even port, trying each port of the range once
// from where the previous call stopped. It returns ErrNoFreePort (wrapped)
// when every port is in use, and other bind errors at once.
func (p *PortRange) Listen() (*net.UDPConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range p.Size() {
		port := p.next
		p.next += 2
		if p.next > p.hi {
			p.next = p.lo
		}
		c, err := net.ListenUDP(p.network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
		if err == nil {
			if err := p.setReadBuffer(c); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("media: listen RTP: %w", err)
		}
	}
	return nil, fmt.Errorf("%w on %s in %d-%d (%d ports)", ErrNoFreePort, p.ip, p.lo, p.hi, p.Size())
}
