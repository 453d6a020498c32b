package memory

import (
	"context"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
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
