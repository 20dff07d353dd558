// Package e2e calls the built astreinte binary with real SIP peers (SIPp and
// baresip) on 127.0.0.1 and checks what a caller hears and what is left
// behind: the ticket, the call log and the recorded WAV.
//
// Every test starts its own astreinte with its own data directory, SIP port
// and RTP range, all chosen at run time, so tests run in parallel. Every
// process a test starts is stopped by its PID when the test ends; on failure
// the test prints astreinte's log, the peers' traces and the CLI's view of
// tickets and calls, and copies its working files to e2e/artifacts/<test>/.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	// astreinteBin is the binary TestMain built.
	astreinteBin string
	// moduleRoot is the repository root (where go.mod is).
	moduleRoot string
	// promptsDir holds the prompts astreinte embeds (fr/, en/): the
	// reference for "the caller heard the greeting".
	promptsDir string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	flag.Parse()
	// The calls mostly wait on real-time audio: run more of them at once
	// than GOMAXPROCS unless -parallel says otherwise.
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "4")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	moduleRoot = root
	promptsDir = filepath.Join(root, "audio", "prompts")
	tmp, err := os.MkdirTemp("", "astreinte-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	// ASTREINTE_BIN runs the tests against a binary built elsewhere.
	if bin := os.Getenv("ASTREINTE_BIN"); bin != "" {
		astreinteBin = bin
		return m.Run()
	}
	astreinteBin = filepath.Join(tmp, "astreinte")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goTool(), "build", "-o", astreinteBin, "./cmd/astreinte")
	build.Dir = root
	out, err := build.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/astreinte: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// goTool is the go command that runs these tests (go test sets GOROOT for
// the test binary), else the one on PATH.
func goTool() string {
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" && fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// peerPackages names the Debian package that provides each peer.
var peerPackages = map[string]string{
	"sipp":      "sip-tester",
	"baresip":   "baresip-core",
	"tshark":    "tshark",
	"sox":       "sox",
	"espeak-ng": "espeak-ng",
}

// requirePeer skips the test when a peer program is missing, or fails it
// when CI=true: on CI a missing peer is a broken machine, not a reason to
// pass silently.
func requirePeer(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	pkg := peerPackages[name]
	if pkg == "" {
		pkg = name
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not installed: apt-get install -y %s", name, pkg)
	}
	t.Skipf("%s not installed: apt-get install -y %s", name, pkg)
}

// --- Ports -----------------------------------------------------------------

// Ports for the processes the tests start come from 12000-19999, below the
// kernel's ephemeral range (32768+, see /proc/sys/net/ipv4/ip_local_port_range)
// and the RTP slots (20000+). A listener on port 0 (the tests' own SMTP and
// webhook receivers) never gets one of them, and the counter never hands
// one out twice, so a port checked free stays free until its process binds
// it, whatever runs in parallel.
const (
	portBase  = 12000
	portSpan  = 8000
	portTries = 200
)

// nextPort and rtpSlot start at a random place in their range, so that
// test processes running side by side (several checkouts on one machine)
// rarely start on the same ports: a capture filtered on one test's ports
// then holds that test's packets only.
var nextPort = func() *atomic.Int32 {
	var n atomic.Int32
	n.Store(int32(rand.IntN(portSpan)))
	return &n
}()

// takePorts returns the first of n consecutive ports, the first one a
// multiple of align, all free on 127.0.0.1 for UDP (and TCP with tcp).
func takePorts(t testing.TB, n, align int, tcp bool) int {
	t.Helper()
	for range portTries {
		first := portBase + int(nextPort.Add(int32(n+align-1))-int32(n+align-1))%portSpan
		if r := first % align; r != 0 {
			first += align - r
		}
		if first+n > portBase+portSpan {
			continue
		}
		if portsFree(first, n, tcp) {
			return first
		}
	}
	t.Fatalf("no %d free port(s) in %d-%d after %d tries", n, portBase, portBase+portSpan-1, portTries)
	return 0
}

// portsFree checks by binding that ports first..first+n-1 are free.
func portsFree(first, n int, tcp bool) bool {
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for p := first; p < first+n; p++ {
		u, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		held = append(held, u)
		if tcp {
			l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				return false
			}
			held = append(held, l)
		}
	}
	return true
}

// freeSIPPort returns a port free on 127.0.0.1 for both UDP and TCP.
func freeSIPPort(t testing.TB) int { return takePorts(t, 1, 1, true) }

// freeTCPPort returns a TCP port free on 127.0.0.1.
func freeTCPPort(t testing.TB) int { return takePorts(t, 1, 1, true) }

