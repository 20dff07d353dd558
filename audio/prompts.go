package audio

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// embeddedPrompts holds the prompts made by prompts/generate.sh.
//
//go:embed prompts/fr/*.wav prompts/en/*.wav
var embeddedPrompts embed.FS

// Languages with an embedded prompt set, for LoadPrompts.
var languages = []string{"en", "fr"}

// Prompt names, the same in every language. The digits are "digit_0" to
// "digit_9"; Prompts.Number speaks them.
const (
	PromptGreetingClosed     = "greeting_closed"     // out of hours: urgent problems only
	PromptGreetingHoliday    = "greeting_holiday"    // public holiday or closure
	PromptGreetingOpen       = "greeting_open"       // in hours, everyone busy
	PromptMenuUrgency        = "menu_urgency"        // 1 urgent, 2 not
	PromptRecordInstructions = "record_instructions" // name, number, problem, then #
	PromptUrgencyAfter       = "urgency_after"       // after the message: is it urgent? 1
	PromptSpeakAfterBeep     = "speak_after_beep"    // a caller silent after the beep, before a second one
	PromptBeep               = "beep"                // 400 ms at 1 kHz
	PromptSavedTicket        = "saved_ticket"        // followed by the ticket number
	PromptSaved              = "saved"               // when there is no ticket number
	PromptUrgentCallback     = "urgent_callback"
	PromptNormalCallback     = "normal_callback"
	PromptNoMessage          = "no_message"
	PromptGoodbye            = "goodbye"
	PromptError              = "error"
	PromptDash               = "dash"        // '-' in Prompts.Number
	PromptPageIntro          = "page_intro"  // followed by the ticket number
	PromptPageFrom           = "page_from"   // followed by the caller's number
	PromptPageHidden         = "page_hidden" // instead of PromptPageFrom
	PromptPageMessage        = "page_message"
	PromptPageMenu           = "page_menu" // 1 acknowledge, 2 replay, 3 pass
	PromptPageAcked          = "page_acked"
	PromptPagePassed         = "page_passed"
	PromptPageNoMessage      = "page_no_message"
	PromptPageMessages       = "page_messages"      // several messages: the newest first
	PromptPageEarlier        = "page_earlier"       // before an earlier message
	PromptPageNewest         = "page_newest"        // before the newest, heard again
	PromptPageMenuMore       = "page_menu_more"     // 1 acknowledge, 2 the earlier message, 3 pass
	PromptPageMenuRestart    = "page_menu_restart"  // after the oldest: 2 from the newest again
	PromptPageAlreadyTaken   = "page_already_taken" // key 1 after someone else took the ticket

	PromptReopens         = "reopens"          // followed by a day and an hour
	PromptNobodyReachable = "nobody_reachable" // urgent, but nobody on call can be reached now
	PromptNobodyOnCall    = "nobody_on_call"   // urgent, but nobody is on the rota now
	PromptContractHours   = "contract_hours"   // urgent, but the caller's contract covers working hours only
	PromptCallbackBy      = "callback_by"      // followed by a date
	PromptMerged          = "merged"           // the call joined the caller's open ticket
	PromptCallbackEnter   = "callback_enter"   // type a number, then #
	PromptCallbackTyped   = "callback_typed"   // followed by the digits
	PromptCallbackConfirm = "callback_confirm" // 1 confirm, 2 correct
	PromptCallbackOther   = "callback_other"   // 2 for another number
	PromptCallbackInvalid = "callback_invalid"
	PromptToday           = "today"
	PromptTomorrow        = "tomorrow"

	PromptSensitiveRequests = "sensitive_requests"       // the first agreement's rule, after the message
	PromptSpaceLinkMailed   = "space_link_mailed"        // an identified customer: the acknowledgement with the space link is mailed
	PromptCustomerNumber    = "customer_number"          // type a customer number, then #
	PromptCustomerReadback  = "customer_number_readback" // followed by the digits
	PromptCustomerConfirm   = "customer_number_confirm"  // 1 confirm, 2 start again
	PromptCustomerUnknown   = "customer_unknown"
)

// digitPrompts names the prompt of each digit.
var digitPrompts = [10]string{
	"digit_0", "digit_1", "digit_2", "digit_3", "digit_4",
	"digit_5", "digit_6", "digit_7", "digit_8", "digit_9",
}

