package store

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/recording"
)

// TestRecordingAudio: a recording's rows are written in batches mixing
// recordings, read back in seq order, a row written twice is kept once,
// a restart's Drop removes the rows it superseded, and the purge removes
// them all, leaving the other recording's.
func TestRecordingAudio(t *testing.T) {
	db, clk := openTest(t)
	ctx := context.Background()
	a, b := "/data/a/recordings/2026-01-05/1.wav", "/data/a/recordings/2026-01-05/2.wav"
	pcm := func(n int, v byte) []byte { return bytes.Repeat([]byte{v}, n) }
	if err := db.WriteRecordingAudio(ctx, []recording.Op{
		{Recording: a, Seq: 0, Meta: `{"call_id":"1@pbx"}`},
		{Recording: b, Seq: 0, Meta: `{"call_id":"2@pbx"}`},
		{Recording: a, Seq: 1, Offset: 0, PCM: pcm(8000, 1)},
		{Recording: b, Seq: 1, Offset: 0, PCM: pcm(8000, 2)},
		{Recording: a, Seq: 2, Offset: 8000, PCM: pcm(8000, 3)},
	}); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	// The same rows again (a batch retried) and more.
	if err := db.WriteRecordingAudio(ctx, []recording.Op{
		{Recording: a, Seq: 2, Offset: 8000, PCM: pcm(8000, 9)},
		{Recording: a, Seq: 3, Offset: 0},                     // a restart cuts everything
		{Recording: a, Seq: 3, Drop: true},                    // and drops what it superseded
		{Recording: a, Seq: 4, Offset: 0, PCM: pcm(4000, 4)},  // then records again
		{Recording: a, Seq: 5, Offset: 2000, Meta: `{"u":1}`}, // a trim with new meta
	}); err != nil {
		t.Fatal(err)
	}
	got, err := db.RecordingAudio(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []string
	for _, c := range got {
		seqs = append(seqs, fmt.Sprintf("%d@%d+%d%q", c.Seq, c.Offset, len(c.PCM), c.Meta))
	}
	want := []string{`0@0+0"{\"call_id\":\"1@pbx\"}"`, `3@0+0""`, `4@0+4000""`, `5@2000+0"{\"u\":1}"`}
	if fmt.Sprint(seqs) != fmt.Sprint(want) {
		t.Errorf("rows of %s:\n got %v\nwant %v", a, seqs, want)
	}
	if len(got) == 4 && (!bytes.Equal(got[2].PCM, pcm(4000, 4)) || !got[3].At.Equal(t0.Add(time.Second)) || !got[0].At.Equal(t0)) {
		t.Errorf("row contents: %v %v %v", got[2].PCM[:4], got[0].At, got[3].At)
	}
	wav, meta, _ := recording.Rebuild(got)
	if len(wav) != 44+2000 || meta != `{"u":1}` {
		t.Errorf("rebuilt %s: %d bytes, meta %q; want 2044, the trim's meta", a, len(wav), meta)
	}
	// Many rows: more than one INSERT's worth.
	var many []recording.Op
	for i := range 1200 {
		many = append(many, recording.Op{Recording: b, Seq: int64(2 + i), Offset: int64(8000 + 2*i), PCM: []byte{byte(i), 0}})
	}
	if err := db.WriteRecordingAudio(ctx, many); err != nil {
		t.Fatal(err)
	}
	if got, err := db.RecordingAudio(ctx, b); err != nil || len(got) != 1202 || got[1201].Seq != 1201 || got[1201].PCM[0] != byte(1199%256) {
		t.Errorf("rows of %s: %d, %v", b, len(got), err)
	}

	if err := db.DeleteRecordingAudio(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := db.RecordingAudio(ctx, a); err != nil || len(got) != 0 {
		t.Errorf("after the purge of %s: %d rows, %v", a, len(got), err)
	}
	if got, _ := db.RecordingAudio(ctx, b); len(got) != 1202 {
		t.Errorf("the purge of %s took %s's rows: %d left", a, b, len(got))
	}
	if got, err := db.RecordingAudio(ctx, "/nowhere.wav"); err != nil || len(got) != 0 {
		t.Errorf("an unknown recording: %v, %v", got, err)
	}
}

// TestCallUrgency: the urgency written during the call stays on the row,
// an update without it keeps it.
func TestCallUrgency(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	c := &astreinte.Call{SIPCallID: "u@pbx", Line: "support", CallerNumber: "+33611111111"}
	if err := db.CreateCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateCall(ctx, &astreinte.Call{ID: c.ID, Urgency: astreinte.Urgent}); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateCall(ctx, &astreinte.Call{ID: c.ID, Recording: "/r.wav"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.CallByID(ctx, c.ID)
	if err != nil || got.Urgency != astreinte.Urgent || got.Recording != "/r.wav" {
		t.Errorf("call after urgency then recording: %+v, %v", got, err)
	}
}
