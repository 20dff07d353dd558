package oncall

import "github.com/astreinte/astreinte"

// The engine's stored state is defined in the root package (page.go), so
// that the store does not import the engine; these names are the same
// types, kept for the engine's readers.
type (
	ShiftOverride = astreinte.ShiftOverride
	PageState     = astreinte.PageState
	Page          = astreinte.Page
	SendState     = astreinte.SendState
	Send          = astreinte.Send
	Paged         = astreinte.Paged
)

// Page and send states, notices and markers (see the root package).
const (
	PageActive    = astreinte.PageActive
	PageAcked     = astreinte.PageAcked
	PageExhausted = astreinte.PageExhausted
	PageCancelled = astreinte.PageCancelled

	SendPending = astreinte.SendPending
	SendSending = astreinte.SendSending
	SendDone    = astreinte.SendDone
	SendFailed  = astreinte.SendFailed

	NoticePage         = astreinte.NoticePage
	NoticeExhausted    = astreinte.NoticeExhausted
	NoticeAcknowledged = astreinte.NoticeAcknowledged
	NoticeTaken        = astreinte.NoticeTaken

	StepTaken      = astreinte.StepTaken
	FallbackPrefix = astreinte.FallbackPrefix
)
