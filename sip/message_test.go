package sip

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// phone is a sipgo UAS that takes MESSAGEs, optionally behind a digest
// challenge.
type phone struct {
	addr     string
	got      chan *sip.Request
	user     string
	password string
	status   int
}

func startPhone(t *testing.T, user, password string, status int) *phone {
	t.Helper()
	ph := &phone{got: make(chan *sip.Request, 4), user: user, password: password, status: status}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-phone"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		if ph.user != "" {
			h := req.GetHeader("Authorization")
			if h == nil {
				res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
				res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="test", nonce="n0nce", algorithm=MD5`))
				tx.Respond(res)
				return
			}
			if !ph.validAuth(h.Value(), req) {
				tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
				return
			}
		}
		ph.got <- req
		tx.Respond(sip.NewResponseFromRequest(req, ph.status, "Status", nil))
	})
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ph.addr = l.LocalAddr().String()
	go srv.ServeUDP(l)
	t.Cleanup(func() { l.Close(); ua.Close() })
	return ph
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// validAuth checks an RFC 2617 digest response (no qop).
func (ph *phone) validAuth(v string, req *sip.Request) bool {
	params := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(v, "Digest "), ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			params[k] = strings.Trim(val, `"`)
		}
	}
	ha1 := md5hex(ph.user + ":test:" + ph.password)
	ha2 := md5hex("MESSAGE:" + params["uri"])
	return params["username"] == ph.user && params["response"] == md5hex(ha1+":n0nce:"+ha2)
}

func newSender(t *testing.T) *Server {
	t.Helper()
	srv, err := NewServer(Config{Listen: "127.0.0.1:0", Transports: []string{"udp"}, RTPMin: 40200, RTPMax: 40300,
		Logger: slog.New(slog.DiscardHandler), Handler: HandlerFunc(func(context.Context, *Call) {}),
		Lines: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	serveTest(t, srv)
	return srv
}

func TestSendMessage(t *testing.T) {
	srv := newSender(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("delivered", func(t *testing.T) {
		ph := startPhone(t, "", "", 200)
		err := srv.SendMessage(ctx, "sip:alice@"+ph.addr, "URGENT — Ticket 2026-000001", DialOptions{FromUser: "astreinte", FromDisplay: "Astreinte"})
		if err != nil {
			t.Fatal(err)
		}
		req := <-ph.got
		if string(req.Body()) != "URGENT — Ticket 2026-000001" || !strings.HasPrefix(req.ContentType().Value(), "text/plain") {
			t.Errorf("body %q, type %v", req.Body(), req.ContentType())
		}
		if f := req.From(); f == nil || f.Address.User != "astreinte" || f.DisplayName != "Astreinte" {
			t.Errorf("From %v", req.From())
		}
		if to := req.To(); to == nil || to.Address.User != "alice" {
			t.Errorf("To %v", req.To())
		}
	})
	t.Run("digest challenge answered", func(t *testing.T) {
		ph := startPhone(t, "tech", "s3cret", 202)
		if err := srv.SendMessage(ctx, "sip:alice@"+ph.addr, "hello", DialOptions{Username: "tech", Password: "s3cret"}); err != nil {
			t.Fatal(err)
		}
		<-ph.got
	})
	t.Run("challenge without credentials", func(t *testing.T) {
		ph := startPhone(t, "tech", "s3cret", 200)
		err := srv.SendMessage(ctx, "sip:alice@"+ph.addr, "hello", DialOptions{})
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("want a 401 error, got %v", err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		ph := startPhone(t, "", "", 480)
		err := srv.SendMessage(ctx, "sip:alice@"+ph.addr, "hello", DialOptions{})
		if err == nil || !strings.Contains(err.Error(), "480") {
			t.Fatalf("want a 480 error, got %v", err)
		}
	})
	t.Run("bad URI", func(t *testing.T) {
		if err := srv.SendMessage(ctx, "not a uri", "hello", DialOptions{}); err == nil {
			t.Fatal("want an error")
		}
	})
}
