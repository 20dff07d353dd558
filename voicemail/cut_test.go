package voicemail

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"os"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/recording"
	"github.com/astreinte/astreinte/store"
	"github.com/astreinte/astreinte/store/pgtest"
	"github.com/astreinte/astreinte/tickets"
)

// Three nodes on one PostgreSQL; node A dies with three calls in progress:
// one mid-message (urgent chosen, its recording readable here), one whose
// recording is on a disk the others cannot read, one still in the
// greeting. The two survivors' passes, run at once, file each call once:
// the first with its recording up to the cut and urgent (paging, as the
// line pages urgent tickets), the others as missed calls to call back,
// their timelines saying the call was cut.
func TestCutCallsFiledBySurvivors(t *testing.T) {
	pg := pgtest.Start(t)
	dsn := pg.Database(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func(name string) *store.DB {
		db, err := store.OpenPostgres(dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.StartNode(ctx, name); err != nil {
			t.Fatal(err)
		}
		return db
	}
	a, b, c := open("a:1"), open("b:2"), open("c:3")
	service := func(db *store.DB) *tickets.Service {
		return tickets.New(db, nil, tickets.Options{Log: log,
			Lines: map[string]tickets.Policy{"support": {Page: astreinte.PageUrgent}}})
	}
	svcB, svcC := service(b), service(c)

	dir := t.TempDir()
	meta := testMeta
	meta.CallerNumber, meta.Urgency = "+33611111111", string(astreinte.Urgent)
	rec1 := filepath.Join(dir, "one.wav")
	r, err := NewRecorder(rec1, meta)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, r, talking(3*8000)) // 3 s said; never closed: the node dies
	// The fourth: recorded on A's disk, which the survivors cannot read,
	// and copied to the store as it went: 4 s said, cut back to 2.5 s.
	ship := recording.NewShipper(a, 0, log)
	go ship.Run(ctx)
	rec4 := filepath.Join(dir, "elsewhere", "four.wav")
	if err := os.MkdirAll(filepath.Dir(rec4), 0o700); err != nil {
		t.Fatal(err)
	}
	meta4 := testMeta
	meta4.CallerNumber = "+33644444444"
	r4, err := NewRecorderTo(rec4, meta4, ship)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, r4, talking(4*8000))
	if err := r4.Trim(2*8000 + 4000); err != nil {
		t.Fatal(err)
	}
	feed(t, r4, make([]int16, 100)) // under the half-second: not flushed when the node dies
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	ship.Close(sctx)
	cancel()
	if st := ship.Stats(); st.Dropped != 0 || st.Failed != 0 || st.Rows < 10 {
		t.Fatalf("shipper: %+v", st)
	}
	if err := os.RemoveAll(filepath.Dir(rec4)); err != nil { // another machine's disk
		t.Fatal(err)
	}
	calls := []*astreinte.Call{
		{SIPCallID: "one", Line: "support", CallerNumber: "+33611111111", Case: astreinte.CaseOutOfHours, Recording: rec1},
		// Urgent chosen (on the row), its recording on a disk the
		// survivors cannot read and not in the store.
		{SIPCallID: "two", Line: "support", CallerNumber: "0622222222", Case: astreinte.CaseOutOfHours,
			Recording: filepath.Join(dir, "on-a", "two.wav"), Urgency: astreinte.Urgent},
		{SIPCallID: "three", Line: "support", CallerNumber: "+33633333333", Case: astreinte.CaseOutOfHours},
		{SIPCallID: "four", Line: "support", CallerNumber: "+33644444444", Case: astreinte.CaseOutOfHours, Recording: rec4},
	}
	for _, cl := range calls {
		if err := a.CreateCall(ctx, cl); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := FileCutCalls(ctx, b, recording.NewOpener(b), svcB, log); n != 0 || err != nil {
		t.Fatalf("filed %d calls of a live node (%v)", n, err)
	}

	a.Close() // node A dies: its lease goes with its connection
	deadline := time.Now().Add(5 * time.Second)
	for {
		cs, err := b.CutCalls(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cut calls %+v, want 4", cs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var wg sync.WaitGroup
	var made [2]int
	for i, pass := range []func() (int, error){
		func() (int, error) { return FileCutCalls(ctx, b, recording.NewOpener(b), svcB, log) },
		func() (int, error) { return FileCutCalls(ctx, c, recording.NewOpener(c), svcC, log) },
	} {
		wg.Go(func() {
			n, err := pass()
			if err != nil {
				t.Error(err)
			}
			made[i] = n
		})
	}
	wg.Wait()
	if made[0]+made[1] != 4 {
		t.Fatalf("the survivors filed %v tickets, want 4 in all", made)
	}
	tks, err := b.Tickets(ctx, astreinte.TicketFilter{})
	if err != nil || len(tks) != 4 {
		t.Fatalf("%d tickets (%v), want 4", len(tks), err)
	}
	byCall := map[int64]astreinte.Ticket{}
	for _, tk := range tks {
		full, err := b.TicketByID(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.PageByTicket(ctx, tk.ID)
		full.Paged = err == nil
		byCall[full.CallID] = full
	}

	one := byCall[calls[0].ID]
	if one.Recording != rec1 || one.Urgency != astreinte.Urgent || one.Kind == astreinte.KindMissedCall ||
		one.Duration < 2900*time.Millisecond || one.Duration > 3100*time.Millisecond || !one.Paged {
		t.Errorf("the message cut mid-way: %+v, want its 3 s recording, urgent, paged", one)
	}
	if fileExists(rec1+".part") || !fileExists(rec1) || fileExists(rec1+".json") {
		t.Errorf("the recording is not finished under its name, its sidecar gone")
	}
	checkNote(t, b, one.ID, "recovered by another node")

	two := byCall[calls[1].ID]
	if two.Kind != astreinte.KindMissedCall || two.Recording != "" || two.CallbackNumber != "+33622222222" ||
		two.Urgency != astreinte.Urgent || !two.Paged {
		t.Errorf("the call whose recording cannot be read: %+v, want a missed call to call back at +33622222222, urgent (its row), paged", two)
	}
	checkNote(t, b, two.ID, "cannot be read here")
	four := byCall[calls[3].ID]
	if four.Recording != rec4 || four.Kind == astreinte.KindMissedCall || four.Duration != 2500*time.Millisecond ||
		four.Urgency != astreinte.Urgency(testMeta.Urgency) || four.CallerNumber != "+33644444444" {
		t.Errorf("the message on another disk, copied to the store: %+v, want its 2.5 s (after the cut-back) and its meta's urgency from the store", four)
	}
	checkNote(t, b, four.ID, "from the store's copy")
	if pcm, f, err := recording.NewOpener(c).Samples(ctx, rec4); err != nil || !f.FromStore() || len(pcm) != 2*8000+4000 {
		t.Errorf("the third node opens the fourth recording: %d samples, %v", len(pcm), err)
	}

	three := byCall[calls[2].ID]
	if three.Kind != astreinte.KindMissedCall || three.CallbackNumber != "+33633333333" {
		t.Errorf("the call cut in the greeting: %+v, want a missed call", three)
	}
	checkNote(t, b, three.ID, "call back")

	for _, cl := range calls {
		got, err := c.CallByID(ctx, cl.ID)
		if err != nil || got.Outcome != astreinte.OutcomeCut || got.HangupBy != store.HangupNodeLost || got.TicketID == 0 {
			t.Errorf("call %s: %+v (%v), want cut, with its ticket", cl.SIPCallID, got, err)
		}
	}
	if n, err := FileCutCalls(ctx, c, recording.NewOpener(c), svcC, log); n != 0 || err != nil {
		t.Errorf("a later pass filed %d more (%v)", n, err)
	}
}

// checkNote checks that ticket id's timeline has a note saying the call
// was cut, containing want.
func checkNote(t *testing.T, db *store.DB, id int64, want string) {
	t.Helper()
	evs, err := db.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Kind == astreinte.EventNote && strings.HasPrefix(e.Detail, "call cut: node a:1 ") && strings.Contains(e.Detail, want) {
			return
		}
	}
	t.Errorf("ticket %d's timeline %+v: no note of the cut with %q", id, evs, want)
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
