package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// baresip is a baresip user agent driven over ctrl_tcp: its microphone is a
// WAV file, what it hears is dumped by the sndfile module.
type baresip struct {
	t      testing.TB
	p      *proc
	dir    string
	snd    string // where sndfile writes dump-*-dec.wav (heard) and -enc.wav (said)
	user   string
	port   int // its SIP port on 127.0.0.1
	conn   net.Conn
	events chan bsEvent
	mu     sync.Mutex
	seen   []bsEvent
}

// bsEvent is one message from ctrl_tcp: an event or a command's response.
type bsEvent struct {
	Event    bool   `json:"event"`
	Response bool   `json:"response"`
	Type     string `json:"type"`
	Class    string `json:"class"`
	Param    string `json:"param"`
	OK       bool   `json:"ok"`
	Data     string `json:"data"`
	at       time.Time
}

// startBaresip starts baresip as sip:user@127.0.0.1 with mic (an 8 kHz mono
// WAV, long enough for the whole call: baresip hangs up when it ends).
// accountParams are added to its account line (e.g. "mediaenc=srtp-mand").
func startBaresip(t testing.TB, user, mic string, accountParams ...string) *baresip {
	t.Helper()
	return startBaresipConfig(t, user, mic, nil, accountParams...)
}

// startBaresipConfig is startBaresip with more lines for baresip's config
// file (e.g. sip_cafile for calls over TLS).
func startBaresipConfig(t testing.TB, user, mic string, extraConfig []string, accountParams ...string) *baresip {
	t.Helper()
	requirePeer(t, "baresip")
	dir := filepath.Join(testDir(t), "baresip-"+user)
	snd := filepath.Join(dir, "snd")
	if err := os.MkdirAll(snd, 0o755); err != nil {
		t.Fatal(err)
	}
	ctrl := freeTCPPort(t)
	sipPort := takePorts(t, 2, 1, true) // baresip also listens for SIP/TLS on the next port
	lo, hi := rtpRange(t)
	cfg := strings.Join([]string{
		"poll_method poll",
		fmt.Sprintf("sip_listen 127.0.0.1:%d", sipPort),
		"net_interface 127.0.0.1",
		"audio_source aufile," + mic,
		"audio_srate 8000",
		"audio_channels 1",
		fmt.Sprintf("rtp_ports %d-%d", lo, hi),
		"module_path /usr/lib/baresip/modules",
		"module g711.so",
		"module aufile.so",
		"module sndfile.so",
		"module srtp.so", // before account.so: for accounts with mediaenc=srtp…
		"module account.so",
		"module menu.so",
		"module ctrl_tcp.so",
		"snd_path " + snd,
		fmt.Sprintf("ctrl_tcp_listen 127.0.0.1:%d", ctrl),
	}, "\n") + "\n" + strings.Join(append(extraConfig, ""), "\n")
	writeFile(t, filepath.Join(dir, "config"), []byte(cfg))
	writeFile(t, filepath.Join(dir, "accounts"), []byte(fmt.Sprintf("<sip:%s@127.0.0.1>;regint=0;audio_codecs=PCMU,PCMA%s\n", user, accountSuffix(accountParams))))
	writeFile(t, filepath.Join(dir, "contacts"), nil)

	b := &baresip{t: t, dir: dir, snd: snd, user: user, port: sipPort, events: make(chan bsEvent, 256)}
	// -t: quit on its own after 3 minutes whatever happens.
	b.p = startProc(t, 4*time.Minute, dir, "baresip", syscall.SIGTERM, "baresip", "-f", dir, "-t", "180")
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ctrl), time.Second)
		if err == nil {
			b.conn = c
			break
		}
		if !b.p.running() || time.Now().After(deadline) {
			t.Fatalf("baresip ctrl_tcp not reachable: %v\n%s", err, b.p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() {
		if b.p.running() {
			_ = b.command("quit", "")
			b.p.wait(3 * time.Second)
		}
		b.conn.Close()
		if t.Failed() {
			t.Logf("==== baresip output ====\n%s", tail(b.p.output(), 80))
			t.Logf("==== baresip events ====\n%s", b.history())
		}
	})
	go b.read()
	return b
}

