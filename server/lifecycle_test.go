package server_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/invariants"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// laggyAdapter replies at once but ends each turn only when the test says
// so (like a CLI whose result line comes a moment after its last reply).
type laggyAdapter struct {
	mu    sync.Mutex
	sinks map[string]agent.Sink
	open  map[string]int // turns sent and not ended, per session
}

func newLaggy() *laggyAdapter {
	return &laggyAdapter{sinks: map[string]agent.Sink{}, open: map[string]int{}}
}

func (a *laggyAdapter) Info() agent.Info {
	return agent.Info{ID: "laggy", Name: "Laggy", PermissionModes: []string{"default"}}
}
func (a *laggyAdapter) Status(context.Context) (agent.InstallStatus, error) {
	return agent.InstallStatus{Installed: true}, nil
}
func (a *laggyAdapter) Modes(context.Context) ([]agent.Mode, error) {
	return []agent.Mode{{ID: "build"}}, nil
}
func (a *laggyAdapter) Models(context.Context) (agent.ModelList, error) {
	return agent.ModelList{}, nil
}
func (a *laggyAdapter) Open(_ context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	a.mu.Lock()
	a.sinks[spec.SessionID] = sink
	a.mu.Unlock()
	return &laggyConn{a: a, id: spec.SessionID, sink: sink}, nil
}

// end ends the oldest running turn of session id.
func (a *laggyAdapter) end(id string) {
	a.mu.Lock()
	if a.open[id] == 0 {
		a.mu.Unlock()
		return
	}
	a.open[id]--
	sink := a.sinks[id]
	a.mu.Unlock()
	sink.Emit(agent.TurnEnded(nil, nil))
}

type laggyConn struct {
	a    *laggyAdapter
	id   string
	sink agent.Sink
}

func (c *laggyConn) Send(_ context.Context, p agent.Prompt) error {
	c.a.mu.Lock()
	c.a.open[c.id]++
	c.a.mu.Unlock()
	c.sink.Emit(agent.ItemCompleted(agent.Message("", schema.RoleUser, schema.Text(p.Text)), nil))
	c.sink.Emit(agent.ItemCompleted(agent.Message("", schema.RoleAssistant, schema.Text("re: "+p.Text)), nil))
	return nil
}
func (c *laggyConn) Answer(context.Context, agent.Reply) error { return nil }
func (c *laggyConn) Interrupt(context.Context) error           { return nil }
func (c *laggyConn) Close(context.Context) error               { return nil }

// Regression (#8 bug 6): messages/stream sent right after the previous
// turn's last reply (its turn.ended not out yet) streams the new turn, not
// the old turn's tail.
func TestMessageStreamShowsItsOwnTurn(t *testing.T) {
	a := newLaggy()
	e := startAPI(t, apiOpts{adapters: []agent.Adapter{a}})
	e.create("s", schema.CreateSessionRequest{Agent: "laggy"})
	e.send("s", "first")
	e.waitFor("s", 0, func(ev schema.Event) bool {
		d, ok := ev.Data.(*schema.ItemEventData)
		return ok && ev.Type == schema.EventItemCompleted && d.Item.Role != nil && *d.Item.Role == schema.RoleAssistant
	})
	got := make(chan []schema.Event, 1)
	go func() {
		var evs []schema.Event
		for ev, err := range e.c.StreamTurn(ctxT(t), "s", schema.MessageRequest{Message: "second"}, false) {
			if err != nil {
				t.Error(err)
				break
			}
			evs = append(evs, ev)
		}
		got <- evs
	}()
	// The second message is queued behind the first turn: end both.
	e.waitFor("s", 0, func(ev schema.Event) bool {
		d, ok := ev.Data.(*schema.ItemEventData)
		return ok && ev.Type == schema.EventItemCompleted && d.Item.Text() == "second"
	})
	a.end("s")
	a.end("s")
	evs := <-got
	sk := skeleton(evs)
	if len(evs) < 2 || evs[0].Type != schema.EventTurnStarted || evs[len(evs)-1].Type != schema.EventTurnEnded {
		t.Fatalf("stream is not exactly the new turn: %v", sk)
	}
	for _, ev := range evs {
		if d, ok := ev.Data.(*schema.ItemEventData); ok && d.Item.Text() == "re: first" {
			t.Fatalf("stream shows the previous turn: %v", sk)
		}
	}
}

// Regression (#20 bug 7, #8 bug 7): a reader streaming a session that is
// deleted receives its session.ended, and the stream then ends.
func TestDeleteStreamEndsWithSessionEnded(t *testing.T) {
	a := newLaggy()
	e := startAPI(t, apiOpts{adapters: []agent.Adapter{a}})
	for i := range 10 {
		id := "d" + itoa(i)
		e.create(id, schema.CreateSessionRequest{Agent: "laggy"})
		e.send(id, "hello")
		resp, br := openSSE(t, e, "/v1/sessions/"+id+"/events/sse", nil)
		var evs []schema.Event
		read := func() bool {
			f, _ := readFrame(t, br)
			var ev schema.Event
			if err := json.Unmarshal([]byte(f.data), &ev); err != nil {
				t.Fatal(err)
			}
			evs = append(evs, ev)
			return ev.Type == schema.EventSessionEnded
		}
		read() // attached
		if err := e.c.DeleteSession(ctxT(t), id); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for !read() {
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("stream of deleted session %s never delivered session.ended; got %v", id, skeleton(evs))
		}
		for _, err := range invariants.Check(evs, invariants.Ended) {
			t.Error(err)
		}
		resp.Body.Close()
	}
}
