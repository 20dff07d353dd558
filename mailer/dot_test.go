package mailer

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net/textproto"
	"testing"
)

// TestDotWriter: the body as textproto's DotWriter would write it, in
// whatever pieces it comes.
func TestDotWriter(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ".\r\n"},
		{"CRLF lines", "a\r\nb\r\n", "a\r\nb\r\n.\r\n"},
		{"bare LF", "a\nb\n", "a\r\nb\r\n.\r\n"},
		{"no last line end", "a\r\nb", "a\r\nb\r\n.\r\n"},
		{"dots stuffed", ".\r\n..x\r\na.b\r\n.", "..\r\n...x\r\na.b\r\n..\r\n.\r\n"},
		{"dot after bare LF", "a\n.b", "a\r\n..b\r\n.\r\n"},
		{"blank lines", "\r\n\n\r\n", "\r\n\r\n\r\n.\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{1, 2, 3, 1 << 20} {
				var out bytes.Buffer
				bw := bufio.NewWriter(&out)
				d := &dotWriter{w: bw}
				for in := tt.in; len(in) > 0; {
					k := min(size, len(in))
					if n, err := d.Write([]byte(in[:k])); err != nil || n != k {
						t.Fatalf("Write = %d, %v", n, err)
					}
					in = in[k:]
				}
				if err := d.end(); err != nil {
					t.Fatal(err)
				}
				if out.String() != tt.want {
					t.Errorf("pieces of %d: %q, want %q", size, out.String(), tt.want)
				}
			}
		})
	}
}

// TestDotWriterAsTextproto: on random text of dots, CRs and LFs, the
// same bytes as textproto's DotWriter (which net/smtp uses).
func TestDotWriterAsTextproto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(".\r\nab")
	for range 2000 {
		in := make([]byte, r.IntN(40))
		for i := range in {
			in[i] = alphabet[r.IntN(len(alphabet))]
		}
		if len(in) == 0 || bytes.Contains(in, []byte("\r\r")) {
			// DotWriter ends an empty body with an empty line, and reads
			// CR CR LF its own way; no message is either.
			continue
		}
		var want bytes.Buffer
		tw := bufio.NewWriter(&want)
		dw := textproto.NewWriter(tw).DotWriter()
		dw.Write(in)
		dw.Close()
		tw.Flush()

		var got bytes.Buffer
		bw := bufio.NewWriter(&got)
		d := &dotWriter{w: bw}
		for p := in; len(p) > 0; {
			k := min(1+r.IntN(5), len(p))
			d.Write(p[:k])
			p = p[k:]
		}
		d.end()
		if got.String() != want.String() {
			t.Fatalf("%q: %q, textproto %q", in, got.String(), want.String())
		}
	}
}
