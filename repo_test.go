package astreinte_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A built binary committed by mistake (cmd/astreinte/astreinte once was,
// 33 MB) makes every clone heavier for ever: no tracked file is an
// executable (mode 755, or an ELF or Mach-O image) over 1 MB.
func TestNoLargeExecutableTracked(t *testing.T) {
	out, err := exec.Command("git", "ls-files", "-s", "-z").Output()
	if err != nil {
		t.Skipf("not a git work tree (%v)", err)
	}
	const limit = 1 << 20
	for rec := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
		meta, path, ok := strings.Cut(rec, "\t")
		if !ok {
			continue
		}
		st, err := os.Stat(path)
		if err != nil || st.Size() <= limit {
			continue
		}
		executable := strings.HasPrefix(meta, "100755")
		if f, err := os.Open(path); err == nil {
			head := make([]byte, 4)
			_, _ = f.Read(head)
			f.Close()
			executable = executable || bytes.Equal(head, []byte("\x7fELF")) ||
				bytes.Equal(head, []byte{0xcf, 0xfa, 0xed, 0xfe}) || bytes.Equal(head, []byte{0xfe, 0xed, 0xfa, 0xcf})
		}
		if executable {
			t.Errorf("%s is a tracked executable of %d bytes: remove it from git (git rm --cached) and ignore it", path, st.Size())
		}
	}
}

// Storage does not depend on the engines it stores for: the store reads
// and writes the root package's types, and the paging engine (oncall),
// the tickets service and the caller's flow depend on it, not the other
// way round.
func TestStoreDependsOnNoEngine(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./store").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, engine := range []string{"oncall", "tickets", "voicemail", "web", "sip"} {
		for dep := range strings.SplitSeq(string(out), "\n") {
			if dep == "github.com/astreinte/astreinte/"+engine || strings.HasPrefix(dep, "github.com/astreinte/astreinte/"+engine+"/") {
				t.Errorf("store depends on %s", dep)
			}
		}
	}
}
