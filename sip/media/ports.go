package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
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

	mu   sync.Mutex
	next int // port to try first
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
			return c, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("media: listen RTP: %w", err)
		}
	}
	return nil, fmt.Errorf("%w on %s in %d-%d (%d ports)", ErrNoFreePort, p.ip, p.lo, p.hi, p.Size())
}
