package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/invariants"
	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store/memory"
)

// Regression (#20 bug 1): a send that fails while a turn runs reports the
// error inside the running turn and leaves that turn alone: it ends once,
// when the agent ends it, and no phantom turn.started follows later turns.
func TestFailedSendDuringTurnKeepsTurns(t *testing.T) {
	ctx := context.Background()
	a := newCtl()
	m := newMgr(t, a, nil)
	s := mustCreate(t, m, "s")
	if err := s.Send(ctx, agent.Prompt{Text: "long"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, agent.Prompt{Text: "fail"}); err == nil {
		t.Fatal("failing send returned nil")
	}
	evs := allEvents(t, s)
	if n := count(evs, schema.EventTurnEnded); n != 0 {
		t.Fatalf("the running turn was ended by another message's failure: %v", types(evs))
	}
	if count(evs, schema.EventError) != 1 {
		t.Fatalf("no error event for the failed send: %v", types(evs))
	}
	a.conn("s").End()
	for range 2 {
		if err := s.Send(ctx, agent.Prompt{Text: "quick"}); err != nil {
			t.Fatal(err)
		}
	}
	evs = allEvents(t, s)
	checkLog(t, evs, invariants.Idle)
	if n := count(evs, schema.EventTurnStarted); n != 3 {
		t.Fatalf("%d turns, want 3: %v", n, types(evs))
	}
}

// A send that fails while idle gets a turn of its own: started, error, ended.
func TestFailedSendWhileIdle(t *testing.T) {
	ctx := context.Background()
	m := newMgr(t, newCtl(), nil)
	s := mustCreate(t, m, "s")
	if err := s.Send(ctx, agent.Prompt{Text: "fail"}); err == nil {
		t.Fatal("failing send returned nil")
	}
	evs := allEvents(t, s)
	checkLog(t, evs, invariants.Idle)
	want := []string{"session.started", "turn.started", "error", "turn.ended"}
	if got := types(evs); len(got) != len(want) || got[2] != "error" {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// Regression (#20 bug 2): an interrupt that arrives while the send is still
// starting the agent is not lost: once the agent has the message, its turn
// is interrupted, and the turn ends exactly once.
func TestInterruptDuringSendIsNotLost(t *testing.T) {
	ctx := context.Background()
	a := newCtl()
	m := newMgr(t, a, nil)
	s := mustCreate(t, m, "s")
	c := a.conn("s")
	gate := make(chan struct{})
	c.mu.Lock()
	c.sendGate = gate
	c.mu.Unlock()
	sent := make(chan error, 1)
	go func() { sent <- s.Send(ctx, agent.Prompt{Text: "long"}) }()
	waitEntered(t, c, "send")
	interrupted := make(chan error, 1)
	go func() { interrupted <- s.Interrupt(ctx) }()
	// The interrupt either waits for the send or is recorded for it; give
	// it the chance to act too early before the agent takes the message.
	time.Sleep(50 * time.Millisecond)
	close(gate)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if err := <-interrupted; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.running() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := c.running(); n != 0 {
		t.Fatalf("the agent's turn runs on uninterrupted (%d running)", n)
	}
	evs := allEvents(t, s)
	checkLog(t, evs, invariants.Idle)
}

// Regression (#20 bug 4): creating an id while a Delete of it runs never
// lets the Delete wipe the new session's log.
func TestCreateDuringDeleteKeepsNewSession(t *testing.T) {
	ctx := context.Background()
	st := &gatedStore{Store: memory.New(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	m := newMgr(t, newCtl(), st)
	mustCreate(t, m, "s")
	deleted := make(chan error, 1)
	go func() { deleted <- m.Delete(ctx, "s") }()
	<-st.entered
	var created *Session
	s2, err := m.Create(ctx, "s", schema.CreateSessionRequest{Agent: "ctl"})
	if err == nil {
		created = s2
	} else if pe, ok := problem.As(err); !ok || pe.Kind != problem.SessionAlreadyExists {
		t.Fatalf("create during delete: %v", err)
	}
	close(st.release)
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	if created == nil {
		created = mustCreate(t, m, "s")
	}
	if err := created.Send(ctx, agent.Prompt{Text: "quick"}); err != nil {
		t.Fatal(err)
	}
	evs := allEvents(t, created)
	if len(evs) == 0 || evs[0].Type != schema.EventSessionStarted {
		t.Fatalf("the new session's log was wiped: %v", types(evs))
	}
	checkLog(t, evs, invariants.Idle)
}

// Regression (#20 bug 5): a second Terminate returns only once the session
// has ended (its session.ended is stored), so a Delete after it cannot
// proceed while the first is still appending.
func TestSecondTerminateWaitsForTheFirst(t *testing.T) {
	ctx := context.Background()
	a := newCtl()
	m := newMgr(t, a, nil)
	s := mustCreate(t, m, "s")
	c := a.conn("s")
	gate := make(chan struct{})
	c.mu.Lock()
	c.closeGate = gate
	c.mu.Unlock()
	if err := s.Send(ctx, agent.Prompt{Text: "long"}); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { first <- s.Terminate(ctx) }()
	waitEntered(t, c, "close")
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(gate)
	}()
	if err := s.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	evs := allEvents(t, s)
	if !invariants.HasEnd(evs) {
		t.Fatalf("second Terminate returned before the session ended: %v", types(evs))
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	checkLog(t, allEvents(t, s), invariants.Ended)
}

// Regression (#8 bug 2): concurrent deletes of one session never panic;
// each answers nil or not found.
func TestConcurrentDelete(t *testing.T) {
	ctx := context.Background()
	m := newMgr(t, newCtl(), nil)
	for round := range 20 {
		mustCreate(t, m, "s")
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- m.Delete(ctx, "s")
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err == nil {
				continue
			}
			if pe, ok := problem.As(err); !ok || pe.Kind != problem.SessionNotFound {
				t.Fatalf("round %d: delete: %v", round, err)
			}
		}
		if _, err := m.Get("s"); err == nil {
			t.Fatalf("round %d: session still there after delete", round)
		}
	}
}

// Regression (#8 bug 7): terminating while a permission is pending resolves
// it (rejected) before the turn and the session end.
func TestTerminateResolvesPending(t *testing.T) {
	ctx := context.Background()
	m := newMgr(t, newCtl(), nil)
	s := mustCreate(t, m, "s")
	if err := s.Send(ctx, agent.Prompt{Text: "perm"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	evs := allEvents(t, s)
	checkLog(t, evs, invariants.Ended)
	if count(evs, schema.EventPermissionResolved) != 1 {
		t.Fatalf("pending permission not resolved at terminate: %v", types(evs))
	}
}

// A session the agent ends while a permission is pending resolves it too.
func TestAgentEndResolvesPending(t *testing.T) {
	ctx := context.Background()
	a := newCtl()
	m := newMgr(t, a, nil)
	s := mustCreate(t, m, "s")
	if err := s.Send(ctx, agent.Prompt{Text: "perm"}); err != nil {
		t.Fatal(err)
	}
	a.conn("s").sink.Emit(agent.SessionEnded(schema.SessionEndedData{Reason: schema.EndError, TerminatedBy: schema.ByAgent}))
	s.Terminate(ctx) // waits for the close the agent's end started
	checkLog(t, allEvents(t, s), invariants.Ended)
}

// #8 bug 5: a turn whose agent went silent is ended by the idle-turn
// watchdog: an error with code turn_idle_timeout, the agent interrupted,
// a balanced turn.ended. A turn that keeps talking is left alone.
func TestIdleTurnWatchdog(t *testing.T) {
	ctx := context.Background()
	a := newCtl()
	m := NewManager(Config{Registry: agent.NewRegistry(a), Dir: t.TempDir(), TurnIdleTimeout: 100 * time.Millisecond})
	defer m.Shutdown(ctx)
	s := mustCreate(t, m, "s")
	c := a.conn("s")
	if err := s.Send(ctx, agent.Prompt{Text: "chatty"}); err != nil {
		t.Fatal(err)
	}
	// Events every 20 ms keep the turn alive well past the timeout.
	for range 15 {
		time.Sleep(20 * time.Millisecond)
		c.sink.Emit(agent.Draft{Type: schema.EventItemDelta, Data: &schema.ItemDeltaData{Delta: "."}})
	}
	if n := count(allEvents(t, s), schema.EventError); n != 0 {
		t.Fatalf("watchdog fired on a talking turn: %v", types(allEvents(t, s)))
	}
	deadline := time.Now().Add(10 * time.Second)
	for count(allEvents(t, s), schema.EventTurnEnded) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	evs := allEvents(t, s)
	checkLog(t, evs, invariants.Idle)
	var code string
	for _, ev := range evs {
		if d, ok := ev.Data.(*schema.ErrorData); ok {
			code = schema.Deref(d.Code)
		}
	}
	if code != "turn_idle_timeout" {
		t.Fatalf("no turn_idle_timeout error: %v", types(evs))
	}
	c.mu.Lock()
	n := c.interrupts
	c.mu.Unlock()
	if n != 1 || c.running() != 0 {
		t.Fatalf("agent interrupted %d times, %d turns running", n, c.running())
	}
	// The session goes on.
	if err := s.Send(ctx, agent.Prompt{Text: "quick"}); err != nil {
		t.Fatal(err)
	}
	checkLog(t, allEvents(t, s), invariants.Idle)
}
