package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestNewPortRange(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	tests := []struct {
		name     string
		ip       netip.Addr
		min, max int
		size     int // 0: error
	}{
		{"even bounds", lo, 10000, 10010, 6},
		{"odd bounds", lo, 10001, 10007, 3},
		{"one port", lo, 10000, 10000, 1},
		{"all interfaces", netip.IPv4Unspecified(), 10000, 20000, 5001},
		{"ipv6", netip.IPv6Loopback(), 10000, 10002, 2},
		{"no even port", lo, 10001, 10001, 0},
		{"reversed", lo, 10010, 10000, 0},
		{"port zero", lo, 0, 10, 0},
		{"too high", lo, 65000, 65536, 0},
		{"no address", netip.Addr{}, 10000, 10010, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPortRange(tc.ip, tc.min, tc.max)
			if tc.size == 0 {
				if err == nil {
					t.Errorf("no error for %d-%d", tc.min, tc.max)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Size() != tc.size {
				t.Errorf("Size() = %d, want %d", p.Size(), tc.size)
			}
		})
	}
}

// freeEvenPair returns an even port p such that p and p+2 could be bound on
// 127.0.0.1 a moment ago (the OS picks the neighbourhood).
func freeEvenPair(t *testing.T) int {
	for range 20 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		if p+2 > 65535 {
			continue
		}
		ok := true
		var held []*net.UDPConn
		for _, q := range []int{p, p + 2} {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: q})
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return p
		}
	}
	t.Skip("no free pair of even ports found")
	return 0
}

func TestPortRangeListen(t *testing.T) {
	base := freeEvenPair(t)
	pr, err := NewPortRange(netip.MustParseAddr("127.0.0.1"), base, base+3)
	if err != nil {
		t.Fatal(err)
	}
	port := func(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }
	c1, err := pr.Listen()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := pr.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if port(c1) != base || port(c2) != base+2 {
		t.Fatalf("ports %d, %d; want %d, %d", port(c1), port(c2), base, base+2)
	}
	if c, err := pr.Listen(); !errors.Is(err, ErrNoFreePort) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("third Listen: %v, want ErrNoFreePort", err)
	}
	c1.Close()
	c3, err := pr.Listen() // round robin: base+2 is busy, base is free again
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if port(c3) != base {
		t.Errorf("port %d, want %d", port(c3), base)
	}
}

func TestReadBufferFor(t *testing.T) {
	tests := []struct {
		calls, want int
	}{
		{0, minReadBuf},               // 4 s: 200 datagrams, 200 KiB
		{200, minReadBuf},             // 4.2 s: 210 KiB
		{1000, minReadBuf},            // 5 s: 250 KiB
		{1200, 260 * datagramCost},    // 5.2 s
		{3000, 350 * datagramCost},    // 7 s
		{100000, 5200 * datagramCost}, // 104 s: above rmem_max, capped by the kernel
	}
	for _, tt := range tests {
		if got := ReadBufferFor(tt.calls); got != tt.want {
			t.Errorf("ReadBufferFor(%d) = %d, want %d", tt.calls, got, tt.want)
		}
	}
}

// The sockets Listen opens have the receive buffer SetReadBuffer asked
// for, as far as the kernel grants it.
func TestPortRangeReadBuffer(t *testing.T) {
	base := freeEvenPair(t)
	p, err := NewPortRange(netip.MustParseAddr("127.0.0.1"), base, base+1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	def, err := readBuffer(c)
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	const want = 300 << 10
	granted, err := p.SetReadBuffer(want)
	if err != nil {
		t.Fatal(err)
	}
	// Linux grants min(asked, net.core.rmem_max); an unprivileged process
	// cannot go past it.
	if granted != want && granted >= want {
		t.Errorf("granted %d for %d", granted, want)
	}
	if granted == def && want > def {
		t.Logf("receive buffer capped at the default %d (net.core.rmem_max)", def)
	}
	c, err = p.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := readBuffer(c)
	if err != nil {
		t.Fatal(err)
	}
	if got != granted {
		t.Errorf("socket from Listen has a receive buffer of %d, SetReadBuffer granted %d", got, granted)
	}
}
