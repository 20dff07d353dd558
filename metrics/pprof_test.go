package metrics

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestListenPprof(t *testing.T) {
	t.Run("loopback serves the profiles", func(t *testing.T) {
		p, err := ListenPprof("127.0.0.1:0", false)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		res, err := http.Get("http://" + p.Addr().String() + "/debug/pprof/goroutine?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "goroutine profile: total") {
			t.Fatalf("status %d, body %.200q", res.StatusCode, b)
		}
	})
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0", "192.0.2.1:0", "example.com:0"} {
		t.Run("refused without public: "+addr, func(t *testing.T) {
			p, err := ListenPprof(addr, false)
			if !errors.Is(err, ErrPprofPublic) {
				if p != nil {
					p.Close()
				}
				t.Fatalf("ListenPprof(%q) = %v, want ErrPprofPublic", addr, err)
			}
		})
	}
	t.Run("public allows any address", func(t *testing.T) {
		p, err := ListenPprof("0.0.0.0:0", true)
		if err != nil {
			t.Fatal(err)
		}
		p.Close()
	})
	t.Run("bad address", func(t *testing.T) {
		if _, err := ListenPprof("nonsense", false); err == nil || errors.Is(err, ErrPprofPublic) {
			t.Fatalf("got %v, want an address error", err)
		}
	})
}