// promptNames lists every prompt name, sorted: each embedded set has exactly
// these, and an override must use one of them.
var promptNames = func() []string {
	names := []string{
		PromptGreetingClosed, PromptGreetingHoliday, PromptGreetingOpen,
		PromptMenuUrgency, PromptRecordInstructions, PromptUrgencyAfter, PromptSpeakAfterBeep, PromptBeep,
		PromptSavedTicket, PromptSaved, PromptUrgentCallback,
		PromptNormalCallback, PromptNoMessage, PromptGoodbye, PromptError,
		PromptDash, PromptPageIntro, PromptPageFrom, PromptPageHidden,
		PromptPageMessage, PromptPageMenu, PromptPageAcked, PromptPagePassed,
		PromptPageNoMessage,
		PromptPageMessages, PromptPageEarlier, PromptPageNewest, PromptPageMenuMore, PromptPageMenuRestart,
		PromptPageAlreadyTaken,
		PromptReopens, PromptNobodyReachable, PromptNobodyOnCall, PromptContractHours, PromptCallbackBy, PromptMerged,
		PromptCallbackEnter, PromptCallbackTyped, PromptCallbackConfirm,
		PromptCallbackOther, PromptCallbackInvalid, PromptToday, PromptTomorrow,
		PromptSensitiveRequests, PromptSpaceLinkMailed, PromptCustomerNumber, PromptCustomerReadback,
		PromptCustomerConfirm, PromptCustomerUnknown,
	}
	names = append(names, digitPrompts[:]...)
	names = append(names, datePrompts()...)
	slices.Sort(names)
	return names
}()

// digitGap is the pause Prompts.Number puts between digits.
const digitGap = 120 * time.Millisecond

// Errors returned by LoadPrompts, for errors.Is.
var (
	// ErrUnknownLanguage means there is no embedded prompt set for a language.
	ErrUnknownLanguage = errors.New("no prompts for language")
	// ErrUnknownPrompt means an override file's name is not a prompt name.
	ErrUnknownPrompt = errors.New("unknown prompt name")
)

// Prompts is one language's set of prompts: name → SampleRate mono audio.
// It is read-only once loaded and safe for concurrent use.
type Prompts struct {
	lang  string
	audio map[string][]int16
}

// LoadPrompts loads the embedded prompt set of lang ("fr" or "en"), then
// replaces prompts with the WAV files in overrideDir, if not "": each
// NAME.wav there replaces prompt NAME. Override files may have any rate, depth
// and channel count DecodeWAV reads. Every bad override is reported (one error
// per file, naming it and why); a name that is not a prompt's is an error too,
// listing the valid names, so a typo does not go unnoticed.
func LoadPrompts(lang string, overrideDir string) (*Prompts, error) {
	if !slices.Contains(languages, lang) {
		return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownLanguage, lang, strings.Join(languages, ", "))
	}
	p := &Prompts{lang: lang, audio: make(map[string][]int16, len(promptNames))}
	for _, name := range promptNames {
		path := "prompts/" + lang + "/" + name + ".wav"
		b, err := embeddedPrompts.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("embedded prompt %s: %w", path, err)
		}
		s, err := DecodeWAV(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("embedded prompt %s: %w", path, err)
		}
		p.audio[name] = s
	}
	if overrideDir != "" {
		if err := p.override(overrideDir); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// override replaces prompts with the WAV files in dir.
func (p *Prompts) override(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("prompt overrides: %w", err)
	}
	var errs []error
	for _, e := range entries {
		file := e.Name()
		if e.IsDir() || strings.HasPrefix(file, ".") {
			continue
		}
		path := filepath.Join(dir, file)
		ext := filepath.Ext(file)
		name := strings.TrimSuffix(file, ext)
		known := slices.Contains(promptNames, name)
		switch {
		case !strings.EqualFold(ext, ".wav"):
			if known { // greeting_closed.mp3: tell, rather than ignore it
				errs = append(errs, fmt.Errorf("prompt override %s: only .wav files are read, convert with: sox %s -r 8000 -c 1 -b 16 %s.wav", path, file, name))
			}
			continue
		case !known:
			errs = append(errs, fmt.Errorf("prompt override %s: %w %q, valid names: %s", path, ErrUnknownPrompt, name, strings.Join(promptNames, ", ")))
			continue
		}
		s, err := DecodeWAVFile(path)
		if err == nil && len(s) == 0 {
			err = errors.New("no audio")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("prompt override %s: %w", path, err))
			continue
		}
		p.audio[name] = s
	}
	return errors.Join(errs...)
}

