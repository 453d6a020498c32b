package memory

import (
	"context"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
	"github.com/sandbox-agent/sandbox-agent/store/storetest"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	s := New()
	if err := s.PutSession(ctx, store.SessionRecord{ID: "a", Agent: "mock"}); err != nil {
		t.Fatal(err)
	}
	var evs []schema.Event
	for i := uint64(1); i <= 10; i++ {
		evs = append(evs, schema.Event{Sequence: i, EventID: schema.EventID(i)})
	}
	_ = s.Append(ctx, "a", evs[:4])
	_ = s.Append(ctx, "a", evs[4:])
	for _, c := range []struct {
		after       uint64
		limit       int
		first, last uint64
		n           int
	}{{0, 0, 1, 10, 10}, {3, 0, 4, 10, 7}, {3, 2, 4, 5, 2}, {10, 0, 0, 0, 0}, {99, 5, 0, 0, 0}} {
		got, err := s.Events(ctx, "a", c.after, c.limit)
		if err != nil || len(got) != c.n || (c.n > 0 && (got[0].Sequence != c.first || got[c.n-1].Sequence != c.last)) {
			t.Fatalf("after=%d limit=%d: %v %v", c.after, c.limit, got, err)
		}
	}
	// Returned slices are copies: callers may modify them.
	got, _ := s.Events(ctx, "a", 0, 1)
	got[0].Raw = []byte("x")
	again, _ := s.Events(ctx, "a", 0, 1)
	if again[0].Raw != nil {
		t.Fatal("store shares its backing array")
	}
	recs, _ := s.Sessions(ctx)
	if len(recs) != 1 || recs[0].ID != "a" {
		t.Fatal(recs)
	}
	_ = s.DeleteSession(ctx, "a")
	if got, _ := s.Events(ctx, "a", 0, 0); len(got) != 0 {
		t.Fatal("events survived delete")
	}
}

// TestChunkedLog reads a log of several chunks, appended in uneven
// batches, from every offset with several limits, against the plain
// answer.
func TestChunkedLog(t *testing.T) {
	ctx := context.Background()
	s := New()
	const total = 3*chunkSize + 17
	var all []schema.Event
	for seq := uint64(1); seq <= total; {
		batch := min(int(seq%7)*111+1, total-int(seq)+1) // 1 … 667 events, crossing chunk ends
		var evs []schema.Event
		for range batch {
			evs = append(evs, schema.Event{Sequence: seq})
			seq++
		}
		all = append(all, evs...)
		if err := s.Append(ctx, "a", evs); err != nil {
			t.Fatal(err)
		}
	}
	var offsets []uint64 // around every chunk end, and a sample between
	for k := uint64(0); k <= total/chunkSize+1; k++ {
		offsets = append(offsets, max(k*chunkSize, 1)-1, k*chunkSize, k*chunkSize+1)
	}
	for after := uint64(0); after <= total; after += 37 {
		offsets = append(offsets, after)
	}
	for _, after := range offsets {
		for _, limit := range []int{0, 1, 5, chunkSize, 2*chunkSize + 3} {
			got, err := s.Events(ctx, "a", after, limit)
			if err != nil {
				t.Fatal(err)
			}
			want := all[min(int(after), total):]
			if limit > 0 && len(want) > limit {
				want = want[:limit]
			}
			if len(got) != len(want) {
				t.Fatalf("after=%d limit=%d: %d events, want %d", after, limit, len(got), len(want))
			}
			for i := range got {
				if got[i].Sequence != want[i].Sequence {
					t.Fatalf("after=%d limit=%d: event %d has sequence %d, want %d", after, limit, i, got[i].Sequence, want[i].Sequence)
				}
			}
		}
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Suite{Open: func(*testing.T, store.Options) store.Store { return New() }})
}
