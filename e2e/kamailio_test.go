package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// Trunks: astreinte registers with a real registrar (Debian's Kamailio,
// registrar + usrloc + digest auth against a plain-text account), and a
// caller reaches the support line through it, the way a carrier delivers a
// DID: Kamailio sends the INVITE to astreinte's registered contact, the
// number in To and in P-Called-Party-ID.

// kamailioConfig fills testdata/kamailio.cfg.
type kamailioConfig struct {
	Port       int
	User       string
	Password   string
	Algorithm  string // MD5 or SHA-256
	MaxExpires int
	DID        string
	TechNumber string // optional: a number the account may call out to…
	TechPort   int    // …relayed to 127.0.0.1:TechPort
}

// kamailio is one Kamailio process.
type kamailio struct {
	t    testing.TB
	cfg  kamailioConfig
	path string
	p    *proc
	runs int
}

// did is the support number as the carrier routes it (international
// digits, no +); the line lists it nationally (0493918009).
const did = "33493918009"

// startKamailio renders the configuration and starts Kamailio in the
// foreground, returning once it answers on its port.
func startKamailio(t testing.TB, cfg kamailioConfig) *kamailio {
	t.Helper()
	requirePeer(t, "kamailio")
	tpl, err := template.ParseFiles(filepath.Join("testdata", "kamailio.cfg"))
	if err != nil {
		t.Fatalf("kamailio config: %v", err)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, cfg); err != nil {
		t.Fatalf("kamailio config: %v", err)
	}
	k := &kamailio{t: t, cfg: cfg, path: filepath.Join(testDir(t), "kamailio.cfg")}
	writeFile(t, k.path, b.Bytes())
	k.start()
	return k
}

// start runs Kamailio (again) on its port and waits until it answers.
func (k *kamailio) start() {
	t := k.t
	t.Helper()
	label := "kamailio"
	if k.runs > 0 {
		label = fmt.Sprintf("kamailio-%d", k.runs)
	}
	k.runs++
	// -DD: foreground, -E: log to stderr; small memory pools.
	k.p = startProc(t, 10*time.Minute, testDir(t), label, syscall.SIGTERM, "kamailio", "-f", k.path, "-DD", "-E", "-m", "32", "-M", "8")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("==== %s log ====\n%s", label, tail(k.p.output(), 80))
		}
	})
	if !k.waitAnswering(20 * time.Second) {
		t.Fatalf("kamailio does not answer on 127.0.0.1:%d:\n%s", k.cfg.Port, tail(k.p.output(), 40))
	}
}

// stop ends Kamailio (SIGTERM: its main process takes its children down,
// which SIGKILL would leave holding the port); its registrations, kept in
// memory only, are lost.
func (k *kamailio) stop() {
	if code := k.p.stop(syscall.SIGTERM, 10*time.Second); code != 0 && code != -1 {
		k.t.Logf("kamailio exited with status %d", code)
	}
}

