package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/invariants"
	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
	"github.com/sandbox-agent/sandbox-agent/store/memory"
)

// recordingStore keeps a copy of every log, split into incarnations: a
// DeleteSession archives the id's log, so events of a later session with
// the same id start a new one. Any event of a deleted session that lands
// after its delete shows up as a broken log of the next incarnation.
type recordingStore struct {
	store.Store
	mu       sync.Mutex
	live     map[string][]schema.Event
	archived [][]schema.Event
}

func newRecordingStore() *recordingStore {
	return &recordingStore{Store: memory.New(), live: map[string][]schema.Event{}}
}

func (r *recordingStore) Append(ctx context.Context, id string, evs []schema.Event) error {
	r.mu.Lock()
	r.live[id] = append(r.live[id], evs...)
	r.mu.Unlock()
	return r.Store.Append(ctx, id, evs)
}

func (r *recordingStore) DeleteSession(ctx context.Context, id string) error {
	r.mu.Lock()
	if log, ok := r.live[id]; ok {
		r.archived = append(r.archived, log)
		delete(r.live, id)
	}
	r.mu.Unlock()
	return r.Store.DeleteSession(ctx, id)
}

// chaos configures the fake agent's misbehaviour for one run.
type chaos struct {
	rng *rand.Rand
	mu  sync.Mutex
}

func (c *chaos) intn(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rng.IntN(n)
}

func (c *chaos) sleep(maxMs int) {
	if d := c.intn(maxMs + 1); d > 0 {
		time.Sleep(time.Duration(d) * time.Millisecond)
	}
}

// chaosConn wraps a ctlConn: slow sends (a process restart), interrupts the
// agent ignores, deaths mid-turn.
type chaosConn struct {
	*ctlConn
	ch *chaos
	// abandoned counts turns whose interrupt the agent ignored: Interrupt
	// returned without their turn.ended, so (agent.Conn's contract, as the
	// Codex adapter does) their end is not emitted when the agent finally
	// gets there — the session closed them already, and that end must not
	// close the turn that follows.
	abandoned *abandonSink
}

// abandonSink drops the turn.ended of abandoned turns (the oldest first:
// the agent's turns end in order).
type abandonSink struct {
	agent.Sink
	mu sync.Mutex
	n  int
}

func (s *abandonSink) Emit(d agent.Draft) {
	s.mu.Lock()
	drop := d.Type == schema.EventTurnEnded && s.n > 0
	if drop {
		s.n--
	}
	s.mu.Unlock()
	if !drop {
		s.Sink.Emit(d)
	}
}

func (c *chaosConn) Send(ctx context.Context, p agent.Prompt) error {
	c.ch.sleep(3) // restarting the process
	return c.ctlConn.Send(ctx, p)
}

func (c *chaosConn) Interrupt(ctx context.Context) error {
	c.ch.sleep(2)
	if c.ch.intn(4) == 0 { // a stubborn agent: it ignores the interrupt
		c.mu.Lock()
		if c.turns > 0 && !c.closed {
			c.abandoned.mu.Lock()
			c.abandoned.n++
			c.abandoned.mu.Unlock()
		}
		c.mu.Unlock()
		return nil
	}
	return c.ctlConn.Interrupt(ctx)
}

func (c *chaosConn) Close(ctx context.Context) error {
	c.ch.sleep(2)
	return c.ctlConn.Close(ctx)
}

// die: the agent's process dies mid-turn; sometimes it cannot be resumed
// and the session ends.
func (c *chaosConn) die(endSession bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	n := c.turns
	c.turns = 0
	c.mu.Unlock()
	if n > 0 {
		c.sink.Emit(agent.ErrorEvent("agent exited during a turn", "process_exit", nil, nil))
	}
	for range n {
		c.sink.Emit(agent.TurnEnded(json.RawMessage(`{"isError":true}`), nil))
	}
	if endSession {
		c.sink.Emit(agent.SessionEnded(schema.SessionEndedData{Reason: schema.EndError, TerminatedBy: schema.ByAgent}))
	}
}

