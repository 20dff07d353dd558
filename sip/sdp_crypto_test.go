package sip

import (
	"strings"
	"testing"

	"github.com/astreinte/astreinte/sip/media"
)

// FuzzParseCrypto: any a=crypto value either is refused or gives a key of
// the right length whose attribute parses back to the same tag and key.
func FuzzParseCrypto(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + testKey)
	f.Add("2 AES_CM_128_HMAC_SHA1_80 inline:" + testKey + "|2^20|1:4")
	f.Add("3 AES_CM_128_HMAC_SHA1_80 inline:" + strings.TrimRight(testKey, "=") + ";inline:" + testKey)
	f.Add("9 AES_256_CM_HMAC_SHA1_80 inline:" + testKey + testKey)
	f.Add("x AES_CM_128_HMAC_SHA1_80 inline:")
	f.Fuzz(func(t *testing.T, v string) {
		c, ok := parseCrypto(v)
		if !ok {
			return
		}
		if len(c.Key) != media.SRTPKeyLen {
			t.Fatalf("%q: key of %d bytes", v, len(c.Key))
		}
		line := strings.TrimSuffix(strings.TrimPrefix(c.attribute(), "a=crypto:"), "\r\n")
		back, ok := parseCrypto(line)
		if !ok || back.Tag != c.Tag || !sameCrypto(back, c) {
			t.Fatalf("%q: attribute %q does not parse back", v, line)
		}
	})
}
