package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/invariants"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
	"github.com/sandbox-agent/sandbox-agent/store/memory"
)

// ctlAdapter is a scriptable agent for lifecycle tests. Its conn behaves like
// a real agent with a queue of turns: a sent message becomes a turn that runs
// until the test ends it (End), the agent is interrupted, or it dies. Hooks
// let a test hold Send, Close and Open at a chosen point.
type ctlAdapter struct {
	mu    sync.Mutex
	conns map[string]*ctlConn
	// openGate, when set, is waited on inside Open.
	openGate chan struct{}
	// newConn customises each conn before Open returns it.
	newConn func(c *ctlConn)
}

func newCtl() *ctlAdapter { return &ctlAdapter{conns: map[string]*ctlConn{}} }

func (a *ctlAdapter) Info() agent.Info {
	return agent.Info{ID: "ctl", PermissionModes: []string{"default"}}
}
func (a *ctlAdapter) Status(context.Context) (agent.InstallStatus, error) {
	return agent.InstallStatus{Installed: true}, nil
}
func (a *ctlAdapter) Modes(context.Context) ([]agent.Mode, error) {
	return []agent.Mode{{ID: "build"}}, nil
}
func (a *ctlAdapter) Models(context.Context) (agent.ModelList, error) {
	return agent.ModelList{}, nil
}
func (a *ctlAdapter) Open(ctx context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	a.mu.Lock()
	gate := a.openGate
	a.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &ctlConn{sink: sink, id: spec.SessionID, entered: make(chan string, 64)}
	if a.newConn != nil {
		a.newConn(c)
	}
	a.mu.Lock()
	a.conns[spec.SessionID] = c
	a.mu.Unlock()
	return c, nil
}

func (a *ctlAdapter) conn(id string) *ctlConn {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conns[id]
}

var errSendFailed = errors.New("attachment not found: /nope")

// ctlConn: prompts "fail…" fail to send; "quick…" turns end at once;
// "perm…" turns ask for a permission first; other turns run until ended.
type ctlConn struct {
	sink agent.Sink
	id   string

	mu         sync.Mutex
	turns      int // turns accepted and not ended (the agent's queue)
	sendGate   chan struct{}
	closeGate  chan struct{}
	interrupts int
	closed     bool
	perms      int
	entered    chan string // "send", "close", "interrupt" as they are entered
}

func (c *ctlConn) note(what string) {
	select {
	case c.entered <- what:
	default:
	}
}

func (c *ctlConn) Send(ctx context.Context, p agent.Prompt) error {
	c.note("send")
	c.mu.Lock()
	gate := c.sendGate
	c.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if len(p.Text) >= 4 && p.Text[:4] == "fail" {
		return errSendFailed
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return agent.Errorf(agent.ErrProcessExited, "closed")
	}
	c.turns++
	first := c.turns == 1
	c.perms++
	pid := fmt.Sprintf("perm-%d", c.perms)
	c.mu.Unlock()
	c.sink.Emit(agent.ItemCompleted(agent.Message("", schema.RoleUser, schema.Text(p.Text)), nil))
	switch {
	case len(p.Text) >= 5 && p.Text[:5] == "quick":
		c.End()
	case len(p.Text) >= 4 && p.Text[:4] == "perm" && first:
		c.sink.Emit(agent.Draft{Type: schema.EventPermissionRequested, Data: &schema.PermissionEventData{PermissionID: pid, Action: "Bash"}})
	}
	return nil
}

// End ends the agent's current turn (if any) with a reply.
func (c *ctlConn) End() bool {
	c.mu.Lock()
	if c.turns == 0 || c.closed {
		c.mu.Unlock()
		return false
	}
	c.turns--
	c.mu.Unlock()
	c.sink.Emit(agent.ItemCompleted(agent.Message("", schema.RoleAssistant, schema.Text("done")), nil))
	c.sink.Emit(agent.TurnEnded(nil, nil))
	return true
}

func (c *ctlConn) running() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.turns
}

func (c *ctlConn) Answer(context.Context, agent.Reply) error { return nil }

func (c *ctlConn) Interrupt(context.Context) error {
	c.note("interrupt")
	c.mu.Lock()
	c.interrupts++
	if c.turns == 0 {
		c.mu.Unlock()
		return nil
	}
	c.turns--
	c.mu.Unlock()
	c.sink.Emit(agent.TurnEnded(json.RawMessage(`{"interrupted":true}`), nil))
	return nil
}

func (c *ctlConn) Close(ctx context.Context) error {
	c.note("close")
	c.mu.Lock()
	gate := c.closeGate
	c.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	c.mu.Lock()
	c.closed, c.turns = true, 0
	c.mu.Unlock()
	return nil
}

// waitEntered waits until the conn entered the named method.
func waitEntered(t *testing.T, c *ctlConn, what string) {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case w := <-c.entered:
			if w == what {
				return
			}
		case <-timer.C:
			t.Fatalf("conn never entered %s", what)
		}
	}
}

// gatedStore blocks DeleteSession until released.
type gatedStore struct {
	store.Store
	entered chan struct{}
	release chan struct{}
}

func (g *gatedStore) DeleteSession(ctx context.Context, id string) error {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.release
	return g.Store.DeleteSession(ctx, id)
}

func newMgr(t *testing.T, a agent.Adapter, st store.Store) *Manager {
	t.Helper()
	if st == nil {
		st = memory.New()
	}
	m := NewManager(Config{Registry: agent.NewRegistry(a), Store: st, Dir: t.TempDir()})
	t.Cleanup(func() { m.Shutdown(context.Background()) })
	return m
}

func mustCreate(t *testing.T, m *Manager, id string) *Session {
	t.Helper()
	s, err := m.Create(context.Background(), id, schema.CreateSessionRequest{Agent: "ctl"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func allEvents(t *testing.T, s *Session) []schema.Event {
	t.Helper()
	evs, _, err := s.Events(context.Background(), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func types(evs []schema.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = string(ev.Type)
	}
	return out
}

func count(evs []schema.Event, t schema.EventType) int {
	n := 0
	for _, ev := range evs {
		if ev.Type == t {
			n++
		}
	}
	return n
}

func checkLog(t *testing.T, evs []schema.Event, st invariants.State) {
	t.Helper()
	for _, err := range invariants.Check(evs, st) {
		t.Error(err)
	}
	if t.Failed() {
		t.Fatalf("log: %v", types(evs))
	}
}