type chaosAdapter struct {
	*ctlAdapter
	ch    *chaos
	mu    sync.Mutex
	conns []*chaosConn
}

func (a *chaosAdapter) Open(ctx context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	a.ch.sleep(3) // slow to start
	as := &abandonSink{Sink: sink}
	c, err := a.ctlAdapter.Open(ctx, spec, as)
	if err != nil {
		return nil, err
	}
	cc := &chaosConn{ctlConn: c.(*ctlConn), ch: a.ch, abandoned: as}
	a.mu.Lock()
	a.conns = append(a.conns, cc)
	a.mu.Unlock()
	return cc, nil
}

func (a *chaosAdapter) latest(id string) *chaosConn {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.conns) - 1; i >= 0; i-- {
		if a.conns[i].id == id {
			return a.conns[i]
		}
	}
	return nil
}

// TestLifecycleStateMachine drives random concurrent sequences of create,
// send (ok, failing, asking for permission), interrupt, reply, terminate,
// delete and re-create against a manager whose fake agent is slow to start
// and restart, ignores interrupts, fails sends and dies mid-turn, then
// checks every invariant on every incarnation's log and that every agent
// connection was closed. Bounded by rapid's check count (-rapid.checks).
func TestLifecycleStateMachine(t *testing.T) {
	defer func(d time.Duration) { sendWait = d }(sendWait)
	sendWait = 20 * time.Millisecond
	deadline := time.Now().Add(60 * time.Second) // a CI bound, whatever -rapid.checks says
	rapid.Check(t, func(rt *rapid.T) {
		if time.Now().After(deadline) {
			rt.Skip("time budget spent")
		}
		ch := &chaos{rng: rand.New(rand.NewPCG(rapid.Uint64().Draw(rt, "seed"), 1))}
		a := &chaosAdapter{ctlAdapter: newCtl(), ch: ch}
		st := newRecordingStore()
		m := NewManager(Config{Registry: agent.NewRegistry(a), Store: st, Dir: t.TempDir(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx := context.Background()
		ids := []string{"a", "b"}
		var wg sync.WaitGroup
		async := func(f func()) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f()
			}()
		}
		get := func(id string) *Session {
			s, err := m.Get(id)
			if err != nil {
				return nil
			}
			return s
		}
		okErr := func(what string, err error) {
			if err == nil {
				return
			}
			if _, ok := problem.As(err); !ok {
				rt.Errorf("%s: not a problem: %v", what, err)
			}
		}
		rt.Repeat(map[string]func(*rapid.T){
			"create": func(rt *rapid.T) {
				id := rapid.SampledFrom(ids).Draw(rt, "id")
				async(func() {
					_, err := m.Create(ctx, id, schema.CreateSessionRequest{Agent: "ctl"})
					if err != nil {
						if pe, ok := problem.As(err); !ok || pe.Kind != problem.SessionAlreadyExists {
							rt.Errorf("create %s: %v", id, err)
						}
					}
				})
			},
			"send": func(rt *rapid.T) {
				id := rapid.SampledFrom(ids).Draw(rt, "id")
				text := rapid.SampledFrom([]string{"quick", "long", "fail", "perm"}).Draw(rt, "prompt")
				if s := get(id); s != nil {
					async(func() { okErr("send", s.Send(ctx, agent.Prompt{Text: text})) })
				}
			},
			"interrupt": func(rt *rapid.T) {
				id := rapid.SampledFrom(ids).Draw(rt, "id")
				if s := get(id); s != nil {
					async(func() { okErr("interrupt", s.Interrupt(ctx)) })
				}
			},
			"agent ends turn": func(rt *rapid.T) {
				id := rapid.SampledFrom(ids).Draw(rt, "id")
				if c := a.latest(id); c != nil {
					async(func() { c.End() })
				}
			},
			"agent dies": func(rt *rapid.T) {
				id := rapid.SampledFrom(ids).Draw(rt, "id")
				end := rapid.Bool().Draw(rt, "ends session")
				if c := a.latest(id); c != nil {
					async(func() { c.die(end) })
				}
			},
			"reply": func(rt *rapid.T) {
				id := rapid.SampledFrom(ids).Draw(rt, "id")
				reply := rapid.SampledFrom([]schema.PermissionReply{schema.ReplyOnce, schema.ReplyAlways, schema.ReplyReject}).Draw(rt, "reply")
				s := get(id)
				if s == nil {
					return
				}
				s.mu.Lock()
				pending := sortedKeys(s.perms)
				s.mu.Unlock()
				for _, pid := range pending {
					async(func() {
						err := s.ReplyPermission(ctx, pid, reply)
						if err != nil {
							// Resolved meanwhile (turn or session ended): a 400.
							if pe, ok := problem.As(err); !ok || (pe.Kind != problem.InvalidRequest && pe.Kind != problem.AgentProcessExited) {
								rt.Errorf("reply: %v", err)
							}
						}
					})
				}
			},
			"terminate": func(rt *rapid.T) {
				id := rapid.SampledFrom(ids).Draw(rt, "id")
				if s := get(id); s != nil {
					async(func() { okErr("terminate", s.Terminate(ctx)) })
				}
			},
			"delete": func(rt *rapid.T) {
				id := rapid.SampledFrom(ids).Draw(rt, "id")
				async(func() {
					err := m.Delete(ctx, id)
					if err != nil {
						if pe, ok := problem.As(err); !ok || pe.Kind != problem.SessionNotFound {
							rt.Errorf("delete %s: %v", id, err)
						}
					}
				})
			},
			"settle": func(rt *rapid.T) { wg.Wait() },
		})
		wg.Wait()
		// Quiescence: the agents finish every turn they have; then no
		// session may still show a running turn or a pending request
		// (a session never holds more turns than its agent).
		for _, id := range ids {
			s, c := get(id), a.latest(id)
			if s == nil || c == nil {
				continue
			}
			for c.End() {
			}
			quiet(s)
			// One more round trip shows a queue that holds phantoms.
			if err := s.Send(ctx, agent.Prompt{Text: "quick"}); err != nil {
				okErr("final send", err)
			}
			quiet(s)
			if errs := invariants.Check(allEventsOf(s), invariants.Idle); len(errs) > 0 {
				rt.Fatalf("session %s not idle once its agent is: %v\n%v", id, errors.Join(errs...), dumpEvents(allEventsOf(s)))
			}
		}
		// End everything, then check every incarnation.
		for _, id := range ids {
			if s := get(id); s != nil {
				if err := s.Terminate(ctx); err != nil {
					rt.Fatalf("final terminate: %v", err)
				}
			}
		}
		st.mu.Lock()
		logs := append([][]schema.Event(nil), st.archived...)
		for _, log := range st.live {
			logs = append(logs, log)
		}
		st.mu.Unlock()
		for i, log := range logs {
			if errs := invariants.Check(log, invariants.Ended); len(errs) > 0 {
				rt.Fatalf("log %d: %v\n%v", i, errors.Join(errs...), types(log))
			}
		}
		a.mu.Lock()
		for _, c := range a.conns {
			c.mu.Lock()
			closed := c.closed
			c.mu.Unlock()
			if !closed {
				rt.Errorf("the agent of an ended session %s was never closed", c.id)
			}
		}
		a.mu.Unlock()
		m.Shutdown(ctx)
	})
}

// quiet waits until no reply is being forwarded (auto-approvals run on
// their own goroutines).
func quiet(s *Session) {
	for range 1000 {
		s.mu.Lock()
		n := s.holding
		s.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func allEventsOf(s *Session) []schema.Event {
	evs, _, _ := s.Events(context.Background(), 0, -1)
	return evs
}

// dumpEvents shows a log with each event's origin and data, to tell whose
// output landed where.
func dumpEvents(evs []schema.Event) string {
	out := ""
	for _, e := range evs {
		b, _ := json.Marshal(e.Data)
		out += fmt.Sprintf("\n %d %s syn=%v %s raw=%s", e.Sequence, e.Type, e.Synthetic, b, e.Raw)
	}
	return out
}