// DecodeWAVFile decodes the WAV file at path with DecodeWAV.
func DecodeWAVFile(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeWAV(f)
}

// Get returns the prompt called name, or nil if there is none. The slice is
// shared: do not modify it.
func (p *Prompts) Get(name string) []int16 {
	return p.audio[name]
}

// Must returns the prompt called name and panics if there is none. Use it
// with the Prompt* constants: LoadPrompts guarantees they all exist.
func (p *Prompts) Must(name string) []int16 {
	s, ok := p.audio[name]
	if !ok {
		panic(fmt.Sprintf("voicemail: no prompt %q", name))
	}
	return s
}

// Lang returns the language of the set ("fr", "en").
func (p *Prompts) Lang() string { return p.lang }

// Names returns the names of the prompts in the set, sorted.
func (p *Prompts) Names() []string {
	names := make([]string, 0, len(p.audio))
	for name := range p.audio {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Number speaks digits one by one with a 120 ms pause between them, "dash"
// for '-', and skips any other character ('+', spaces, …). It returns nil if
// there is nothing to say.
func (p *Prompts) Number(digits string) []int16 {
	gap := SamplesIn(digitGap)
	n, parts := 0, 0
	for i := 0; i < len(digits); i++ {
		if s, ok := p.numberPart(digits[i]); ok {
			n += len(s)
			parts++
		}
	}
	if parts == 0 {
		return nil
	}
	out := make([]int16, 0, n+(parts-1)*gap) // zeroed: extending it adds silence
	first := true
	for i := 0; i < len(digits); i++ {
		s, ok := p.numberPart(digits[i])
		if !ok {
			continue
		}
		if !first {
			out = out[:len(out)+gap]
		}
		out = append(out, s...)
		first = false
	}
	return out
}

// groupGap is the pause Prompts.Grouped puts between groups of digits.
const groupGap = 450 * time.Millisecond

// GroupPause is the key NumberKeys gives for the pause between groups.
const GroupPause = ","

// Grouped speaks a number written in groups ("06 11 22 33 44") digit by
// digit, with a longer pause between the groups, as a person reads out
// what they write down. Characters other than digits, '-' and spaces are
// skipped.
func (p *Prompts) Grouped(written string) []int16 {
	var out []int16
	for i, g := range strings.Fields(written) {
		digits := p.Number(g)
		if len(digits) == 0 {
			continue
		}
		if i > 0 && len(out) > 0 {
			out = append(out, make([]int16, SamplesIn(groupGap))...)
		}
		out = append(out, digits...)
	}
	return out
}

// NumberKeys lists the prompts Grouped says for written, in order, with
// GroupPause between groups: what a page call's log shows of a number.
func NumberKeys(written string) []string {
	var keys []string
	for _, g := range strings.Fields(written) {
		var group []string
		for i := 0; i < len(g); i++ {
			switch c := g[i]; {
			case c >= '0' && c <= '9':
				group = append(group, digitPrompts[c-'0'])
			case c == '-':
				group = append(group, PromptDash)
			}
		}
		if len(group) == 0 {
			continue
		}
		if len(keys) > 0 {
			keys = append(keys, GroupPause)
		}
		keys = append(keys, group...)
	}
	return keys
}

// numberPart returns the prompt for one character of a number.
func (p *Prompts) numberPart(c byte) ([]int16, bool) {
	switch {
	case c >= '0' && c <= '9':
		return p.audio[digitPrompts[c-'0']], true
	case c == '-':
		return p.audio[PromptDash], true
	}
	return nil, false
}

// SpeakTicket speaks a ticket number by its short form: the digits after the
// last '-' without leading zeros, so "2026-000123" is "one two three". That is
// what a caller can write down, and what the technicians' search finds.
func (p *Prompts) SpeakTicket(number string) []int16 {
	return p.Number(ticketShortForm(number))
}

// ticketShortForm returns the digits of number after its last '-', without
// leading zeros ("0" if all are zeros); the digits of the whole number if
// there are none after the dash.
func ticketShortForm(number string) string {
	digitsOf := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	}
	d := digitsOf(number[strings.LastIndexByte(number, '-')+1:])
	if d == "" {
		return digitsOf(number)
	}
	if t := strings.TrimLeft(d, "0"); t != "" {
		return t
	}
	return "0"
}
