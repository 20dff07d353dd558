package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors returned by Verify.
var (
	// ErrBadSignature means the signature is missing, malformed or does
	// not match the body: the request is not from us or was altered.
	ErrBadSignature = errors.New("webhook signature mismatch")
	// ErrStaleTimestamp means the timestamp is malformed or too far from
	// now: possibly a replayed request.
	ErrStaleTimestamp = errors.New("webhook timestamp out of tolerance")
)

// Sign returns the X-Astreinte-Signature value for a body sent at
// timestamp (unix seconds, as in X-Astreinte-Timestamp):
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a received webhook: signature is the X-Astreinte-Signature
// header, timestamp the X-Astreinte-Timestamp header, body the raw request
// body. It returns an error wrapping ErrBadSignature when the signature
// does not match (constant-time comparison), or ErrStaleTimestamp when the
// timestamp is more than tolerance away from now (tolerance 0 skips the
// check; 5 minutes is a good value).
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no secret to verify with", ErrBadSignature)
	}
	hexSig, ok := strings.CutPrefix(signature, "sha256=")
	if !ok {
		return fmt.Errorf("%w: want \"sha256=<hex>\"", ErrBadSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: malformed hex", ErrBadSignature)
	}
	want, _ := hex.DecodeString(strings.TrimPrefix(Sign(secret, timestamp, body), "sha256="))
	if !hmac.Equal(got, want) {
		return ErrBadSignature
	}
	if tolerance > 0 {
		ts, err := strconv.ParseInt(timestamp, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: malformed timestamp %q", ErrStaleTimestamp, timestamp)
		}
		if d := now.Sub(time.Unix(ts, 0)).Abs(); d > tolerance {
			return fmt.Errorf("%w: %s off", ErrStaleTimestamp, d.Round(time.Second))
		}
	}
	return nil
}
