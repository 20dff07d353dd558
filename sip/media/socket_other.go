//go:build !(linux && (amd64 || arm64))

package media

import (
	"errors"
	"net"
	"net/netip"

	"github.com/pion/rtp"
)

// rxBatch holds the datagrams of one receive call.
type rxBatch struct {
	buf [rxBatchLen][readBufSize]byte
	n   [rxBatchLen]int
	src [rxBatchLen]netip.AddrPort
	pkt rtp.Packet
}

// newUDPSocket needs recvmmsg(2) on 64-bit Linux, where astreinte runs.
func newUDPSocket(*net.UDPConn) (conn, error) {
	return nil, errors.New("media: RTP sockets need 64-bit Linux")
}
