package sip

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/astreinte/astreinte/sip/media"
	"github.com/pion/sdp/v3"
)

// cryptoSuite is the one SDES crypto suite we speak (RFC 4568 section 6.2).
const cryptoSuite = "AES_CM_128_HMAC_SHA1_80"

// Crypto is one SDES a=crypto attribute (RFC 4568): a tag and the master key
// and salt the side that wrote it encrypts with.
type Crypto struct {
	Tag int
	Key []byte // media.SRTPKeyLen bytes
}

func isSecureProto(p string) bool { return p == "RTP/SAVP" || p == "RTP/SAVPF" }

// pickCrypto returns the first a=crypto attribute of a media description
// that we support: suite AES_CM_128_HMAC_SHA1_80, one inline key of 30
// bytes, no MKI, no session parameters (RFC 4568 section 6.3: a line with a
// parameter we do not understand is not usable). nil when there is none.
func pickCrypto(attrs []sdp.Attribute) *Crypto {
	for _, a := range attrs {
		if a.Key != "crypto" {
			continue
		}
		if c, ok := parseCrypto(a.Value); ok {
			return c
		}
	}
	return nil
}

// parseCrypto parses "1 AES_CM_128_HMAC_SHA1_80 inline:KEY[|lifetime]".
func parseCrypto(v string) (*Crypto, bool) {
	f := strings.Fields(v)
	if len(f) != 3 || f[1] != cryptoSuite {
		return nil, false
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return nil, false
	}
	params, ok := strings.CutPrefix(f[2], "inline:")
	if !ok || strings.Contains(params, ";") { // one key only
		return nil, false
	}
	keyB64, rest, _ := strings.Cut(params, "|")
	if strings.Contains(rest, ":") { // an MKI (|1:4, or after the lifetime)
		return nil, false
	}
	key, err := base64.StdEncoding.DecodeString(keyB64)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(keyB64)
	}
	if err != nil || len(key) != media.SRTPKeyLen {
		return nil, false
	}
	return &Crypto{Tag: tag, Key: key}, true
}

// attribute is the a=crypto line for c, with CRLF.
func (c *Crypto) attribute() string {
	return fmt.Sprintf("a=crypto:%d %s inline:%s\r\n", c.Tag, cryptoSuite, base64.StdEncoding.EncodeToString(c.Key))
}

// srtpKey returns our SRTP key for the call, made once: a re-INVITE is
// answered with the same key, since the media session keeps it.
func (l *localSDP) srtpKey() []byte {
	if l.key == nil {
		l.key = media.NewSRTPKey()
	}
	return l.key
}

// sameCrypto reports whether a new offer keeps the SRTP state of the media
// running: both plain, or the peer's key unchanged.
func sameCrypto(a, b *Crypto) bool {
	if a == nil || b == nil {
		return a == b
	}
	return string(a.Key) == string(b.Key)
}

// srtpRequired reports whether line takes only SRTP calls.
func (s *Server) srtpRequired(line string) bool {
	return s.cfg.SRTPRequired != nil && s.cfg.SRTPRequired(line)
}

// srtpKeys returns the media session's SRTP keys for a negotiated media:
// nil for plain RTP. An SRTP answer to our plain offer is refused.
func (c *Call) srtpKeys(neg Media) (*media.SRTPKeys, error) {
	if neg.Crypto == nil {
		return nil, nil
	}
	if c.local.key == nil {
		return nil, errors.New("sip: SRTP answer to a plain RTP offer")
	}
	return &media.SRTPKeys{Local: c.local.key, Remote: neg.Crypto.Key}, nil
}
