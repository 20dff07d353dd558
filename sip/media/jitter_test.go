package media

import (
	"slices"
	"testing"
)

// in is one audio packet for the jitter buffer: a frame of 160 samples of
// value v (n samples when n > 0).
type in struct {
	ssrc uint32
	seq  uint16
	ts   uint32
	v    int16
	n    int
}

// stream returns packets i..j (inclusive) of an in-order stream whose
// frame k has value k.
func stream(ssrc uint32, seq0 uint16, ts0 uint32, from, to int) []in {
	var out []in
	for k := from; k <= to; k++ {
		out = append(out, in{ssrc, seq0 + uint16(k), ts0 + uint32(k*FrameSamples), int16(k), 0})
	}
	return out
}

func pick(s []in, idx ...int) []in {
	out := make([]in, len(idx))
	for i, k := range idx {
		out[i] = s[k]
	}
	return out
}

func seqVals(from, to int) []int16 {
	var out []int16
	for k := from; k <= to; k++ {
		out = append(out, int16(k))
	}
	return out
}

// code is the µ-law code a test packet of value v carries: v itself, and
// 0xFF, a zero sample, for 0.
func code(v int16) byte {
	if v == 0 {
		return 0xFF
	}
	return byte(v)
}

// decoded is what the ring records for packets of values vals (0 for
// silence as well).
func decoded(vals ...int16) []int16 {
	out := make([]int16, len(vals))
	for i, v := range vals {
		out[i] = UlawDecode(code(v))
	}
	return out
}

// codes is a packet of n samples of value v, as the ring takes it.
func codes(v int16, n int) []byte {
	return slices.Repeat([]byte{code(v)}, n)
}

func TestJitterBuffer(t *testing.T) {
	const a, b = 0x1111, 0x2222
	s := stream(a, 100, 5000, 0, 40)
	restart := stream(a, 100+41, 5000, 41, 45) // timestamps start over, sequence goes on
	for i := range restart {
		restart[i].ts -= 41 * FrameSamples
	}
	tests := []struct {
		name string
		in   []in
		want []int16 // one value per 20 ms frame
		st   Stats
	}{
		{name: "in order", in: s[1:11], want: seqVals(1, 10)},
		{name: "duplicate", in: pick(s, 1, 2, 2, 3), want: seqVals(1, 3), st: Stats{Duplicates: 1}},
		{name: "reordered", in: pick(s, 1, 3, 2, 4), want: seqVals(1, 4), st: Stats{Reordered: 1}},
		{name: "first two swapped", in: pick(s, 2, 1, 3), want: seqVals(1, 3), st: Stats{Reordered: 1}},
		{
			name: "gap", in: pick(s, 1, 2, 4, 5), want: []int16{1, 2, 0, 4, 5},
			st: Stats{LostPackets: 1, SilenceSamples: FrameSamples},
		},
		{
			name: "gap of ten", in: pick(s, 1, 12, 13), want: append([]int16{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12, 13),
			st: Stats{LostPackets: 10, SilenceSamples: 10 * FrameSamples},
		},
		{
			// 0.8 s lost: longer than the ring, shorter than a resync.
			// The ring flushes early what it must; the gap is silence.
			name: "gap longer than the ring", in: append(pick(s, 1, 2), in{a, 100 + 43, 5000 + 43*FrameSamples, 43, 0}),
			want: append(append([]int16{1, 2}, make([]int16, 40)...), 43),
			st:   Stats{LostPackets: 40, SilenceSamples: 40 * FrameSamples},
		},
		{name: "late", in: append(slices.Clone(s[1:11]), s[2]), want: seqVals(1, 10), st: Stats{Late: 1}},
		{
			name: "ssrc change continues at the write position",
			in:   append(slices.Clone(s[1:4]), stream(b, 7, 99999, 1, 3)...),
			want: []int16{1, 2, 3, 1, 2, 3}, st: Stats{SSRCChanges: 1},
		},
		{
			// Silence suppression: the sequence goes on, the timestamp
			// jumps 5 s. The pause is kept as 5 s of silence.
			name: "pause in sending is kept",
			in:   append(slices.Clone(s[1:3]), in{a, 103, 5000 + 3*FrameSamples + 5*SampleRate, 3, 0}),
			want: append(append([]int16{1, 2}, make([]int16, 5*SampleRate/FrameSamples)...), 3), st: Stats{Paused: 5 * SampleRate},
		},
		{
			name: "pause then reordering and loss",
			in: []in{s[1], s[2], {a, 103, 5000 + 3*FrameSamples + 2*SampleRate, 3, 0},
				{a, 105, 5000 + 5*FrameSamples + 2*SampleRate, 5, 0}, {a, 104, 5000 + 4*FrameSamples + 2*SampleRate, 4, 0},
				{a, 107, 5000 + 7*FrameSamples + 2*SampleRate, 7, 0}},
			want: append(append([]int16{1, 2}, make([]int16, 2*SampleRate/FrameSamples)...), 3, 4, 5, 0, 7),
			st:   Stats{Paused: 2 * SampleRate, Reordered: 1, LostPackets: 1, SilenceSamples: FrameSamples},
		},
		{
			name: "over a second lost is not filled",
			in:   append(slices.Clone(s[1:3]), in{a, 103 + 100, 5000 + 103*FrameSamples, 3, 0}),
			want: []int16{1, 2, 3}, st: Stats{Resyncs: 1},
		},
		{
			name: "a pause over 30 s is not filled",
			in:   append(slices.Clone(s[1:3]), in{a, 103, 5000 + 3*FrameSamples + 31*SampleRate, 3, 0}),
			want: []int16{1, 2, 3}, st: Stats{Resyncs: 1},
		},
		{
			name: "timestamps restart",
			in:   append(slices.Clone(s[36:41]), restart...),
			want: append(seqVals(36, 40), seqVals(41, 45)...), st: Stats{Resyncs: 1},
		},
		{
			name: "straggler from long ago", in: append(slices.Clone(s[20:40]), s[1]),
			want: seqVals(20, 39), st: Stats{Late: 1},
		},
		{name: "timestamp wraps", in: stream(a, 65530, 1<<32-3*FrameSamples-7, 0, 9), want: seqVals(0, 9)},
		{
			name: "short packets", in: []in{{a, 1, 0, 1, 80}, {a, 2, 80, 2, 80}, {a, 3, 160, 3, 160}},
			want: nil, // checked below
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st counters
			var rec recorder
			j := newJitterBuffer(&st, &rec, PCMU)
			for _, p := range tc.in {
				n := p.n
				if n == 0 {
					n = FrameSamples
				}
				j.put(p.ssrc, p.seq, p.ts, codes(p.v, n))
			}
			j.flushAll()
			want := frames(decoded(tc.want...)...)
			if tc.want == nil {
				want = slices.Concat(slices.Repeat(decoded(1), 80), slices.Repeat(decoded(2), 80), frames(decoded(3)...))
			}
			if got := rec.get(); !slices.Equal(got, want) {
				t.Errorf("recorded %v, want %v", runs(got), runs(want))
			}
			if got := st.snapshot(); got != tc.st {
				t.Errorf("stats %+v, want %+v", got, tc.st)
			}
		})
	}
}

