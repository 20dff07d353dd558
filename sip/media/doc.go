// Package media carries the audio of calls: RTP over UDP (pion/rtp), G.711
// µ-law and A-law, RFC 4733 telephone events, SRTP with SDES keys
// (pion/srtp, AES_CM_128_HMAC_SHA1_80), paced sending and a recording path
// that puts caller audio back in timestamp order.
//
// A Session owns one UDP socket but no goroutine: a shared engine serves
// every call (engine.go). Per CPU, one pacer goroutine sends the next 20 ms
// frame of each of its calls on one shared time.Ticker (prompt audio when
// Play or Start queued some, silence otherwise), and one receiver goroutine
// drains each of its calls' sockets every 100 ms with recvmmsg(2): it latches
// onto the peer's source address (symmetric RTP), reorders audio in a fixed
// ring, fills gaps with silence and hands the result to a SampleWriter. The
// sockets are taken out of the Go runtime's poller, so a packet arriving
// wakes nothing; the cost per call is the syscalls and the copies.
// Neither path allocates per packet: each reuses one rtp.Packet and buffers.
//
// PortRange hands out the even RTP ports of a configured range.
package media
