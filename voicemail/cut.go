package voicemail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/phone"
	"github.com/astreinte/astreinte/recording"
	"github.com/astreinte/astreinte/vad"
)

// CutStore finds the calls cut by the death of the node that took them
// (store.DB, on PostgreSQL).
type CutStore interface {
	CutCalls(ctx context.Context, limit int) ([]astreinte.Call, error)
	NodeName(ctx context.Context, id int64) (string, error)
}

// CutFiler makes a cut call's ticket, once across nodes (tickets.Service).
type CutFiler interface {
	FileCut(ctx context.Context, t *astreinte.Ticket, note string) (bool, error)
}

// FileCutCalls turns each call cut by a dead node into a ticket: with its
// recording up to the cut when this node can read it, a message or,
// without speech, a missed call keeping the recording; else a missed
// call, "call cut, call back", for the caller's number. The recording is
// the dead node's file when it is reachable from here (a shared data
// directory), else the copy of its audio in the store (open; nil: files
// only), up to its last half-second shipped. The ticket names the
// recording's path either way: every reader opens it through
// recording.Opener, which finds the file or rebuilds it from the store.
// The urgency is the call row's (written when the caller pressed 1), else
// the recording's meta's; without either the ticket is normal. Each ticket
// pages as its line says, and its timeline says the call was cut. It
// returns how many tickets this node filed (another node may file some
// first).
func FileCutCalls(ctx context.Context, st CutStore, open *recording.Opener, svc CutFiler, log *slog.Logger) (int, error) {
	calls, err := st.CutCalls(ctx, 0)
	if err != nil {
		return 0, err
	}
	made := 0
	var errs []error
	for _, c := range calls {
		node, err := st.NodeName(ctx, c.Node)
		if err != nil || node == "" {
			node = fmt.Sprintf("#%d", c.Node)
		}
		t := &astreinte.Ticket{
			CallID: c.ID, Line: c.Line, CallerNumber: c.CallerNumber, CallerName: c.CallerName,
			Case: c.Case, CreatedAt: c.StartedAt,
		}
		t.CallbackNumber, _ = phone.Callable(c.CallerNumber, "")
		var rec Recovered
		var recErr error
		if c.Recording == "" {
			recErr = errors.New("no recording started")
		} else {
			rec, recErr = RepairRecording(c.Recording)
			if recErr != nil && rec.Path == "" {
				rec = Recovered{}
				if errors.Is(recErr, fs.ErrNotExist) && open != nil && open.Store != nil {
					if r, err := fromStore(ctx, open, c.Recording); err == nil {
						rec, recErr = r, nil
					} else {
						recErr = fmt.Errorf("%v; %w", recErr, err)
					}
				}
			}
		}
		var note string
		switch {
		case rec.Path != "":
			t.Recording, t.Duration = rec.Path, rec.Duration
			if m := rec.Meta; m.Urgency != "" {
				t.Urgency = astreinte.Urgency(m.Urgency)
			}
			if rec.Meta.Case != "" {
				t.Case = astreinte.Case(rec.Meta.Case)
			}
			note = fmt.Sprintf("call cut: node %s stopped during the call; its recording, up to the cut (%s), was recovered by another node",
				node, rec.Duration.Round(time.Second))
			if rec.fromStore {
				note += " from the store's copy"
			}
			if rec.Voiced < voiceMin {
				t.Kind = astreinte.KindMissedCall
				note = fmt.Sprintf("call cut: node %s stopped during the call, before the caller said anything: call back", node)
			}
		default:
			t.Kind = astreinte.KindMissedCall
			note = fmt.Sprintf("call cut: node %s stopped during the call and its recording cannot be read here (%v): call back", node, recErr)
		}
		if c.Urgency != "" {
			t.Urgency = c.Urgency
		}
		filed, err := svc.FileCut(ctx, t, note)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !filed {
			continue
		}
		made++
		log.Warn("filed a call cut by a lost node", "ticket", t.Number, "call", c.ID, "node", node,
			"recording", t.Recording, "kind", t.Kind, "urgency", t.Urgency)
		if rec.Path != "" && !rec.fromStore {
			if err := RemoveSidecar(rec.Path); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return made, errors.Join(errs...)
}

// fromStore reads the recording at path from the store's copy.
func fromStore(ctx context.Context, open *recording.Opener, path string) (Recovered, error) {
	pcm, f, err := open.Samples(ctx, path)
	if err != nil {
		return Recovered{}, err
	}
	rec := Recovered{Path: path, Closed: true, fromStore: f.FromStore()}
	if f.Meta != "" {
		if err := json.Unmarshal([]byte(f.Meta), &rec.Meta); err != nil {
			return Recovered{}, fmt.Errorf("recording %s: the store's meta: %w", path, err)
		}
	}
	rec.Duration = audio.DurationOf(int64(len(pcm)))
	rec.Voiced = vad.Measure(rec.Meta.VAD, pcm)
	return rec, nil
}

// WatchCutCalls runs FileCutCalls every interval until ctx ends.
func WatchCutCalls(ctx context.Context, st CutStore, open *recording.Opener, svc CutFiler, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := FileCutCalls(ctx, st, open, svc, log); err != nil && ctx.Err() == nil {
			log.Error("calls cut by a lost node", "error", err)
		}
	}
}
