package e2e

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/astreinte/astreinte/store/pgtest"
)

// Two nodes, one line: PostgreSQL shared, Kamailio (deploy/kamailio/, the
// shipped configuration) dispatching on 127.0.0.1 to node A on 127.0.0.2 and
// node B on 127.0.0.3, same SIP port, their own RTP ranges and data.

// frontKamailio runs deploy/kamailio/kamailio.cfg on 127.0.0.1:port with
// the nodes as its dispatcher set, OPTIONS every second.
func frontKamailio(t *testing.T, port int, nodes ...string) *proc {
	t.Helper()
	return frontKamailioWith(t, port, nil, nodes...)
}

// frontKamailioWith is frontKamailio with more -A settings (NAME=VALUE).
func frontKamailioWith(t *testing.T, port int, defines []string, nodes ...string) *proc {
	t.Helper()
	requirePeer(t, "kamailio")
	dir := filepath.Join(testDir(t), "kamailio")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var list strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&list, "1 sip:%s\n", n)
	}
	dslist := filepath.Join(dir, "dispatcher.list")
	writeFile(t, dslist, []byte(list.String()))
	cfg := filepath.Join(moduleRoot, "deploy", "kamailio", "kamailio.cfg")
	args := []string{"-f", cfg, "-DD", "-E", "-m", "32", "-M", "8",
		"-A", fmt.Sprintf("LISTEN=udp:127.0.0.1:%d", port), "-A", fmt.Sprintf("DSLIST=\"%s\"", dslist),
		"-A", "PING_INTERVAL=1", "-A", "FR_TIMER=1000"}
	for _, d := range defines {
		args = append(args, "-A", d)
	}
	p := startProc(t, 10*time.Minute, dir, "kamailio", syscall.SIGTERM, "kamailio", args...)
	k := &kamailio{t: t, cfg: kamailioConfig{Port: port}, p: p}
	if !k.waitAnswering(20 * time.Second) {
		t.Fatalf("kamailio does not answer on 127.0.0.1:%d:\n%s", port, tail(p.output(), 40))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("==== kamailio ====\n%s", tail(p.output(), 80))
		}
	})
	return p
}

// invite is a call the UAS received: when, from which host (the top Via of
// its INVITE).
type invite struct {
	at   time.Time
	from string
}

