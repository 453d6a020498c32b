package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// burstAdapter is an agent that, for a prompt "<n>", emits one assistant
// message as fast as the sink takes it: item.started, n-3 deltas,
// item.completed and turn.ended (n drafts; the session adds turn.started).
// "<n>x<size>" gives every draft a native payload of about size bytes.
// It isolates the pipeline from any agent's own pacing.
type burstAdapter struct {
	// done, when set, receives the number of drafts of a turn after its last
	// Emit returned, i.e. once every event of the turn is stored.
	done chan int
}

const burstID = "burst"

func (a *burstAdapter) Info() agent.Info {
	return agent.Info{ID: burstID, Name: "Burst", Capabilities: schema.AgentCapabilities{
		TextMessages: true, StreamingDeltas: true, ItemStarted: true,
	}, PermissionModes: []string{schema.PermissionModeDefault}}
}

func (a *burstAdapter) Status(context.Context) (agent.InstallStatus, error) {
	return agent.InstallStatus{Installed: true, Version: "bench"}, nil
}

func (a *burstAdapter) Modes(context.Context) ([]agent.Mode, error) {
	return []agent.Mode{{ID: "build", Name: "Build"}}, nil
}

func (a *burstAdapter) Models(context.Context) (agent.ModelList, error) {
	return agent.ModelList{}, nil
}

func (a *burstAdapter) Open(_ context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	return &burstConn{a: a, sink: sink, native: "burst-" + spec.SessionID}, nil
}

type burstConn struct {
	a      *burstAdapter
	sink   agent.Sink
	native string

	mu     sync.Mutex
	turns  int
	closed bool
	wg     sync.WaitGroup // the emitting goroutines
}

// Send emits the turn from its own goroutine: Session.Send must return
// before the turn's events are known to the caller, as with real agents.
func (c *burstConn) Send(_ context.Context, p agent.Prompt) error {
	count, size, sized := strings.Cut(strings.TrimSpace(p.Text), "x")
	n, err := strconv.Atoi(count)
	rawSize := 0
	if err == nil && sized {
		rawSize, err = strconv.Atoi(size)
	}
	if err != nil || n < 3 {
		return agent.Errorf(agent.ErrInvalidRequest, "burst: prompt must be a number >= 3, optionally x<raw size>, got %q", p.Text)
	}
	raw := burstRaw
	if sized {
		raw = json.RawMessage(`{"pad":"` + strings.Repeat("x", rawSize) + `"}`)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return agent.Errorf(agent.ErrInvalidRequest, "burst: session closed")
	}
	c.turns++
	id := fmt.Sprintf("%s_%d", c.native, c.turns)
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		c.emitTurn(id, n, raw)
		if c.a.done != nil {
			c.a.done <- n
		}
	}()
	return nil
}

// A realistic native payload is kept with every event (SSE clients do not
// ask for raw, so it is stored but not sent).
var burstRaw = json.RawMessage(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"token "}}`)

func (c *burstConn) emitTurn(id string, n int, raw json.RawMessage) {
	msg := agent.Message(id, schema.RoleAssistant, schema.Text(""))
	first := agent.ItemStarted(msg, raw)
	first.NativeSessionID = c.native
	c.sink.Emit(first)
	for range n - 3 {
		c.sink.Emit(agent.Delta(id, "token ", raw))
	}
	c.sink.Emit(agent.ItemCompleted(agent.Message(id, schema.RoleAssistant, schema.Text("token ...")), raw))
	c.sink.Emit(agent.TurnEnded(nil, raw))
}

func (c *burstConn) Answer(context.Context, agent.Reply) error { return nil }
func (c *burstConn) Interrupt(context.Context) error           { return nil }

func (c *burstConn) Close(context.Context) error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}