// read decodes ctrl_tcp's netstrings ("len:json,") into events.
func (b *baresip) read() {
	r := bufio.NewReader(b.conn)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			close(b.events)
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenStr, ":")))
		if err != nil || n < 0 || n > 1<<20 {
			close(b.events)
			return
		}
		buf := make([]byte, n+1)
		if _, err := io.ReadFull(r, buf); err != nil {
			close(b.events)
			return
		}
		var ev bsEvent
		if err := json.Unmarshal(buf[:n], &ev); err != nil {
			continue
		}
		ev.at = time.Now()
		b.mu.Lock()
		b.seen = append(b.seen, ev)
		b.mu.Unlock()
		select {
		case b.events <- ev:
		default: // nobody waiting for this many: keep it in history only
		}
	}
}

// command sends a ctrl_tcp command, e.g. ("dial", "sip:…") or
// ("sndcode", "1") which sends the key as RFC 4733 events.
func (b *baresip) command(cmd, params string) error {
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": cmd})
	_ = b.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := fmt.Fprintf(b.conn, "%d:%s,", len(msg), msg)
	return err
}

// waitEvent waits for an event of type typ (CALL_ESTABLISHED, CALL_CLOSED…).
func (b *baresip) waitEvent(typ string, d time.Duration) (bsEvent, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-b.events:
			if !ok {
				return bsEvent{}, false
			}
			if ev.Event && ev.Type == typ {
				return ev, true
			}
		case <-timer.C:
			return bsEvent{}, false
		}
	}
}

func (b *baresip) history() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sb strings.Builder
	for _, ev := range b.seen {
		if ev.Event {
			fmt.Fprintf(&sb, "%s event %s %s\n", ev.at.Format("15:04:05.000"), ev.Type, ev.Param)
		} else {
			fmt.Fprintf(&sb, "%s response ok=%v %q\n", ev.at.Format("15:04:05.000"), ev.OK, tail(ev.Data, 3))
		}
	}
	return sb.String()
}

// quit asks baresip to exit (so that sndfile closes its dumps) and waits.
func (b *baresip) quit() {
	if !b.p.running() {
		return
	}
	_ = b.command("quit", "")
	if _, ok := b.p.wait(10 * time.Second); !ok {
		b.p.stop(syscall.SIGTERM, 5*time.Second)
	}
}

// heard returns what baresip decoded from astreinte (its sndfile dump).
func (b *baresip) heard() []int16 {
	b.t.Helper()
	m, _ := filepath.Glob(filepath.Join(b.snd, "dump-*-dec.wav"))
	if len(m) != 1 {
		b.t.Fatalf("want one dump-*-dec.wav in %s, have %v", b.snd, m)
	}
	return readWAV8k(b.t, m[0])
}

// heardSoFar is how much audio baresip has received during the call: the
// size of its decoder dump, which sndfile writes as packets arrive. It is
// the caller's own clock of astreinte's prompts, late or not.
func (b *baresip) heardSoFar() time.Duration {
	m, _ := filepath.Glob(filepath.Join(b.snd, "dump-*-dec.wav"))
	if len(m) != 1 {
		return 0
	}
	fi, err := os.Stat(m[0])
	if err != nil || fi.Size() <= 44 {
		return 0
	}
	return durationOf(int(fi.Size()-44) / 2)
}

// waitHeard waits until baresip has heard d of audio.
func (b *baresip) waitHeard(d, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b.heardSoFar() >= d {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func accountSuffix(params []string) string {
	if len(params) == 0 {
		return ""
	}
	return ";" + strings.Join(params, ";")
}

// urgentMessage plays a caller on an established call: once it has heard
// keyAt of audio it presses 1 (urgent: the rest of the prompts is cut
// short), waits for the beep, speaks two patterns, presses # and waits for
// astreinte to end the call. It returns when the beep came and the event
// that closed the call.
func (b *baresip) urgentMessage(t testing.TB, rec *recordingWatch, keyAt time.Duration) (beepAt time.Time, closed bsEvent) {
	t.Helper()
	if !b.waitHeard(keyAt, keyAt+20*time.Second) {
		t.Fatalf("baresip heard only %s of audio, want %s before pressing 1", b.heardSoFar(), keyAt)
	}
	if err := b.command("sndcode", "1"); err != nil {
		t.Fatalf("sndcode 1: %v", err)
	}
	beepAt, ok := rec.wait(30 * time.Second)
	if !ok {
		t.Fatal("no beep after the caller pressed 1")
	}
	sleepUntil(beepAt.Add(2*patternLen + 500*time.Millisecond))
	if err := b.command("sndcode", "#"); err != nil {
		t.Fatalf("sndcode #: %v", err)
	}
	closed, ok = b.waitEvent("CALL_CLOSED", 60*time.Second)
	if !ok {
		t.Fatal("astreinte did not end the call within 60s of #")
	}
	return beepAt, closed
}
