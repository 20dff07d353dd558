package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/astreinte/astreinte/sip/media"
	"github.com/pion/sdp/v3"
)

// Errors from SDP negotiation.
var (
	// ErrNoCommonCodec means the offer has no PCMU or PCMA audio stream (488).
	ErrNoCommonCodec = errors.New("sdp: no common codec (we support PCMU and PCMA)")
	// ErrBadSDP means the body could not be parsed as SDP (400).
	ErrBadSDP = errors.New("sdp: malformed")
	// ErrNoCommonCrypto means the offer asks for SRTP (RTP/SAVP) with no
	// a=crypto line we support (488); it is also an ErrNoCommonCodec.
	ErrNoCommonCrypto = fmt.Errorf("%w: no common SRTP crypto suite (we support SDES %s)", ErrNoCommonCodec, cryptoSuite)
)

// Direction is an SDP media direction attribute.
type Direction string

// Media directions (RFC 3264 section 6.1).
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// answerDirection is the direction we answer with for an offered one.
func (d Direction) answer() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// Media is the outcome of an offer/answer exchange: what we send and where.
type Media struct {
	Remote    netip.AddrPort // where the peer wants RTP (zero when on hold with 0.0.0.0)
	Codec     media.Codec
	DTMFType  uint8         // telephone-event payload type, 0 if not offered
	Direction Direction     // the peer's direction
	Ptime     int           // the peer's ptime, 0 if absent
	Offered   []media.Codec // every G.711 codec the peer listed, in its order
	Proto     string        // the m= line's transport: RTP/AVP, RTP/SAVP…
	Crypto    *Crypto       // the SDES key the peer sends with; nil for plain RTP
}

// Secure reports whether the media is SRTP.
func (m Media) Secure() bool { return m.Crypto != nil }

// Held reports whether the peer put the call on hold (RFC 3264 section 8.4).
func (m Media) Held() bool {
	return m.Direction == SendOnly || m.Direction == Inactive || !m.Remote.Addr().IsValid() || m.Remote.Addr().IsUnspecified()
}

// parseSDP negotiates a received offer or answer: the first audio stream
// with a non-zero port carrying PCMU or PCMA, in the peer's order of preference.
func parseSDP(body []byte) (Media, error) {
	if len(body) == 0 {
		return Media{}, fmt.Errorf("%w: empty body", ErrBadSDP)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return Media{}, fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	sessionAddr := connAddr(sd.ConnectionInformation)
	sessionDir := directionOf(sd.Attributes, SendRecv)
	noCrypto := false // an SRTP stream was skipped for its crypto
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		proto := strings.Join(md.MediaName.Protos, "/")
		if !hasRTPProto(proto) {
			continue
		}
		m := Media{Direction: directionOf(md.Attributes, sessionDir), Proto: proto}
		m.Crypto = pickCrypto(md.Attributes)
		if m.Crypto == nil && isSecureProto(proto) {
			noCrypto = true
			continue
		}
		addr := sessionAddr
		if a := connAddr(md.ConnectionInformation); a.IsValid() {
			addr = a
		}
		port := md.MediaName.Port.Value
		if port <= 0 || port > 65535 {
			return Media{}, fmt.Errorf("%w: audio port %d", ErrBadSDP, port)
		}
		if addr.IsValid() {
			m.Remote = netip.AddrPortFrom(addr, uint16(port))
		}
		rtpmaps := map[int]string{}
		for _, a := range md.Attributes {
			switch a.Key {
			case "rtpmap":
				pt, enc, ok := strings.Cut(a.Value, " ")
				if n, err := strconv.Atoi(pt); ok && err == nil {
					rtpmaps[n] = strings.ToLower(enc)
				}
			case "ptime":
				m.Ptime, _ = strconv.Atoi(strings.TrimSpace(a.Value))
			}
		}
		found := false
		for _, f := range md.MediaName.Formats {
			pt, err := strconv.Atoi(f)
			if err != nil || pt < 0 || pt > 127 {
				continue
			}
			enc, mapped := rtpmaps[pt]
			switch {
			case pt == 0 && !mapped || strings.HasPrefix(enc, "pcmu/8000"):
				m.Offered = append(m.Offered, media.PCMU)
				if !found {
					m.Codec, found = media.PCMU, true
				}
			case pt == 8 && !mapped || strings.HasPrefix(enc, "pcma/8000"):
				m.Offered = append(m.Offered, media.PCMA)
				if !found {
					m.Codec, found = media.PCMA, true
				}
			case strings.HasPrefix(enc, "telephone-event/8000") && m.DTMFType == 0:
				m.DTMFType = uint8(pt)
			}
		}
		if !found {
			continue
		}
		return m, nil
	}
	if noCrypto {
		return Media{}, ErrNoCommonCrypto
	}
	return Media{}, ErrNoCommonCodec
}

