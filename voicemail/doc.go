// Package voicemail is the caller's side of astreinte: it answers a call on a
// support line, asks the calendar whether support is open, plays a short
// greeting (cut short by any key or the caller's voice), lets the caller say
// whether the problem is urgent, records the callback message to WAV, asks
// for a number to call back when the caller ID is none, and turns it into a
// ticket — or a missed call into a callback ticket — telling the caller only
// what will happen. Nothing the caller said is lost: the caller is recorded
// from the answer, the recording is written in chunks with a metadata
// sidecar, closed on every way a call can end, and repaired at start-up
// after a crash.
package voicemail
