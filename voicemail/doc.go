// Package voicemail is the caller's side of astreinte: it answers a call on a
// support line, asks the calendar whether support is open, plays the
// greeting, lets the caller say whether the problem is urgent, records the
// callback message to WAV and turns it into a ticket. Nothing the caller said
// is lost: the recording is written in chunks with a metadata sidecar, closed
// on every way a call can end, and repaired at start-up after a crash.
package voicemail
