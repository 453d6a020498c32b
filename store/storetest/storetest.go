// Package storetest is the conformance suite every store.Store passes: the
// memory store, SQLite and PostgreSQL run the same tests.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
)

// Opener opens a store on the suite's database, scoped to a server id.
// Opening again with the same id must see what an earlier store wrote
// (for durable stores; the memory store may return the same instance).
type Opener func(t *testing.T, opt store.Options) store.Store

// Suite describes the store under test.
type Suite struct {
	Open Opener
	// Durable stores survive Close and are scoped by server id.
	Durable bool
	// LiveRaw: the store serves this process's events as appended, raw
	// payloads included, whatever Options.NoRaw says (NoRaw is about what
	// outlives the process).
	LiveRaw bool
}

// Run runs every conformance test.
func Run(t *testing.T, s Suite) {
	tests := map[string]func(*testing.T, Suite){
		"SessionRoundTrip": testSessionRoundTrip, "EventsRoundTrip": testEventsRoundTrip,
		"Offsets": testOffsets, "Delete": testDelete, "RetriedAppend": testRetriedAppend,
		"Concurrent": testConcurrent, "Reopen": testReopen, "ServerIsolation": testServerIsolation,
		"NoRaw": testNoRaw,
	}
	for _, name := range []string{"SessionRoundTrip", "EventsRoundTrip", "Offsets", "Delete", "RetriedAppend", "Concurrent", "Reopen", "ServerIsolation", "NoRaw"} {
		t.Run(name, func(t *testing.T) { tests[name](t, s) })
	}
}

// server gives each test its own server id, so tests sharing one database
// do not see each other's rows.
func server(t *testing.T) store.Options { return store.Options{ServerID: t.Name()} }

func open(t *testing.T, s Suite, opt store.Options) store.Store {
	st := s.Open(t, opt)
	t.Cleanup(func() { st.Close() })
	return st
}

// Record is a session record with every field set.
func Record(id string) store.SessionRecord {
	return store.SessionRecord{
		ID: id, Agent: "claude", AgentMode: "build", PermissionMode: "default",
		Model: schema.Ptr("opus"), Variant: schema.Ptr("high"), NativeSessionID: schema.Ptr("native-" + id),
		Directory: schema.Ptr("/work"), Title: schema.Ptr("a title"),
		MCP:       map[string]schema.McpServerConfig{"fs": {Type: "local", Command: []string{"npx", "srv"}}},
		CreatedAt: 1700000000123, UpdatedAt: 1700000000456, Ended: true, EndReason: schema.EndTerminated,
		AgentMetadata: json.RawMessage(`{"model":"opus","tools":["Bash"]}`),
	}
}

// Events are n events of a session from sequence first on, of several types,
// with data and raw payloads.
func Events(session string, first uint64, n int) []schema.Event {
	out := make([]schema.Event, 0, n)
	for i := range n {
		seq := first + uint64(i)
		ev := schema.Event{EventID: schema.EventID(seq), Sequence: seq, Time: fmt.Sprintf("2026-01-02T03:04:%02d.%09dZ", seq%60, seq),
			SessionID: session, NativeSessionID: schema.Ptr("native"), Source: schema.SourceAgent,
			Raw: json.RawMessage(fmt.Sprintf(`{"n":%d,"text":"héllo \"x\""}`, seq))}
		switch seq % 3 {
		case 0:
			ev.Type, ev.Data = schema.EventItemDelta, &schema.ItemDeltaData{ItemID: "itm_1", Delta: fmt.Sprintf("delta %d ✓", seq)}
		case 1:
			ev.Type, ev.Data = schema.EventTurnStarted, &schema.TurnEventData{Phase: schema.PhaseStarted}
		default:
			ev.Type, ev.Data, ev.Synthetic, ev.Source, ev.Raw = schema.EventError, &schema.ErrorData{Message: "boom", Code: schema.Ptr("x")}, true, schema.SourceDaemon, nil
		}
		out = append(out, ev)
	}
	return out
}

// sameEvents compares events by their wire form (JSON stores may reformat
// raw payloads; what a client reads must be equal).
func sameEvents(t *testing.T, got, want []schema.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(wire(t, got[i]), wire(t, want[i])) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, mustJSON(got[i]), mustJSON(want[i]))
		}
	}
}