// waitAnswering sends OPTIONS until Kamailio answers anything.
func (k *kamailio) waitAnswering(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !k.p.running() {
			return false
		}
		if k.answers() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func (k *kamailio) answers() bool {
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", k.cfg.Port))
	if err != nil {
		return false
	}
	defer c.Close()
	local := c.LocalAddr().String()
	msg := fmt.Sprintf("OPTIONS sip:probe@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d\r\n"+
		"From: <sip:probe@%s>;tag=p\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: probe-%d\r\nCSeq: 1 OPTIONS\r\n"+
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", k.cfg.Port, local, time.Now().UnixNano(), local, time.Now().UnixNano())
	if _, err := c.Write([]byte(msg)); err != nil {
		return false
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	// Kamailio's own answer (Server: kamailio …), not another program's
	// that took the port while it was down.
	return err == nil && bytes.HasPrefix(buf[:n], []byte("SIP/2.0 ")) && bytes.Contains(bytes.ToLower(buf[:n]), []byte("server: kamailio"))
}

// trunkOverrides configures astreinte's line for the DID (written the
// national way) and its registration with k over transport.
func trunkOverrides(k *kamailio, transport string) map[string]any {
	return map[string]any{
		"line": map[string]any{"numbers": []any{"support", "0493918009"}},
		"trunks": map[string]any{
			"region":        "FR",
			"called_header": "P-Called-Party-ID",
			"register": []any{map[string]any{
				"name": "carrier", "host": "127.0.0.1", "port": k.cfg.Port, "transport": transport,
				"username": k.cfg.User, "password": k.cfg.Password,
				"expiry": "60s", "retry_min": "500ms", "retry_max": "2s",
			}},
		},
	}
}

// statusJSON is what `astreinte status --json` prints (the fields the
// tests read).
type statusJSON struct {
	Registrations []struct {
		Trunk     string    `json:"trunk"`
		Status    string    `json:"status"`
		Since     time.Time `json:"since"`
		LastError string    `json:"last_error"`
		Granted   int64     `json:"granted"` // ns
		Expires   time.Time `json:"expires"`
	} `json:"registrations"`
	Calls []struct {
		Line     string `json:"line"`
		From     string `json:"from"`
		To       string `json:"to"`
		Answered bool   `json:"answered"`
	} `json:"calls"`
}

// status runs `astreinte status --json`.
func (s *service) status() (statusJSON, error) {
	var st statusJSON
	out, err := s.cli("status", "--json")
	if jerr := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &st); jerr != nil {
		return st, fmt.Errorf("status --json (exit %v): %v\n%s", err, jerr, out)
	}
	return st, nil
}

// waitRegistration polls the status until the trunk's registration passes
// ok, for at most d.
func (s *service) waitRegistration(d time.Duration, ok func(status string, expires time.Time) bool) (statusJSON, bool) {
	return poll(d, func() statusJSON {
		st, err := s.status()
		if err != nil {
			s.t.Log(err)
		}
		return st
	}, func(st statusJSON) bool {
		return len(st.Registrations) == 1 && ok(st.Registrations[0].Status, st.Registrations[0].Expires)
	})
}

func registered(status string, _ time.Time) bool { return status == "registered" }

// viaTrunk is svc as a SIPp caller should reach it: through Kamailio.
func viaTrunk(svc *service, k *kamailio) *service {
	v := *svc
	v.sipPort = k.cfg.Port
	return &v
}

// TestTrunkCallThroughKamailio_SIPp: astreinte registers with Kamailio
// (SHA-256 digest, RFC 8760), which grants 10 s of the 60 s asked; a SIPp
// caller dials the DID at Kamailio, which sends the INVITE to astreinte's
// registered contact. The call reaches the line by its number (E.164:
// +33493918009 in P-Called-Party-ID, 0493918009 in the configuration), the
// caller hears the closed greeting and the menu, leaves a message that
// becomes a ticket; `astreinte status` during the call shows the
// registration and the call in progress.
func TestTrunkCallThroughKamailio_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	requirePeer(t, "tshark")
	k := startKamailio(t, kamailioConfig{Port: freeSIPPort(t), User: "astreinte-e2e", Password: "Tr0nc-" + fmt.Sprint(time.Now().UnixNano()%100000),
		Algorithm: "SHA-256", MaxExpires: 10, DID: did})
	svc := startAstreinte(t, trunkOverrides(k, "udp"))
	st, ok := svc.waitRegistration(20*time.Second, registered)
	if !ok {
		t.Fatalf("not registered with kamailio within 20s: %+v", st)
	}
	if g := time.Duration(st.Registrations[0].Granted); g != 10*time.Second {
		t.Errorf("granted %s, want the registrar's 10s (60s asked)", g)
	}
	// The registration is in the metrics, and astreinte is ready.
	if m := svc.metrics(); m[`astreinte_trunk_registrations{state="registered",trunk="carrier"}`] != 1 {
		t.Errorf("metrics lack the registered trunk: %v", filterMetrics(m, "astreinte_trunk_registrations"))
	}
	if code, body := svc.get("/readyz"); code != 200 {
		t.Errorf("/readyz while registered: %d %s", code, body)
	}

	rec := svc.watchRecording()
	beepEnd := closedBeepEnd(t)
	sc := closedMessageScenario(t, "uac_message.xml", scenario{Caller: "0611111111"})
	capt := startCapture(t, fmt.Sprintf("udp and src host 127.0.0.1 and src portrange %d-%d", svc.rtpLo, svc.rtpHi))
	invite := time.Now()
	caller := startSIPp(t, viaTrunk(svc, k), sc, sippOptions{service: did})

	// During the call: the registration and one call in progress.
	text, ok := poll(30*time.Second, func() string {
		out, _ := svc.cli("status")
		return out
	}, func(out string) bool {
		return strings.Contains(out, "Calls in progress: 1") && strings.Contains(out, "answered")
	})
	if !ok {
		t.Errorf("astreinte status never showed the call in progress:\n%s", text)
	}
	for _, want := range []string{"carrier", "registered", "astreinte-e2e", "support", "0611111111", "+33493918009"} {
		if !strings.Contains(text, want) {
			t.Errorf("astreinte status during the call lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "registered  ") && !regexp.MustCompile(`10s +([1-9]|10)s `).MatchString(text) {
		t.Errorf("astreinte status should show the 10s granted and the seconds left:\n%s", text)
	}
	t.Logf("astreinte status during the call:\n%s", text)

	if code := caller.wait(150 * time.Second); code != 0 {
		t.Errorf("sipp exited with status %d (0: the call went through the scenario)", code)
	}
	pkts := toPort(capt.stop(t), sippMediaPort(t, sc))
	logRecordingStart(t, rec, invite, ringTime+beepEnd)
	checkHeardAll(t, heardAudio(pkts), "fr", "greeting_closed", "menu_urgency")
	checkClosedMessage(t, svc, "0611111111")
	_, call := oneTicket(t, svc)
	if call.Called != "+33493918009" {
		t.Errorf("call recorded as to %q, want +33493918009 (P-Called-Party-ID)", call.Called)
	}
	if !strings.Contains(k.p.output(), "INVITE relayed to sip:astreinte-e2e@") {
		t.Errorf("kamailio did not relay the INVITE to astreinte's registered contact")
	}
}

// TestTrunkRegistrarRestart_Kamailio: astreinte registers over TCP
// (MD5 digest); Kamailio goes away (the connection drops, the refresh
// fails) and the status says so; Kamailio comes back on the same port with
// no registrations; astreinte ends registered again without a restart,
// and a call through it (Kamailio to astreinte over TCP) reaches the line.
func TestTrunkRegistrarRestart_Kamailio(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	k := startKamailio(t, kamailioConfig{Port: freeSIPPort(t), User: "astreinte-e2e", Password: "md5-pass",
		Algorithm: "MD5", MaxExpires: 6, DID: did})
	svc := startAstreinte(t, trunkOverrides(k, "tcp"))
	if st, ok := svc.waitRegistration(20*time.Second, registered); !ok {
		t.Fatalf("not registered with kamailio within 20s: %+v", st)
	}

	k.stop()
	down := time.Now()
	st, ok := svc.waitRegistration(30*time.Second, func(status string, _ time.Time) bool { return status != "registered" })
	if !ok {
		t.Fatalf("the status still says registered %s after the registrar went away: %+v", time.Since(down).Round(time.Second), st)
	}
	t.Logf("%s after the registrar went away: %s (%s)", time.Since(down).Round(time.Second), st.Registrations[0].Status, st.Registrations[0].LastError)
	if out, err := svc.cli("status"); err == nil || !strings.Contains(out, "not registered: carrier") {
		t.Errorf("astreinte status should exit 1 naming the trunk down (err %v):\n%s", err, out)
	}
	if code, body := svc.get("/readyz"); code != 503 || !strings.Contains(body, "carrier") {
		t.Errorf("/readyz with the trunk down: %d %s, want 503 naming it", code, body)
	}

	k.start()
	back := time.Now()
	backSvc := svc.clock() // the registration's times are on the service's clock
	st, ok = svc.waitRegistration(60*time.Second, func(status string, expires time.Time) bool {
		return status == "registered" && expires.After(backSvc)
	})
	if !ok {
		t.Fatalf("not registered again within 60s of the registrar's return: %+v\n%s", st, tail(svc.log(), 30))
	}
	t.Logf("registered again %s after the registrar came back", time.Since(back).Round(100*time.Millisecond))
	if svc.restarts != 0 || !svc.p.running() {
		t.Fatal("astreinte was restarted or stopped")
	}

	// The new Kamailio knows astreinte's contact: a call reaches the line.
	sc := closedMessageScenario(t, "uac_message.xml", scenario{Caller: "0622222222", HangupAfterMS: 2000})
	caller := startSIPp(t, viaTrunk(svc, k), sc, sippOptions{service: did})
	if code := caller.wait(60 * time.Second); code != 0 {
		t.Errorf("sipp exited with status %d: the call through the restarted registrar failed", code)
	}
	calls := svc.waitCalls(20*time.Second, allEnded(1))
	if len(calls) != 1 || calls[0].Line != "support" || calls[0].CallerNumber != "0622222222" {
		t.Errorf("calls after the registrar's restart: %+v", calls)
	}
}

// sippMediaPort is the audio port SIPp offered in the scenario's INVITE
// (from its message trace).
func sippMediaPort(t *testing.T, scenarioPath string) uint16 {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(scenarioPath), ".xml")
	b, err := os.ReadFile(filepath.Join(testDir(t), name+"_messages.log"))
	if err != nil {
		t.Fatalf("sipp trace: %v", err)
	}
	m := regexp.MustCompile(`m=audio (\d+) `).FindSubmatch(b)
	if m == nil {
		t.Fatal("no m=audio in SIPp's trace")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return uint16(n)
}

// toPort keeps the packets sent to port: the capture's port range is
// this test's, but other programs on the machine may use it too.
func toPort(pkts []rtpPacket, port uint16) []rtpPacket {
	var out []rtpPacket
	for _, p := range pkts {
		if p.dst.Port() == port {
			out = append(out, p)
		}
	}
	return out
}

// TestPageThroughKamailioTrunk_SIPp: paging.sip.trunk names the registered
// trunk, so a call-out to a technician known by phone number only goes to
// Kamailio with the trunk's account: Kamailio challenges the INVITE (407),
// checks the credentials and that From is the account, and relays it to
// the technician's phone (SIPp, busy): the timeline says 486, which only
// the phone could have answered.
func TestPageThroughKamailioTrunk_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	phone := startSIPpUAS(t, "uas_busy.xml")
	k := startKamailio(t, kamailioConfig{Port: freeSIPPort(t), User: "0033493918009", Password: "page-pass",
		Algorithm: "MD5", MaxExpires: 60, DID: did, TechNumber: "0600000003", TechPort: phone.port})
	o := pagingOverrides(nil, nil, []any{map[string]any{"name": "primary", "person": "carol", "delay": "10m"}}, nil, nil, "out_of_hours")
	o["oncall"].(map[string]any)["people"] = []any{map[string]any{"id": "carol", "name": "Carol Petit", "phone": "06 00 00 00 03"}}
	o["paging"].(map[string]any)["sip"] = map[string]any{"enabled": true, "ring_timeout": "10s", "trunk": "carrier"}
	tr := trunkOverrides(k, "udp")
	o["trunks"] = tr["trunks"]
	mergeInto(o["line"].(map[string]any), tr["line"].(map[string]any))
	svc := startAstreinte(t, o)
	if st, ok := svc.waitRegistration(20*time.Second, registered); !ok {
		t.Fatalf("not registered with kamailio within 20s: %+v", st)
	}
	leaveMessageSIPp(t, svc, "0677777777")
	tk, ok := svc.waitTicket(10 * time.Second)
	if !ok {
		t.Fatal("no ticket")
	}
	evs, ok := poll(30*time.Second, func() []eventRow { return svc.events(tk.ID) }, func(evs []eventRow) bool {
		return hasEvent(evs, "page_failed", "carol", "sip", "")
	})
	if !ok {
		t.Fatalf("no outcome for the call-out through the trunk:\n%s", timeline(evs))
	}
	if !hasEvent(evs, "page_failed", "carol", "sip", "486") {
		t.Errorf("the phone behind the trunk should have said busy (486); timeline:\n%s", timeline(evs))
	}
	if n := phone.invites(); n != 1 {
		t.Errorf("the technician's phone got %d INVITE(s), want 1", n)
	}
	if out := k.p.output(); !strings.Contains(out, "INVITE to 0600000003 from 0033493918009: challenged") ||
		!strings.Contains(out, "call out to 0600000003 relayed") {
		t.Errorf("kamailio should have challenged the call-out, then relayed it:\n%s", tail(out, 20))
	}
}

// filterMetrics keeps the series whose name starts with prefix.
func filterMetrics(m map[string]float64, prefix string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

// TestTrunkRegisteredByFrontKamailio_SIPp: the shipped front configuration
// (deploy/kamailio/kamailio.cfg with WITH_TRUNK) registers the line with
// the carrier (the test registrar, MD5 digest) from its db_text account,
// so the carrier knows one contact whichever node is up; astreinte itself
// registers nothing. A caller dials the DID at the carrier, which sends
// the INVITE to the front's registered contact; the front turns it back to
// the line's number and dispatches it to the node; the caller's message
// becomes a ticket for the number called.
func TestTrunkRegisteredByFrontKamailio_SIPp(t *testing.T) {
	t.Parallel()
	requirePeer(t, "sipp")
	user, pass := "astreinte-front", "Fr0nt-"+fmt.Sprint(time.Now().UnixNano()%100000)
	carrier := startKamailio(t, kamailioConfig{Port: freeSIPPort(t), User: user, Password: pass,
		Algorithm: "MD5", MaxExpires: 60, DID: did})
	o := trunkOverrides(carrier, "udp")
	delete(o["trunks"].(map[string]any), "register")
	svc := startAstreinte(t, o)

	// The account, as an administrator edits deploy/kamailio/trunk/uacreg.
	fport := freeSIPPort(t)
	db := filepath.Join(testDir(t), "trunk")
	if err := os.MkdirAll(db, 0o755); err != nil {
		t.Fatal(err)
	}
	shipped := filepath.Join(moduleRoot, "deploy", "kamailio", "trunk")
	version, err := os.ReadFile(filepath.Join(shipped, "version"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(db, "version"), version)
	header, err := os.ReadFile(filepath.Join(shipped, "uacreg"))
	if err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf("1:astreinte:0493918009:astreinte.invalid:%s:127.0.0.1\\:%d:127.0.0.1:%s:%s::sip\\:127.0.0.1\\:%d:60:0:0::\n",
		user, carrier.cfg.Port, user, pass, carrier.cfg.Port)
	writeFile(t, filepath.Join(db, "uacreg"), append(bytes.SplitAfterN(header, []byte("\n"), 2)[0], row...))
	front := frontKamailioWith(t, fport, []string{"WITH_TRUNK", fmt.Sprintf("TRUNK_DB=\"text://%s\"", db),
		fmt.Sprintf("CONTACT_ADDR=\"127.0.0.1:%d\"", fport), "REG_TIMER=1"}, fmt.Sprintf("127.0.0.1:%d", svc.sipPort))

	contact := fmt.Sprintf("contact <sip:astreinte@127.0.0.1:%d>", fport)
	if _, ok := poll(20*time.Second, func() string { return carrier.p.output() }, func(out string) bool {
		return strings.Contains(out, contact+" saved")
	}); !ok {
		t.Fatalf("the front Kamailio did not register with the carrier within 20 s:\n--- carrier ---\n%s\n--- front ---\n%s",
			tail(carrier.p.output(), 30), tail(front.output(), 30))
	}
	if st, err := svc.status(); err != nil || len(st.Registrations) != 0 {
		t.Errorf("astreinte registered %+v (%v); the front does it", st.Registrations, err)
	}

	sc := closedMessageScenario(t, "uac_message.xml", scenario{Caller: "0622222222"})
	caller := startSIPp(t, viaTrunk(svc, carrier), sc, sippOptions{service: did})
	if code := caller.wait(150 * time.Second); code != 0 {
		t.Errorf("sipp exited with status %d (0: the call went through the scenario)", code)
	}
	checkClosedMessage(t, svc, "0622222222")
	_, call := oneTicket(t, svc)
	if call.Called != "+33493918009" {
		t.Errorf("call recorded as to %q, want +33493918009", call.Called)
	}
	if want := fmt.Sprintf("INVITE relayed to sip:astreinte@127.0.0.1:%d", fport); !strings.Contains(carrier.p.output(), want) {
		t.Errorf("the carrier did not send the call to the front's contact (%q)", want)
	}
	if !strings.Contains(front.output(), "from the trunk for sip:0493918009@astreinte.invalid") {
		t.Errorf("the front did not take the call as the trunk's:\n%s", tail(front.output(), 30))
	}
}