// freeUDPPort returns a UDP port free on 127.0.0.1; with media, an even
// port p with p+1 to p+3 free too (SIPp binds -mp and -mp+2, RTCP takes +1).
func freeUDPPort(t testing.TB, media bool) int {
	if media {
		return takePorts(t, 4, 2, false)
	}
	return takePorts(t, 1, 1, false)
}

// rtpSlot hands out RTP port ranges of 100 ports in 20000-31999, below the
// kernel's ephemeral range (32768+) and above takePorts' range, so that
// parallel tests and peers never share one.
var rtpSlot = func() *atomic.Int32 {
	var n atomic.Int32
	n.Store(int32(rand.IntN(120)))
	return &n
}()

func rtpRange(t testing.TB) (lo, hi int) {
	t.Helper()
	n := int(rtpSlot.Add(1)-1) % 120
	lo = 20000 + n*100
	return lo, lo + 99
}

// --- Processes -------------------------------------------------------------

// proc is an external program started for a test. It runs under a context
// with a deadline and is stopped by its PID when the test ends.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    string // stdout and stderr
	cancel context.CancelFunc
	done   chan struct{}
	err    error // from Wait, once done is closed
}

// startProc starts name with args in dir, output to dir/<label>.out.
// Cleanup sends stopSig to its PID, waits up to 10 s, then kills it.
func startProc(t testing.TB, timeout time.Duration, dir, label string, stopSig syscall.Signal, name string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	outPath := filepath.Join(dir, label+".out")
	f, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		cancel()
		t.Fatalf("%s: %v", label, err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		cancel()
		t.Fatalf("start %s: %v", label, err)
	}
	f.Close() // the child has its own descriptor
	p := &proc{name: label, cmd: cmd, out: outPath, cancel: cancel, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(stopSig, 10*time.Second) })
	return p
}

// running reports whether the process has not exited yet.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// wait waits up to d for the process to exit; ok is false on timeout.
func (p *proc) wait(d time.Duration) (code int, ok bool) {
	select {
	case <-p.done:
		return p.exitCode(), true
	case <-time.After(d):
		return -1, false
	}
}

func (p *proc) exitCode() int {
	if p.cmd.ProcessState == nil {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// stop sends sig to the process's PID, waits up to grace, then kills it.
// It returns the exit code (-1 if killed by a signal).
func (p *proc) stop(sig syscall.Signal, grace time.Duration) int {
	defer p.cancel()
	if !p.running() {
		return p.exitCode()
	}
	_ = p.cmd.Process.Signal(sig)
	if code, ok := p.wait(grace); ok {
		return code
	}
	_ = p.cmd.Process.Kill()
	code, _ := p.wait(10 * time.Second)
	return code
}

// output returns what the process wrote so far.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.out)
	return string(b)
}

// --- Working directories and artifacts -------------------------------------

var testDirs sync.Map // test name → working directory

// testDir is the test's working directory (one per test, shared by its
// helpers). On failure, or always with E2E_KEEP=1 (a benchmark's logs to
// read), its content is copied to e2e/artifacts/<test>/.
func testDir(t testing.TB) string {
	t.Helper()
	if d, ok := testDirs.Load(t.Name()); ok {
		return d.(string)
	}
	d := t.TempDir()
	testDirs.Store(t.Name(), d)
	t.Cleanup(func() {
		testDirs.Delete(t.Name())
		if t.Failed() || os.Getenv("E2E_KEEP") == "1" {
			dst := filepath.Join(moduleRoot, "e2e", "artifacts", strings.ReplaceAll(t.Name(), "/", "_"))
			if err := copyTree(d, dst, 200<<20); err != nil {
				t.Logf("artifacts: %v", err)
			} else {
				t.Logf("artifacts kept in %s", dst)
			}
		}
	})
	return d
}

// copyTree copies regular files from src to dst, up to max bytes in all.
func copyTree(src, dst string, max int64) error {
	_ = os.RemoveAll(dst)
	var total int64
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || total+info.Size() > max {
			return nil
		}
		total += info.Size()
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// --- Small helpers ---------------------------------------------------------

// poll calls get every 50 ms until done accepts what it returned or d has
// passed; it returns the last value and whether done accepted it.
func poll[T any](d time.Duration, get func() T, done func(T) bool) (T, bool) {
	deadline := time.Now().Add(d)
	for {
		v := get()
		if done(v) {
			return v, true
		}
		if time.Now().After(deadline) {
			return v, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFileSuffix waits until a file whose path ends with suffix exists
// under root.
func waitFileSuffix(root, suffix string, d time.Duration) (string, bool) {
	deadline := time.Now().Add(d)
	for {
		var found string
		_ = filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err == nil && !de.IsDir() && strings.HasSuffix(p, suffix) {
				found = p
				return fs.SkipAll
			}
			return nil
		})
		if found != "" {
			return found, true
		}
		if !time.Now().Before(deadline) {
			return "", false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