func hasRTPProto(p string) bool {
	return p == "RTP/AVP" || p == "RTP/AVPF" || isSecureProto(p)
}

func connAddr(c *sdp.ConnectionInformation) netip.Addr {
	if c == nil || c.Address == nil {
		return netip.Addr{}
	}
	host, _, _ := strings.Cut(c.Address.Address, "/")
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a
}

func directionOf(attrs []sdp.Attribute, def Direction) Direction {
	for _, a := range attrs {
		switch Direction(a.Key) {
		case SendRecv, SendOnly, RecvOnly, Inactive:
			return Direction(a.Key)
		}
	}
	return def
}

var sdpSession atomic.Uint64

func init() { sdpSession.Store(uint64(time.Now().Unix())) }

// localSDP describes our side of a call; Version increases when it changes.
type localSDP struct {
	SessionID uint64
	Version   uint64
	Addr      netip.Addr // advertised media address
	Port      uint16
	key       []byte // our SRTP master key and salt, made at the first SRTP answer
}

func newLocalSDP(addr netip.Addr, port uint16) *localSDP {
	id := sdpSession.Add(1)
	return &localSDP{SessionID: id, Version: id, Addr: addr, Port: port}
}

// offer is our SDP offer: PCMU, PCMA and telephone-event 101, plain RTP.
func (l *localSDP) offer(dir Direction) []byte {
	return l.build([]media.Codec{media.PCMU, media.PCMA}, 101, dir, "RTP/AVP", nil)
}

// answer is our SDP answer to a negotiated offer: the chosen codec and the
// offer's telephone-event payload type, direction mirrored; for an offer
// with SDES crypto, the same transport and our own key under its tag.
func (l *localSDP) answer(m Media) []byte {
	proto := "RTP/AVP"
	var c *Crypto
	if m.Crypto != nil {
		proto = m.Proto
		c = &Crypto{Tag: m.Crypto.Tag, Key: l.srtpKey()}
	}
	return l.build([]media.Codec{m.Codec}, m.DTMFType, m.Direction.answer(), proto, c)
}

func (l *localSDP) build(codecs []media.Codec, dtmf uint8, dir Direction, proto string, c *Crypto) []byte {
	ipv := "IP4"
	if l.Addr.Is6() && !l.Addr.Is4In6() {
		ipv = "IP6"
	}
	addr := l.Addr.Unmap().String()
	var b strings.Builder
	b.Grow(256)
	fmt.Fprintf(&b, "v=0\r\no=astreinte %d %d IN %s %s\r\ns=astreinte\r\nc=IN %s %s\r\nt=0 0\r\n",
		l.SessionID, l.Version, ipv, addr, ipv, addr)
	fmt.Fprintf(&b, "m=audio %d %s", l.Port, proto)
	for _, c := range codecs {
		fmt.Fprintf(&b, " %d", uint8(c))
	}
	if dtmf != 0 {
		fmt.Fprintf(&b, " %d", dtmf)
	}
	b.WriteString("\r\n")
	for _, c := range codecs {
		fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", uint8(c), c)
	}
	if dtmf != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", dtmf, dtmf)
	}
	if c != nil {
		b.WriteString(c.attribute())
	}
	fmt.Fprintf(&b, "a=ptime:20\r\na=%s\r\n", dir)
	return []byte(b.String())
}
