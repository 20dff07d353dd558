// Package media carries the audio of one call: RTP over UDP (pion/rtp),
// G.711 µ-law and A-law, RFC 4733 telephone events, paced sending and a
// recording path that puts caller audio back in timestamp order.
//
// A Session owns one UDP socket and exactly two goroutines: a reader that
// latches onto the peer's source address (symmetric RTP), reorders audio in a
// fixed ring buffer, fills gaps with silence and hands the result to a
// SampleWriter, and a writer that sends one 20 ms frame per tick of a
// time.Ticker, prompt audio when Play has queued some and silence otherwise.
// Neither path allocates per packet: each reuses one rtp.Packet and one
// buffer.
//
// PortRange hands out the even RTP ports of a configured range.
package media
