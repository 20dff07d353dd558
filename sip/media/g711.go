package media

import (
	"math/bits"
	"strconv"
)

// Codec is the static RTP payload type of a G.711 codec (RFC 3551).
type Codec uint8

// The G.711 codecs, by their static RTP payload type.
const (
	PCMU Codec = 0 // G.711 µ-law
	PCMA Codec = 8 // G.711 A-law
)

// String returns the SDP encoding name of c: "PCMU" or "PCMA".
func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return "Codec(" + strconv.Itoa(int(c)) + ")"
}

// valid reports whether c is a codec this package can encode.
func (c Codec) valid() bool { return c == PCMU || c == PCMA }

// silence returns the code of a zero sample in c.
func (c Codec) silence() byte {
	if c == PCMA {
		return 0xD5
	}
	return 0xFF
}

// The algorithms below follow the ITU-T G.191 Software Tool Library
// (g711.c: ulaw_compress, ulaw_expand, alaw_compress, alaw_expand), which is
// the reference implementation of G.711: a 16-bit sample is cut to 14 bits
// (µ-law) or 13 bits (A-law), negative values are taken as their one's
// complement, and decoding returns the middle of the quantisation interval.

// UlawEncode compresses a 16-bit linear sample to a G.711 µ-law code.
func UlawEncode(s int16) byte {
	x := int32(s)
	mag := x
	if x < 0 {
		mag = ^x
	}
	mag = mag>>2 + 33 // 14-bit magnitude plus the µ-law bias
	if mag > 0x1FFF {
		mag = 0x1FFF
	}
	seg := bits.Len32(uint32(mag>>6)) + 1 // 1..8
	code := byte(8-seg)<<4 | byte(0xF-(mag>>seg)&0xF)
	if x >= 0 {
		code |= 0x80
	}
	return code
}

// UlawDecode expands a G.711 µ-law code to a 16-bit linear sample.
func UlawDecode(b byte) int16 { return ulawTable[b] }

// AlawEncode compresses a 16-bit linear sample to a G.711 A-law code.
func AlawEncode(s int16) byte {
	x := int32(s)
	mag := x
	if x < 0 {
		mag = ^x
	}
	mag >>= 4 // 12-bit magnitude
	if mag > 15 {
		exp := bits.Len32(uint32(mag >> 4)) // 1..7
		mag = int32(exp)<<4 | (mag>>(exp-1))&0xF
	}
	code := byte(mag)
	if x >= 0 {
		code |= 0x80
	}
	return code ^ 0x55 // even bits inverted
}

// AlawDecode expands a G.711 A-law code to a 16-bit linear sample.
func AlawDecode(b byte) int16 { return alawTable[b] }

// Encode compresses src into dst with codec c; dst must hold len(src) bytes.
// It panics if c is neither PCMU nor PCMA, like an index out of range.
func Encode(c Codec, dst []byte, src []int16) {
	dst = dst[:len(src)]
	switch c {
	case PCMU:
		for i, s := range src {
			dst[i] = UlawEncode(s)
		}
	case PCMA:
		for i, s := range src {
			dst[i] = AlawEncode(s)
		}
	default:
		panic("media: Encode with unsupported codec " + c.String())
	}
}

// Decode expands src into dst with codec c; dst must hold len(src) samples.
// It panics if c is neither PCMU nor PCMA, like an index out of range.
func Decode(c Codec, dst []int16, src []byte) {
	decode(c.decodeTable(), dst, src)
}

// decodeTable is the 16-bit sample of each code of c. It panics if c is
// neither PCMU nor PCMA.
func (c Codec) decodeTable() *[256]int16 {
	switch c {
	case PCMU:
		return &ulawTable
	case PCMA:
		return &alawTable
	default:
		panic("media: Decode with unsupported codec " + c.String())
	}
}

var ulawTable, alawTable = expandTables()

func expandTables() (ulaw, alaw [256]int16) {
	for i := range 256 {
		b := byte(i)
		ulaw[i] = ulawExpand(b)
		alaw[i] = alawExpand(b)
	}
	return ulaw, alaw
}

func ulawExpand(b byte) int16 {
	m := ^b
	exp := int32(m>>4) & 7
	mant := int32(m & 0xF)
	step := int32(4) << (exp + 1)
	v := 0x80<<exp + step*mant + step/2 - 4*33
	if b < 0x80 {
		v = -v
	}
	return int16(v)
}

func alawExpand(b byte) int16 {
	ix := (b ^ 0x55) & 0x7F
	exp := int32(ix >> 4)
	mant := int32(ix & 0xF)
	if exp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if exp > 1 {
		mant <<= exp - 1
	}
	if b < 0x80 {
		mant = -mant
	}
	return int16(mant)
}
