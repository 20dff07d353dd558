package sipcall

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/sip"
	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// The call-out against a real SIP phone: a sipgo user agent on loopback
// that answers (or not) and presses keys by SIP INFO, while astreinte's own
// sip.Server places the call and plays the real prompts.

// phone is a technician's phone.
type phone struct {
	addr   string
	status int                              // final answer to the INVITE
	script func(*sipgo.DialogServerSession) // run once answered
	ended  chan struct{}                    // closed when the call ended
}

func startPhone(t *testing.T, status int, script func(*sipgo.DialogServerSession)) *phone {
	t.Helper()
	ph := &phone{status: status, script: script, ended: make(chan struct{})}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-phone"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ph.addr = l.LocalAddr().String()
	host, port, _ := net.SplitHostPort(ph.addr)
	var p int
	fmt.Sscan(port, &p)
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	go func() { // the phone's speaker: read and drop
		buf := make([]byte, 1500)
		for {
			if _, _, err := rtp.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	dialogs := sipgo.NewDialogServerCache(client, gosip.ContactHeader{Address: gosip.Uri{User: "alice", Host: host, Port: p}})
	srv.OnInvite(func(req *gosip.Request, tx gosip.ServerTransaction) {
		d, err := dialogs.ReadInvite(req, tx)
		if err != nil {
			return
		}
		defer d.Close()
		if ph.status != 200 {
			d.Respond(ph.status, "Busy Here", nil)
			return
		}
		sdp := fmt.Sprintf("v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
			rtp.LocalAddr().(*net.UDPAddr).Port)
		if err := d.RespondSDP([]byte(sdp)); err != nil {
			return
		}
		go ph.script(d)
		<-d.Context().Done()
		close(ph.ended)
	})
	srv.OnAck(func(req *gosip.Request, tx gosip.ServerTransaction) { dialogs.ReadAck(req, tx) })
	srv.OnBye(func(req *gosip.Request, tx gosip.ServerTransaction) { dialogs.ReadBye(req, tx) })
	go srv.ServeUDP(l)
	t.Cleanup(func() { l.Close(); rtp.Close(); ua.Close() })
	return ph
}

// press sends keys by SIP INFO, wait apart.
func press(d *sipgo.DialogServerSession, wait time.Duration, keys ...string) {
	for _, k := range keys {
		time.Sleep(wait)
		req := gosip.NewRequest(gosip.INFO, d.InviteRequest.Contact().Address)
		req.AppendHeader(gosip.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody([]byte("Signal=" + k + "\r\nDuration=160\r\n"))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d.Do(ctx, req)
		cancel()
	}
}

// newNotifier is a call-out notifier on a real SIP server on loopback.
func newNotifier(t *testing.T) *Notifier {
	t.Helper()
	srv, err := sip.NewServer(sip.Config{Listen: "127.0.0.1:0", Transports: []string{"udp"}, RTPMin: 41000, RTPMax: 41200,
		Logger: slog.New(slog.DiscardHandler), Handler: sip.HandlerFunc(func(context.Context, *sip.Call) {}),
		Lines: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.ListenAndServe(ctx) }()
	<-srv.Ready()
	t.Cleanup(func() { cancel(); <-done })
	fr, err := audio.LoadPrompts("fr", "")
	if err != nil {
		t.Fatal(err)
	}
	return &Notifier{Dialer: srv, Prompts: map[string]*audio.Prompts{"fr": fr},
		Options: sip.DialOptions{RingTimeout: 3 * time.Second}, KeyTimeout: time.Second, MenuRepeats: 1,
		Log: slog.New(slog.DiscardHandler)}
}

func TestCallOut(t *testing.T) {
	n := newNotifier(t)
	notice := func(ph *phone) oncall.Notice {
		return oncall.Notice{
			Ticket: astreinte.Ticket{ID: 1, Number: "2026-000042", CallerNumber: "0612345678", Urgency: astreinte.Urgent},
			Person: oncall.Person{ID: "alice", Name: "Alice", SIP: "sip:alice@" + ph.addr, Language: "fr"},
		}
	}
	tests := []struct {
		name    string
		status  int
		script  func(*sipgo.DialogServerSession)
		acked   bool
		passed  bool
		errText string
	}{
		{name: "key 1 acknowledges", status: 200, script: func(d *sipgo.DialogServerSession) { press(d, 700*time.Millisecond, "1") }, acked: true},
		{name: "key 2 replays, then 1", status: 200, script: func(d *sipgo.DialogServerSession) { press(d, 700*time.Millisecond, "2", "1") }, acked: true},
		{name: "key 3 passes", status: 200, script: func(d *sipgo.DialogServerSession) { press(d, 700*time.Millisecond, "3") }, passed: true},
		{name: "other keys do not acknowledge", status: 200, script: func(d *sipgo.DialogServerSession) {
			press(d, 700*time.Millisecond, "5")
		}, errText: "key 1 not pressed: not an acknowledgement"},
		{name: "hang-up without a key", status: 200, script: func(d *sipgo.DialogServerSession) {
			time.Sleep(time.Second)
			d.Bye(context.Background())
		}, errText: "hung up without pressing a key"},
		{name: "busy", status: 486, errText: "busy: 486"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ph := startPhone(t, tt.status, tt.script)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			res, err := n.Notify(ctx, notice(ph))
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("want an error with %q, got %v (%+v)", tt.errText, err, res)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Acked != tt.acked || res.Passed != tt.passed {
				t.Fatalf("result %+v, want acked %v passed %v", res, tt.acked, tt.passed)
			}
			select {
			case <-ph.ended: // astreinte hung up after the confirmation
			case <-time.After(10 * time.Second):
				t.Error("the call was not ended after the confirmation")
			}
		})
	}
}

// A ringing phone stops ringing when the notice is stopped (acknowledged
// elsewhere): the call is cancelled, not left to ring out.
func TestCallOutStopsRinging(t *testing.T) {
	n := newNotifier(t)
	n.Options.RingTimeout = 30 * time.Second
	ringing := &ringingPhone{t: t}
	addr := ringing.start()
	stop := make(chan struct{})
	time.AfterFunc(500*time.Millisecond, func() { close(stop) })
	start := time.Now()
	_, err := n.Notify(context.Background(), oncall.Notice{
		Ticket: astreinte.Ticket{ID: 1, Number: "2026-000042"},
		Person: oncall.Person{ID: "alice", Name: "Alice", SIP: "sip:alice@" + addr},
		Stop:   stop,
	})
	if err == nil || !strings.Contains(err.Error(), "acknowledged elsewhere") {
		t.Fatalf("want a stop error, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopped after %s, want at once", d)
	}
	select {
	case <-ringing.cancelled:
	case <-time.After(5 * time.Second):
		t.Error("the phone got no CANCEL")
	}
}

// ringingPhone answers 180 and never picks up; it notes the CANCEL.
type ringingPhone struct {
	t         *testing.T
	cancelled chan struct{}
}

func (r *ringingPhone) start() string {
	r.cancelled = make(chan struct{})
	ua, err := sipgo.NewUA()
	if err != nil {
		r.t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		r.t.Fatal(err)
	}
	srv.OnInvite(func(req *gosip.Request, tx gosip.ServerTransaction) {
		var once sync.Once
		tx.OnCancel(func(*gosip.Request) { once.Do(func() { close(r.cancelled) }) })
		tx.Respond(gosip.NewResponseFromRequest(req, 180, "Ringing", nil))
		select {
		case <-r.cancelled:
			tx.Respond(gosip.NewResponseFromRequest(req, 487, "Request Terminated", nil))
		case <-tx.Done():
		case <-time.After(20 * time.Second):
		}
	})
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	go srv.ServeUDP(l)
	r.t.Cleanup(func() { l.Close(); ua.Close() })
	return l.LocalAddr().String()
}