func TestJitterBufferFlushesBehindPlayout(t *testing.T) {
	var st counters
	var rec recorder
	j := newJitterBuffer(&st, &rec, PCMU)
	for k := range 10 {
		j.put(1, uint16(k), uint32(k*FrameSamples), codes(int16(k+1), FrameSamples))
		wantLen := max(0, (k+1)*FrameSamples-playoutDelay)
		if got := len(rec.get()); got != wantLen {
			t.Fatalf("after packet %d: %d samples flushed, want %d", k, got, wantLen)
		}
	}
	// A long stream goes round the ring many times.
	for k := 10; k < 10+3*ringSize/FrameSamples; k++ {
		j.put(1, uint16(k), uint32(k*FrameSamples), codes(int16(k+1), FrameSamples))
	}
	j.flushAll()
	got := rec.get()
	want := frames(decoded(seqVals(1, 10+3*ringSize/FrameSamples)...)...)
	if !slices.Equal(got, want) {
		t.Fatalf("long stream: %d samples, want %d", len(got), len(want))
	}
	if s := st.snapshot(); s != (Stats{}) {
		t.Errorf("stats %+v, want none", s)
	}
}

// The filled bitmap marks exactly the slots written, across word edges.
func TestJitterFilledBits(t *testing.T) {
	for _, r := range [][2]int64{{0, 1}, {0, 64}, {5, 64}, {63, 65}, {60, 200}, {128, 192}, {ringSize - 70, ringSize}} {
		var j jitterBuffer
		j.fill(r[0], r[1])
		for i := int64(0); i < ringSize; i++ {
			if want := i >= r[0] && i < r[1]; j.isFilled(i) != want {
				t.Fatalf("fill(%d, %d): slot %d filled %v", r[0], r[1], i, !want)
			}
		}
	}
}