var sippStamp = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+`)

// invitesOf lists the calls the UAS received, in order (retransmissions
// counted once).
func invitesOf(u *sippUAS) []invite {
	b, _ := os.ReadFile(filepath.Join(u.dir, u.name+"_messages.log"))
	var out []invite
	seen := map[string]bool{}
	for _, block := range strings.Split(string(b), "\n-----") {
		if !strings.Contains(block, "message received") || !strings.Contains(block, "\nINVITE sip:") {
			continue
		}
		var inv invite
		var callID string
		if m := sippStamp.FindString(block); m != "" {
			inv.at, _ = time.ParseInLocation("2006-01-02 15:04:05.999999", m, time.Local)
		}
		for _, line := range strings.Split(block, "\n") {
			line = strings.TrimSpace(line)
			if v, ok := strings.CutPrefix(line, "Via: SIP/2.0/UDP "); ok && inv.from == "" {
				inv.from, _, _ = strings.Cut(v, ":")
			}
			if v, ok := strings.CutPrefix(line, "Call-ID:"); ok && callID == "" {
				callID = strings.TrimSpace(v)
			}
		}
		if !seen[callID] {
			seen[callID] = true
			out = append(out, inv)
		}
	}
	return out
}

// partBytes is the size of the recording being written under dataDir (a
// .part file), 0 if none.
func partBytes(dataDir string) int64 { return partBytesIn(filepath.Join(dataDir, "recordings")) }

// partBytesIn is the size of the biggest .part file under dir.
func partBytesIn(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".part") {
			if fi, err := d.Info(); err == nil && fi.Size() > n {
				n = fi.Size()
			}
		}
		return nil
	})
	return n
}

// ticketsOf returns the tickets of a caller's number.
func ticketsOf(s *service, caller string) []ticketRow {
	var out []ticketRow
	for _, tk := range s.tickets() {
		if strings.HasSuffix(tk.CallerNumber, caller[1:]) {
			out = append(out, tk)
		}
	}
	return out
}

// incomingCalls counts the calls a node's current process took.
func incomingCalls(s *service) int { return strings.Count(s.log(), `msg="incoming call"`) }

// TestTwoNodesBehindKamailio: a caller's message through Kamailio makes a
// ticket on the shared store and the technician's phone (SIPp) rings from
// one node; that node is killed (SIGKILL) while it rings and while another
// caller is mid-message on it: the other node rings the phone again within
// 10 s, once, and files the cut caller's ticket with the recording up to
// the kill within 10 s; the next call is answered by the survivor within
// 5 s; the killed node, restarted, takes calls again.
func TestTwoNodesBehindKamailio(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	pg := pgtest.Start(t)
	dsn := pg.Database(t)
	phone := startSIPpUAS(t, "uas_ringing.xml")
	port := freeSIPPort(t)
	node := func(name, ip string) *service {
		people := []tech{{"alice", "Alice Martin", fmt.Sprintf("sip:alice@127.0.0.1:%d", phone.port), ""}}
		tiers := []any{map[string]any{"name": "primary", "person": "alice", "delay": "10m"}}
		o := pagingOverrides(people, nil, tiers, nil, nil, "out_of_hours")
		o["paging"].(map[string]any)["sip"] = map[string]any{"enabled": true, "ring_timeout": "60s"}
		o["store"] = map[string]any{"driver": "postgres", "dsn": dsn}
		o["sip"] = map[string]any{"listen": fmt.Sprintf("%s:%d", ip, port)}
		dir := filepath.Join(testDir(t), name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return startAstreinteIn(t, dir, o)
	}
	nodes := map[string]*service{"127.0.0.2": node("A", "127.0.0.2"), "127.0.0.3": node("B", "127.0.0.3")}
	kport := freeSIPPort(t)
	frontKamailio(t, kport, fmt.Sprintf("127.0.0.2:%d", port), fmt.Sprintf("127.0.0.3:%d", port))
	front := *nodes["127.0.0.2"] // SIPp's target: Kamailio
	front.sipPort = kport

	leaveMessageSIPp(t, &front, "0611111111")
	took := map[string]int{}
	for ip, s := range nodes {
		took[ip] = incomingCalls(s)
	}
	if took["127.0.0.2"]+took["127.0.0.3"] != 1 {
		t.Fatalf("calls taken by the nodes: %v, want 1 in all", took)
	}
	calls, ok := poll(20*time.Second, func() []invite { return invitesOf(phone) }, func(s []invite) bool { return len(s) >= 1 })
	if !ok {
		t.Fatal("alice's phone was not called")
	}
	ringing := calls[0].from
	victim, survivor := nodes[ringing], nodes["127.0.0.2"]
	survivorIP := "127.0.0.2"
	if ringing == "127.0.0.2" {
		survivor, survivorIP = nodes["127.0.0.3"], "127.0.0.3"
	}
	if victim == nil {
		t.Fatalf("alice called from %s, not a node", ringing)
	}
	t.Logf("the call went to a node, alice is called by %s", ringing)

	// A caller mid-message on that node (called straight) when it dies:
	// killed 2 s after the beep, speaking since a second before it.
	const cutCaller = "0677777777"
	direct := *victim
	direct.sipHost, direct.sipPort = ringing, port
	cutCall := startSIPp(t, &direct, closedMessageScenario(t, "uac_message.xml", scenario{Caller: cutCaller}), sippOptions{})
	cutStart := time.Now()
	beepEnd := closedBeepEnd(t)
	if _, ok := poll(beepEnd+20*time.Second, func() int64 { return partBytes(victim.dataDir) },
		func(n int64) bool { return n >= int64((beepEnd+2*time.Second).Seconds()*16000) }); !ok {
		t.Fatalf("the caller's recording on %s did not reach 2 s after the beep; its log:\n%s", ringing, tail(victim.log(), 30))
	}
	t.Logf("killing %s %s into the cut caller's call", ringing, time.Since(cutStart).Round(100*time.Millisecond))

	victim.kill9()
	killed := time.Now()
	cutIn := time.Since(cutStart)
	// The nodes' data directories are their own: the victim's disk is
	// gone with it, as on another machine. The survivor has the
	// recording from the store's copy only.
	lost := filepath.Join(victim.dataDir, "recordings")
	if err := os.Rename(lost, lost+".lost"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(lost, 0o700); err != nil {
		t.Fatal(err)
	}
	calls, ok = poll(10*time.Second, func() []invite { return invitesOf(phone) }, func(s []invite) bool { return len(s) >= 2 })
	if !ok {
		t.Fatalf("alice's phone not called again within 10 s of the kill; survivor's log:\n%s", tail(survivor.log(), 30))
	}
	t.Logf("alice called again by %s %s after the kill", calls[1].from, time.Since(killed).Round(100*time.Millisecond))
	if calls[1].from != survivorIP {
		t.Errorf("second call to alice from %s, want the survivor %s", calls[1].from, survivorIP)
	}

	// The cut caller's ticket, filed by the survivor within 10 s of the
	// kill, with the recording up to it.
	cut, ok := poll(15*time.Second, func() []ticketRow { return ticketsOf(survivor, cutCaller) }, func(ts []ticketRow) bool { return len(ts) > 0 })
	filedIn := time.Since(killed)
	if !ok {
		t.Fatalf("no ticket for the cut caller; survivor's log:\n%s", tail(survivor.log(), 30))
	}
	t.Logf("the cut call's ticket %s filed %s after the kill: %d ms of recording, %s", cut[0].Number,
		filedIn.Round(100*time.Millisecond), cut[0].DurationMS, cut[0].Recording)
	if filedIn > 10*time.Second {
		t.Errorf("the cut call's ticket came %s after the kill, want within 10 s", filedIn)
	}
	if len(cut) != 1 {
		t.Errorf("%d tickets for the cut caller, want 1: %+v", len(cut), cut)
	}
	if d := time.Duration(cut[0].DurationMS) * time.Millisecond; d < beepEnd+1500*time.Millisecond || d > cutIn+time.Second {
		t.Errorf("the cut call's recording lasts %s, want what was recorded up to the kill (%s after the call was placed, beep at %s)", d, cutIn, beepEnd)
	}
	if fileExists(cut[0].Recording) {
		t.Errorf("the cut call's recording %s is on this disk: the test does not show the store's copy", cut[0].Recording)
	}
	out, err := survivor.cli("tickets", "show", cut[0].Number)
	if err != nil || !strings.Contains(out, "call cut: node") || !strings.Contains(out, "recovered by another node from the store's copy") ||
		!strings.Contains(out, "voicemail") {
		t.Errorf("tickets show %s (%v):\n%s\nwant a voicemail whose timeline says the call was cut, its recording from the store", cut[0].Number, err, out)
	}
	// The survivor's web serves it (rebuilt from the store), as long as
	// the ticket says.
	tok, err := exec.Command(astreinteBin, "tokens", "add", "helpdesk", "--config", survivor.cfgPath).Output()
	token := strings.TrimSpace(string(tok))
	if err != nil || !strings.HasPrefix(token, "ast_") {
		t.Fatalf("tokens add: %v %q", err, tok)
	}
	req, _ := http.NewRequest("GET", survivor.httpBase()+"/api/tickets/"+cut[0].Number+"/recording", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else {
		wav, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ms := int64(len(wav)-44) / 16
		t.Logf("the survivor serves the cut call's recording from the store: %d, %d bytes (%d ms); the victim's file had %d ms at the kill",
			resp.StatusCode, len(wav), ms, (partBytesIn(lost+".lost")-44)/16)
		if resp.StatusCode != 200 || !strings.HasPrefix(string(wav), "RIFF") || ms != cut[0].DurationMS {
			t.Errorf("GET the cut call's recording on the survivor: %d, %d bytes; want the WAV of %d ms", resp.StatusCode, len(wav), cut[0].DurationMS)
		}
		if lostMS := (partBytesIn(lost+".lost")-44)/16 - ms; lostMS > 1000 {
			t.Errorf("the store's copy lacks %d ms of what the victim's file had: want at most a second lost", lostMS)
		}
	}
	for _, c := range survivor.calls() {
		if strings.HasSuffix(c.CallerNumber, cutCaller[1:]) && (c.Outcome != "cut" || c.HangupBy != "node_lost" || !c.TicketID.Valid) {
			t.Errorf("the cut call's row: %+v, want outcome cut, hangup by node_lost, its ticket", c)
		}
	}
	cutCall.p.stop(syscall.SIGTERM, 5*time.Second)

	// The next caller: answered by the survivor within 5 s, though the
	// dispatcher may try the dead node first.
	before := incomingCalls(survivor)
	caller := startSIPp(t, &front, closedMessageScenario(t, "uac_message.xml", scenario{Caller: "0622222222"}), sippOptions{})
	start := time.Now()
	if _, ok := poll(5*time.Second, func() int { return incomingCalls(survivor) }, func(n int) bool { return n > before }); !ok {
		t.Fatalf("the survivor did not take the next call within 5 s; kamailio routed it elsewhere")
	}
	t.Logf("next call reached the survivor %s after it was placed", time.Since(start).Round(10*time.Millisecond))
	if code := caller.wait(60 * time.Second); code != 0 {
		t.Errorf("the call after the kill: SIPp status %d", code)
	}
	// Once: while the survivor's call rings (30 s), nothing else calls
	// alice; the second ticket's page waits for it to end.
	var during []invite
	for _, c := range invitesOf(phone)[1:] {
		if c.at.Before(killed.Add(25 * time.Second)) {
			during = append(during, c)
		}
	}
	if len(during) != 1 {
		t.Errorf("alice called %d times in the 25 s after the kill, want once: %+v", len(during), during)
	}

	// The killed node comes back: the dispatcher takes it back at its
	// first OPTIONS answer, and round robin gives it one of two calls.
	victim.restart()
	// Kamailio takes it back at its first answer to OPTIONS (every 1 s):
	// of the calls that follow, round robin gives it one of two.
	before = incomingCalls(victim)
	placed := 0
	for _, who := range []string{"0633333333", "0644444444", "0655555555"} {
		leaveMessageSIPp(t, &front, who)
		placed++
		if incomingCalls(victim) > before {
			break
		}
	}
	if incomingCalls(victim) <= before {
		t.Errorf("the restarted node took none of %d calls", placed)
	}
	tks, _ := poll(10*time.Second, survivor.tickets, func(ts []ticketRow) bool { return len(ts) >= 3+placed })
	if len(tks) != 3+placed { // with the cut call's
		t.Errorf("%d tickets in the shared store, want %d: %+v", len(tks), 3+placed, tks)
	}
	for i, tk := range tks {
		if want := fmt.Sprintf("2026-%06d", i+1); tk.Number != want {
			t.Errorf("ticket %d numbered %s, want %s", i+1, tk.Number, want)
		}
	}
}
