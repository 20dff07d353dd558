// Package sip is astreinte's SIP user agent, built on emiago/sipgo: it listens
// for calls to the configured support lines, negotiates G.711 media with
// RFC 3264 offer/answer, runs each call on its own goroutine and hands it to a
// Handler (shaped like net/http.Handler), and places outbound calls for
// paging. It is the only package that imports sipgo; media lives in sip/media.
package sip
