package server_test

import (
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// okSkeleton is the clean mock sequence for one prompt (reference §2.5).
var okSkeleton = []string{
	"turn.started",
	"item.started(message/user)", "item.completed(message/user)",
	"item.started(message/assistant)", "item.delta", "item.completed(message/assistant)",
	"turn.ended",
}

const okPrompt = "Reply with exactly the single word OK."

func TestSessionEndpoints(t *testing.T) {
	e := startAPI(t, apiOpts{})
	res := e.create("s1", schema.CreateSessionRequest{Agent: "mock"})
	if !res.Healthy || schema.Deref(res.NativeSessionID) != "mock-s1" {
		t.Fatalf("create = %+v", res)
	}
	list, err := e.c.Sessions(ctxT(t))
	if err != nil || len(list) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
	s := list[0]
	if s.SessionID != "s1" || s.Agent != "mock" || s.AgentMode != "build" || s.PermissionMode != "default" || s.Ended ||
		schema.Deref(s.Model) != "mock" || s.EventCount != 1 || string(s.AgentMetadata) != `{"mock":true}` {
		t.Fatalf("session info = %+v", s)
	}
	got, err := e.c.Session(ctxT(t), "s1")
	if err != nil || !cmp.Equal(got.SessionID, "s1") {
		t.Fatalf("get = %+v, %v", got, err)
	}
	e.send("s1", okPrompt)
	evs := e.waitFor("s1", 0, isType(schema.EventTurnEnded))
	want := append([]string{"session.started"}, okSkeleton...)
	if diff := cmp.Diff(want, skeleton(evs)); diff != "" {
		t.Fatalf("skeleton (-want +got):\n%s", diff)
	}
	// Identity: sequence from 1, evt_<seq>, item ids stable across started/delta/completed.
	for i, ev := range evs {
		if ev.Sequence != uint64(i+1) || ev.EventID != "evt_"+itoa(i+1) || ev.SessionID != "s1" || schema.Deref(ev.NativeSessionID) != "mock-s1" {
			t.Fatalf("event %d identity: %+v", i, ev)
		}
	}
	start := evs[4].Data.(*schema.ItemEventData).Item
	delta := evs[5].Data.(*schema.ItemDeltaData)
	done := evs[6].Data.(*schema.ItemEventData).Item
	if start.ItemID != delta.ItemID || delta.ItemID != done.ItemID || delta.Delta != "OK" || done.Text() != "OK" || done.Status != schema.StatusCompleted {
		t.Fatalf("assistant item: start=%+v delta=%+v done=%+v", start, delta, done)
	}
	if !evs[0].Synthetic || evs[0].Source != schema.SourceDaemon || evs[2].Synthetic || evs[2].Source != schema.SourceAgent {
		t.Fatalf("synthetic/source flags wrong: %+v / %+v", evs[0], evs[2])
	}

	// A second session is listed first (newest first).
	e.create("s2", schema.CreateSessionRequest{Agent: "mock"})
	list, _ = e.c.Sessions(ctxT(t))
	if len(list) != 2 || list[0].SessionID != "s2" {
		t.Fatalf("order = %v", list)
	}
	if err := e.c.DeleteSession(ctxT(t), "s2"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Session(ctxT(t), "s2"); problemOf(t, err).Kind() != "session_not_found" {
		t.Fatalf("deleted session still there: %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestAcceptEditsIsDefaultForMock(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("s", schema.CreateSessionRequest{Agent: "mock", PermissionMode: schema.Ptr("acceptEdits")})
	info, _ := e.c.Session(ctxT(t), "s")
	if info.PermissionMode != "default" {
		t.Fatalf("permissionMode = %q", info.PermissionMode)
	}
}

func TestMultiTurn(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("m", schema.CreateSessionRequest{Agent: "mock"})
	e.send("m", "Reply with exactly the word FIRST.")
	first := e.waitFor("m", 0, isType(schema.EventTurnEnded))
	e.send("m", "Reply with exactly the word SECOND.")
	second := e.waitFor("m", first[len(first)-1].Sequence, isType(schema.EventTurnEnded))
	if diff := cmp.Diff(okSkeleton, skeleton(second)); diff != "" {
		t.Fatalf("second turn (-want +got):\n%s", diff)
	}
	if txt := second[5].Data.(*schema.ItemEventData).Item.Text(); txt != "SECOND" {
		t.Fatalf("second reply = %q", txt)
	}
	if first[len(first)-2].Data.(*schema.ItemEventData).Item.Text() != "FIRST" {
		t.Fatal("first reply wrong")
	}
}

func TestConcurrentSessions(t *testing.T) {
	e := startAPI(t, apiOpts{})
	ids := []string{"c1", "c2"}
	var wg sync.WaitGroup
	for _, id := range ids {
		e.create(id, schema.CreateSessionRequest{Agent: "mock"})
	}
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.c.SendMessage(ctxT(t), id, schema.MessageRequest{Message: okPrompt}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		evs := e.waitFor(id, 1, isType(schema.EventTurnEnded))
		if diff := cmp.Diff(okSkeleton, skeleton(evs)); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", id, diff)
		}
		for _, ev := range evs {
			if ev.SessionID != id {
				t.Fatalf("event of %s in %s", ev.SessionID, id)
			}
		}
	}
}

func TestTurnStream(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("ts", schema.CreateSessionRequest{Agent: "mock"})
	var evs []schema.Event
	for ev, err := range e.c.StreamTurn(ctxT(t), "ts", schema.MessageRequest{Message: okPrompt}, false) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if diff := cmp.Diff(okSkeleton, skeleton(evs)); diff != "" {
		t.Fatalf("turn stream (-want +got):\n%s", diff)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == schema.EventTurnStarted || ev.Type == schema.EventTurnEnded {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("want exactly one turn.started and one turn.ended, got %v", skeleton(evs))
	}
	// The stream stops at a permission request, so a client can answer it.
	evs = evs[:0]
	for ev, err := range e.c.StreamTurn(ctxT(t), "ts", schema.MessageRequest{Message: "permission"}, true) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if last := evs[len(evs)-1]; last.Type != schema.EventPermissionRequested {
		t.Fatalf("stream should end at permission.requested: %v", skeleton(evs))
	}
}

func TestReasoningAndStatus(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("r", schema.CreateSessionRequest{Agent: "mock"})
	e.send("r", "Answer briefly and include your reasoning.")
	evs := e.waitFor("r", 0, isType(schema.EventTurnEnded))
	if !hasPart(evs, schema.PartReasoning) {
		t.Fatalf("no reasoning part in %v", skeleton(evs))
	}
	e.send("r", "Provide a short status update.")
	evs = e.waitFor("r", evs[len(evs)-1].Sequence, isType(schema.EventTurnEnded))
	if !hasPart(evs, schema.PartStatus) {
		t.Fatalf("no status part in %v", skeleton(evs))
	}
}

func hasPart(evs []schema.Event, pt schema.PartType) bool {
	for _, ev := range evs {
		if d, ok := ev.Data.(*schema.ItemEventData); ok && slices.ContainsFunc(d.Item.Content, func(p schema.ContentPart) bool { return p.Type == pt }) {
			return true
		}
	}
	return false
}
