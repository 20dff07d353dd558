package voicemail

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzRepairRecordings gives the start-up repair a ".part" recording and a
// sidecar of arbitrary content, as a crash or a full disk may leave them:
// it must not panic, and whatever it recovers is a final WAV that exists.
// Seeds in testdata/fuzz/FuzzRepairRecordings.
func FuzzRepairRecordings(f *testing.F) {
	hdr := make([]byte, 44)
	copy(hdr, "RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")
	f.Add(append(hdr, make([]byte, 3201)...), []byte(`{"line":"support","caller_number":"0601020304","urgency":"urgent"}`))
	f.Add(hdr[:20], []byte(`{"line":`))
	f.Add([]byte("RIFF"), []byte(`null`))
	f.Add([]byte{}, []byte(`{"started_at":"not a time","call_row":-1}`))
	f.Fuzz(func(t *testing.T, wav, sidecar []byte) {
		dir := t.TempDir()
		base := filepath.Join(dir, "2026", "11", "030000-fuzz.wav")
		if err := os.MkdirAll(filepath.Dir(base), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".part", wav, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".json", sidecar, 0o600); err != nil {
			t.Fatal(err)
		}
		found, _ := RepairRecordings(dir)
		for _, r := range found {
			if _, err := os.Stat(r.Path); err != nil {
				t.Fatalf("recovered %s does not exist: %v", r.Path, err)
			}
			if r.Duration < 0 {
				t.Fatalf("negative duration %s", r.Duration)
			}
		}
	})
}
