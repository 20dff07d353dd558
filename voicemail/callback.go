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
// they are asked to type one, it is read back and confirmed with # (or no
// key) or typed again with 2: key 1 stays "urgent" on every question but
// the typing itself. A caller who hangs up keeps what they typed, if it is
// a number.
func (s *session) callbackNumber() (string, bool) {
	callerID, known := phone.Callable(s.from.User, s.line.Region)
	if !s.up() {
		return callerID, false
	}
	if known {
		k, err := s.ask(step{name: audio.PromptCallbackOther, parts: [][]int16{s.p.Must(audio.PromptCallbackOther)}, keys: "2", wait: otherWait})
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
		k, err := s.ask(step{name: audio.PromptCallbackConfirm, keys: "#2", wait: confirmWait,
			parts: [][]int16{s.p.Must(audio.PromptCallbackTyped), s.p.Number(typed), audio.Silence(200 * time.Millisecond), s.p.Must(audio.PromptCallbackConfirm)}})
		if k == '2' && err == nil {
			continue
		}
		// #, no key or a hang-up after hearing it: the number stands.
		return n, true
	}
	return callerID, false
}

// digitKeys are the keys of a number being typed.
const digitKeys = "0123456789*#"

// typeDigits asks for a number with prompt and collects the digits until
// #, a pause or maxDigits; it waits first for the first digit. The
// caller's voice while they type (the recording keeps it) is no key.
func (s *session) typeDigits(prompt string, first time.Duration) (string, error) {
	k, err := s.ask(step{name: prompt, parts: [][]int16{s.p.Must(prompt)}, keys: digitKeys, wait: first})
	if err != nil || k == 0 {
		return "", err
	}
	var digits []byte
	for len(digits) < maxDigits {
		if k == 0 {
			if k, err = s.nextDigit(); err != nil {
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
		k = 0
	}
	return string(digits), nil
}

// nextDigit waits nextKeyWait for the next key of a number; 0: none.
func (s *session) nextDigit() (rune, error) {
	deadline := time.Now().Add(nextKeyWait)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return 0, nil
		}
		k, err := s.pl.WaitKey(left)
		if k != audio.Speech || err != nil {
			return k, err
		}
	}
}