func wire(t *testing.T, ev any) any {
	var v any
	if err := json.Unmarshal(mustJSON(ev), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func testSessionRoundTrip(t *testing.T, s Suite) {
	ctx := context.Background()
	st := open(t, s, server(t))
	if recs, err := st.Sessions(ctx); err != nil || len(recs) != 0 {
		t.Fatalf("new store: %v %v", recs, err)
	}
	a, b := Record("a"), Record("b")
	b.Model, b.Ended, b.EndReason, b.MCP, b.AgentMetadata = nil, false, "", nil, nil
	for _, r := range []store.SessionRecord{a, b} {
		if err := st.PutSession(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	a.UpdatedAt, a.Title = a.UpdatedAt+1000, schema.Ptr("renamed") // replace
	if err := st.PutSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	recs, err := st.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.SessionRecord{}
	for _, r := range recs {
		got[r.ID] = r
	}
	if len(recs) != 2 || !reflect.DeepEqual(wire(t, got["a"]), wire(t, a)) || !reflect.DeepEqual(wire(t, got["b"]), wire(t, b)) {
		t.Fatalf("records:\n got %s\nwant %s %s", mustJSON(recs), mustJSON(a), mustJSON(b))
	}
}

func testEventsRoundTrip(t *testing.T, s Suite) {
	ctx := context.Background()
	st := open(t, s, server(t))
	want := Events("s", 1, 30)
	for i := 0; i < len(want); i += 7 {
		if err := st.Append(ctx, "s", want[i:min(i+7, len(want))]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Events(ctx, "s", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, got, want)
	for i := range got { // typed data, not raw JSON
		if reflect.TypeOf(got[i].Data) != reflect.TypeOf(want[i].Data) {
			t.Fatalf("event %d data is %T, want %T", i, got[i].Data, want[i].Data)
		}
	}
	if got, err := st.Events(ctx, "unknown", 0, 0); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("unknown session: %v %v (want an empty, non-nil slice)", got, err)
	}
}

func testOffsets(t *testing.T, s Suite) {
	ctx := context.Background()
	st := open(t, s, server(t))
	all := Events("s", 1, 2500)
	if err := st.Append(ctx, "s", all[:1000]); err != nil {
		t.Fatal(err)
	}
	if err := st.Append(ctx, "s", all[1000:]); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		after uint64
		limit int
	}{{0, 0}, {0, 1}, {3, 0}, {3, 2}, {1023, 5}, {1024, 1500}, {2499, 0}, {2500, 0}, {9999, 5}} {
		got, err := st.Events(ctx, "s", c.after, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		lo := min(int(c.after), len(all))
		hi := len(all)
		if c.limit > 0 {
			hi = min(hi, lo+c.limit)
		}
		if len(got) != hi-lo || (len(got) > 0 && (got[0].Sequence != all[lo].Sequence || got[len(got)-1].Sequence != all[hi-1].Sequence)) {
			t.Fatalf("after=%d limit=%d: %d events", c.after, c.limit, len(got))
		}
	}
	// What a caller does with returned events does not change the store.
	got, _ := st.Events(ctx, "s", 0, 1)
	got[0].Raw, got[0].EventID = []byte(`"changed"`), "x"
	again, _ := st.Events(ctx, "s", 0, 1)
	sameEvents(t, again, all[:1])
}

func testDelete(t *testing.T, s Suite) {
	ctx := context.Background()
	st := open(t, s, server(t))
	for _, id := range []string{"a", "b"} {
		if err := st.PutSession(ctx, Record(id)); err != nil {
			t.Fatal(err)
		}
		if err := st.Append(ctx, id, Events(id, 1, 5)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteSession(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSession(ctx, "never"); err != nil {
		t.Fatalf("deleting an unknown session: %v", err)
	}
	if got, _ := st.Events(ctx, "a", 0, 0); len(got) != 0 {
		t.Fatalf("events survived delete: %d", len(got))
	}
	if got, _ := st.Events(ctx, "b", 0, 0); len(got) != 5 {
		t.Fatalf("other session's events: %d", len(got))
	}
	recs, _ := st.Sessions(ctx)
	if len(recs) != 1 || recs[0].ID != "b" {
		t.Fatalf("records after delete: %s", mustJSON(recs))
	}
	// The id can be used again, from sequence 1.
	if err := st.Append(ctx, "a", Events("a", 1, 2)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Events(ctx, "a", 0, 0); len(got) != 2 {
		t.Fatalf("re-created session: %d events", len(got))
	}
}

// testRetriedAppend: a write retried after a failure whose first try did
// reach the database keeps each event once.
func testRetriedAppend(t *testing.T, s Suite) {
	if !s.Durable {
		t.Skip("only durable stores retry writes")
	}
	ctx := context.Background()
	st := open(t, s, server(t))
	all := Events("s", 1, 10)
	if err := st.Append(ctx, "s", all[:6]); err != nil {
		t.Fatal(err)
	}
	if err := st.Append(ctx, "s", all[3:]); err != nil { // overlaps 4..6
		t.Fatal(err)
	}
	got, _ := st.Events(ctx, "s", 0, 0)
	sameEvents(t, got, all)
}

func testConcurrent(t *testing.T, s Suite) {
	ctx := context.Background()
	st := open(t, s, server(t))
	const sessions, batches, per = 8, 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := range sessions {
		id := fmt.Sprintf("s%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := st.PutSession(ctx, Record(id)); err != nil {
				errs <- err
				return
			}
			all := Events(id, 1, batches*per)
			for b := range batches {
				if err := st.Append(ctx, id, all[b*per:(b+1)*per]); err != nil {
					errs <- err
					return
				}
				if _, err := st.Events(ctx, id, uint64(b*per), 0); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range sessions {
		id := fmt.Sprintf("s%d", i)
		got, _ := st.Events(ctx, id, 0, 0)
		sameEvents(t, got, Events(id, 1, batches*per))
	}
}

func testReopen(t *testing.T, s Suite) {
	if !s.Durable {
		t.Skip("the memory store is gone with its process")
	}
	ctx := context.Background()
	opt := server(t)
	st := s.Open(t, opt)
	rec := Record("a")
	if err := st.PutSession(ctx, rec); err != nil {
		t.Fatal(err)
	}
	want := Events("a", 1, 50)
	if err := st.Append(ctx, "a", want); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open(t, s, opt)
	recs, err := st.Sessions(ctx)
	if err != nil || len(recs) != 1 || !reflect.DeepEqual(wire(t, recs[0]), wire(t, rec)) {
		t.Fatalf("after reopen: %s %v", mustJSON(recs), err)
	}
	got, _ := st.Events(ctx, "a", 0, 0)
	sameEvents(t, got, want)
}

func testServerIsolation(t *testing.T, s Suite) {
	if !s.Durable {
		t.Skip("the memory store has one server")
	}
	ctx := context.Background()
	one := open(t, s, store.Options{ServerID: t.Name() + "-1"})
	two := open(t, s, store.Options{ServerID: t.Name() + "-2"})
	for i, st := range []store.Store{one, two} {
		rec := Record("same-id")
		rec.Agent = []string{"claude", "codex"}[i]
		if err := st.PutSession(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if err := st.Append(ctx, "same-id", Events("same-id", 1, 3+i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, st := range []store.Store{one, two} {
		recs, _ := st.Sessions(ctx)
		evs, _ := st.Events(ctx, "same-id", 0, 0)
		if len(recs) != 1 || recs[0].Agent != []string{"claude", "codex"}[i] || len(evs) != 3+i {
			t.Fatalf("server %d sees %s and %d events", i+1, mustJSON(recs), len(evs))
		}
	}
	if err := one.DeleteSession(ctx, "same-id"); err != nil {
		t.Fatal(err)
	}
	if evs, _ := two.Events(ctx, "same-id", 0, 0); len(evs) != 4 {
		t.Fatalf("a delete on server 1 removed server 2's events: %d left", len(evs))
	}
}

func testNoRaw(t *testing.T, s Suite) {
	if !s.Durable || s.LiveRaw {
		t.Skip("the store serves events as given")
	}
	ctx := context.Background()
	opt := server(t)
	opt.NoRaw = true
	st := open(t, s, opt)
	in := Events("s", 1, 3)
	if err := st.Append(ctx, "s", in); err != nil {
		t.Fatal(err)
	}
	if in[0].Raw == nil {
		t.Fatal("Append changed the caller's events")
	}
	got, _ := st.Events(ctx, "s", 0, 0)
	for i := range in {
		in[i].Raw = nil
	}
	sameEvents(t, got, in)
}
