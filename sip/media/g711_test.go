package media

import (
	"fmt"
	"testing"
)

// Reference implementations transcribed literally from the ITU-T G.191
// Software Tool Library (g711.c), loops and all, to check the bit-twiddled
// versions over the whole int16 range.

func stlUlawCompress(x int16) byte {
	var absno int32
	if x < 0 {
		absno = int32(^x)>>2 + 33
	} else {
		absno = int32(x)>>2 + 33
	}
	if absno > 0x1FFF {
		absno = 0x1FFF
	}
	i := absno >> 6
	segno := int32(1)
	for i != 0 {
		segno++
		i >>= 1
	}
	high := 0x8 - segno
	low := 0xF - (absno>>segno)&0xF
	out := byte(high<<4 | low)
	if x >= 0 {
		out |= 0x80
	}
	return out
}

func stlAlawCompress(x int16) byte {
	var ix int32
	if x < 0 {
		ix = int32(^x) >> 4
	} else {
		ix = int32(x) >> 4
	}
	if ix > 15 {
		iexp := int32(1)
		for ix > 16+15 {
			ix >>= 1
			iexp++
		}
		ix -= 16
		ix += iexp << 4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return byte(ix) ^ 0x55
}

func TestG711MatchesSTL(t *testing.T) {
	for x := -32768; x <= 32767; x++ {
		s := int16(x)
		if got, want := UlawEncode(s), stlUlawCompress(s); got != want {
			t.Fatalf("UlawEncode(%d) = %#02x, STL %#02x", s, got, want)
		}
		if got, want := AlawEncode(s), stlAlawCompress(s); got != want {
			t.Fatalf("AlawEncode(%d) = %#02x, STL %#02x", s, got, want)
		}
	}
}

func TestUlawReference(t *testing.T) {
	// Encoder values from the decision values of G.711 table 2a scaled to
	// 16 bits (x4: segment edges 124, 380, 892, ..., 16252), negative inputs
	// taken as their one's complement as in G.191; decoder values are the
	// classic ulaw2linear table.
	encode := []struct {
		in   int16
		want byte
	}{
		{0, 0xFF}, {-1, 0x7F}, {3, 0xFF}, {4, 0xFE}, {11, 0xFE}, {12, 0xFD},
		{-4, 0x7F}, {-5, 0x7E}, {100, 0xF2}, {-100, 0x73}, {1000, 0xCE}, {-1000, 0x4E},
		{8031, 0xA0}, {8158, 0x9F}, {32124, 0x80}, {32767, 0x80}, {-32768, 0x00},
	}
	for _, tc := range encode {
		t.Run(fmt.Sprintf("encode %d", tc.in), func(t *testing.T) {
			if got := UlawEncode(tc.in); got != tc.want {
				t.Errorf("UlawEncode(%d) = %#02x, want %#02x", tc.in, got, tc.want)
			}
		})
	}
	decode := []struct {
		in   byte
		want int16
	}{
		{0x00, -32124}, {0x01, -31100}, {0x0F, -16764}, {0x10, -15996}, {0x70, -120},
		{0x7E, -8}, {0x7F, 0}, {0x80, 32124}, {0x8F, 16764}, {0xF0, 120}, {0xFE, 8}, {0xFF, 0},
	}
	for _, tc := range decode {
		t.Run(fmt.Sprintf("decode %#02x", tc.in), func(t *testing.T) {
			if got := UlawDecode(tc.in); got != tc.want {
				t.Errorf("UlawDecode(%#02x) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestAlawReference(t *testing.T) {
	// Decision values of G.711 table 1a scaled to 16 bits (x16: segment
	// edges 256, 512, 1024, ..., 16384); decoder values are alaw2linear.
	encode := []struct {
		in   int16
		want byte
	}{
		{0, 0xD5}, {-1, 0x55}, {15, 0xD5}, {16, 0xD4}, {-16, 0x55}, {-17, 0x54},
		{1000, 0xFA}, {-1000, 0x7A}, {32256, 0xAA}, {32767, 0xAA}, {-32768, 0x2A},
	}
	for _, tc := range encode {
		t.Run(fmt.Sprintf("encode %d", tc.in), func(t *testing.T) {
			if got := AlawEncode(tc.in); got != tc.want {
				t.Errorf("AlawEncode(%d) = %#02x, want %#02x", tc.in, got, tc.want)
			}
		})
	}
	decode := []struct {
		in   byte
		want int16
	}{
		{0x00, -5504}, {0x01, -5248}, {0x02, -6016}, {0x03, -5760}, {0x2A, -32256},
		{0x55, -8}, {0x54, -24}, {0x80, 5504}, {0xAA, 32256}, {0xD5, 8}, {0xD4, 24},
	}
	for _, tc := range decode {
		t.Run(fmt.Sprintf("decode %#02x", tc.in), func(t *testing.T) {
			if got := AlawDecode(tc.in); got != tc.want {
				t.Errorf("AlawDecode(%#02x) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestG711RoundTrip(t *testing.T) {
	codecs := []struct {
		name   string
		enc    func(int16) byte
		dec    func(byte) int16
		step   func(byte) int32 // quantisation step of a code, in 16-bit units
		maxAbs int32            // largest decodable magnitude
	}{
		{"PCMU", UlawEncode, UlawDecode, func(b byte) int32 { return 8 << (^b >> 4 & 7) }, 32124},
		{"PCMA", AlawEncode, AlawDecode, func(b byte) int32 { return 16 << max(int((b^0x55)>>4&7)-1, 0) }, 32256},
	}
	for _, c := range codecs {
		t.Run(c.name+" codes", func(t *testing.T) {
			for i := range 256 {
				b := byte(i)
				if c.name == "PCMU" && b == 0x7F { // negative zero encodes as 0xFF
					continue
				}
				if got := c.enc(c.dec(b)); got != b {
					t.Errorf("encode(decode(%#02x)) = %#02x", b, got)
				}
			}
		})
		t.Run(c.name+" error", func(t *testing.T) {
			prev := int16(-32768)
			for x := int32(-32768); x <= 32767; x++ {
				b := c.enc(int16(x))
				y := int32(c.dec(b))
				if y < int32(prev) {
					t.Fatalf("not monotonic at %d: %d after %d", x, y, prev)
				}
				prev = int16(y)
				if max(x, -x) > c.maxAbs { // clipped to the largest level
					if y != c.maxAbs && y != -c.maxAbs || (y < 0) != (x < 0) {
						t.Fatalf("decode(encode(%d)) = %d, want ±%d", x, y, c.maxAbs)
					}
					continue
				}
				// The decoder returns the middle of the interval; one more
				// for negative inputs, taken as their one's complement.
				if d, bound := max(x-y, y-x), c.step(b)/2+1; d > bound {
					t.Fatalf("decode(encode(%d)) = %d: error %d > %d", x, y, d, bound)
				}
			}
		})
	}
}

func TestEncodeDecode(t *testing.T) {
	src := []int16{0, 1, -1, 1000, -1000, 32767, -32768, 12345}
	for _, c := range []Codec{PCMU, PCMA} {
		t.Run(c.String(), func(t *testing.T) {
			enc := make([]byte, len(src))
			Encode(c, enc, src)
			dec := make([]int16, len(src))
			Decode(c, dec, enc)
			for i, x := range src {
				wantB, wantS := UlawEncode(x), UlawDecode(UlawEncode(x))
				if c == PCMA {
					wantB, wantS = AlawEncode(x), AlawDecode(AlawEncode(x))
				}
				if enc[i] != wantB || dec[i] != wantS {
					t.Errorf("%d: got %#02x/%d, want %#02x/%d", x, enc[i], dec[i], wantB, wantS)
				}
			}
		})
	}
}

func TestCodecString(t *testing.T) {
	for c, want := range map[Codec]string{PCMU: "PCMU", PCMA: "PCMA", 3: "Codec(3)"} {
		if got := c.String(); got != want {
			t.Errorf("Codec(%d).String() = %q, want %q", c, got, want)
		}
	}
}
