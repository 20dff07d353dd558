package media

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SRTPKeyLen is the length of an AES_CM_128_HMAC_SHA1_80 master key and
// salt together, as SDES (RFC 4568) carries them: 16 + 14 bytes.
const SRTPKeyLen = 30

// srtpTagLen is the length of the HMAC-SHA1-80 authentication tag.
const srtpTagLen = 10

// SRTPKeys are the SDES keys of a call (RFC 4568), suite
// AES_CM_128_HMAC_SHA1_80: each side encrypts what it sends with its own
// master key and salt.
type SRTPKeys struct {
	Local  []byte // ours, SRTPKeyLen bytes: what we send is encrypted with it
	Remote []byte // the peer's, SRTPKeyLen bytes: what we receive is decrypted with it
}

// NewSRTPKey returns a fresh random master key and salt (SRTPKeyLen bytes).
func NewSRTPKey() []byte {
	k := make([]byte, SRTPKeyLen)
	rand.Read(k) // never fails (Go 1.24+: the program stops first)
	return k
}

var errSRTPKey = errors.New("media: SRTP keys must be 30 bytes (AES_CM_128_HMAC_SHA1_80 key and salt)")

// srtpSession encrypts what the pacer sends and decrypts what the receive
// pass reads, in reused buffers. tx is used by the send pass only, rx by
// the receive pass only.
type srtpSession struct {
	tx, rx *srtp.Context
	txHdr  rtp.Header
	rxHdr  rtp.Header
	out    []byte // encrypted packet
}

func newSRTPSession(k *SRTPKeys) (*srtpSession, error) {
	if len(k.Local) != SRTPKeyLen || len(k.Remote) != SRTPKeyLen {
		return nil, errSRTPKey
	}
	const p = srtp.ProtectionProfileAes128CmHmacSha1_80
	tx, err := srtp.CreateContext(k.Local[:16], k.Local[16:], p)
	if err != nil {
		return nil, fmt.Errorf("media: srtp: %w", err)
	}
	// Replay protection is left out: the jitter buffer drops a replayed
	// packet as a duplicate or late one, and pion's detector allocates
	// per packet.
	rx, err := srtp.CreateContext(k.Remote[:16], k.Remote[16:], p)
	if err != nil {
		return nil, fmt.Errorf("media: srtp: %w", err)
	}
	s := &srtpSession{tx: tx, rx: rx, out: make([]byte, 0, 12+maxPacket+srtpTagLen)}
	s.txHdr.CSRC = make([]uint32, 0, 15)
	s.txHdr.Extensions = make([]rtp.Extension, 0, 16)
	s.rxHdr.CSRC = make([]uint32, 0, 15)
	s.rxHdr.Extensions = make([]rtp.Extension, 0, 16)
	return s, nil
}

// encrypt returns the SRTP packet for the RTP packet p, in s.out.
func (s *srtpSession) encrypt(p []byte) ([]byte, error) {
	return s.tx.EncryptRTP(s.out[:0], p, &s.txHdr)
}

// decrypt authenticates and decrypts the SRTP packet b in place and returns
// the RTP packet.
func (s *srtpSession) decrypt(b []byte) ([]byte, error) {
	return s.rx.DecryptRTP(b, b, &s.rxHdr)
}
