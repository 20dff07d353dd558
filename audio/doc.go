// Package audio is what callers and technicians hear: the embedded prompt
// sets (French and English) with their per-line overrides, a Player that
// plays them on a call and reads its keys, and the audio plumbing they need
// (WAV decoding of any common format to 8 kHz mono int16, resampling,
// silence and concatenation). The caller's flow (voicemail) and the pager's
// call-out (oncall/notify/sipcall) both use it.
package audio
