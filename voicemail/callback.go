package voicemail

import (
	"time"

	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/phone"
)

// Keying a callback number in.
const (
	firstKeyWait = 8 * time.Second // for the first digit
	nextKeyWait  = 4 * time.Second // between digits: this long ends the number
	confirmWait  = 5 * time.Second // for 1 or 2 after the read-back
	otherWait    = 3 * time.Second // for 2 after "press 2 for another number"
	maxDigits    = 16
	numberTries  = 3
)

// callbackNumber returns the number to call the caller back on, in E.164,
// and whether they typed it. With a caller ID that is a phone number, the
// caller may press 2 to give another; with none (hidden, not a number)
// they are asked to type one, it is read back and confirmed with 1 or
// typed again with 2. A caller who hangs up keeps what they typed, if it
// is a number.
func (s *session) callbackNumber() (string, bool) {
	callerID, known := phone.Callable(s.from.User, s.line.Region)
	if !s.up() {
		return callerID, false
	}
	if known {
		k, err := s.pl.Play(true, s.p.Must(audio.PromptCallbackOther))
		if err == nil && k == 0 {
			k, err = s.pl.WaitKey(otherWait)
		}
		if err != nil || k != '2' {
			return callerID, false
		}
	}
	for range numberTries {
		typed, err := s.typeDigits(audio.PromptCallbackEnter, firstKeyWait)
		n, ok := phone.Callable(typed, s.line.Region)
		if err != nil { // hung up: keep a number typed in full
			if ok {
				return n, true
			}
			return callerID, false
		}
		if typed == "" { // nothing typed: the caller does not want to
			return callerID, false
		}
		if !ok {
			s.log.Info("callback number not valid", "typed", typed)
			if _, err := s.pl.Play(false, s.p.Must(audio.PromptCallbackInvalid)); err != nil {
				return callerID, false
			}
			continue
		}
		k, err := s.pl.Play(true, s.p.Must(audio.PromptCallbackTyped), s.p.Number(typed), audio.Silence(200*time.Millisecond),
			s.p.Must(audio.PromptCallbackConfirm))
		if err == nil && k == 0 {
			k, err = s.pl.WaitKey(confirmWait)
		}
		if k == '2' && err == nil {
			continue
		}
		// 1, no key or a hang-up after hearing it: the number stands.
		return n, true
	}
	return callerID, false
}

// typeDigits asks for a number with prompt and collects the digits until
// #, a pause or maxDigits; it waits first for the first digit.
func (s *session) typeDigits(prompt string, first time.Duration) (string, error) {
	k, err := s.pl.Play(true, s.p.Must(prompt))
	if err != nil {
		return "", err
	}
	var digits []byte
	wait := first
	for len(digits) < maxDigits {
		if k == 0 {
			k, err = s.pl.WaitKey(wait)
			if err != nil {
				return string(digits), err
			}
		}
		switch {
		case k == 0 || k == '#':
			return string(digits), nil
		case k >= '0' && k <= '9':
			digits = append(digits, byte(k))
		case k == '*': // start again
			digits = digits[:0]
		}
		k, wait = 0, nextKeyWait
	}
	return string(digits), nil
}
