package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store/memory"
)

// echoAdapter asks for permission on every message and, when answered,
// emits its reaction synchronously from inside Answer.
type echoAdapter struct{}

func (echoAdapter) Info() agent.Info {
	return agent.Info{ID: "echo", PermissionModes: []string{"default"}}
}
func (echoAdapter) Status(context.Context) (agent.InstallStatus, error) {
	return agent.InstallStatus{Installed: true}, nil
}
func (echoAdapter) Modes(context.Context) ([]agent.Mode, error) {
	return []agent.Mode{{ID: "build"}}, nil
}
func (echoAdapter) Models(context.Context) (agent.ModelList, error) { return agent.ModelList{}, nil }
func (echoAdapter) Open(_ context.Context, _ agent.Spec, sink agent.Sink) (agent.Conn, error) {
	return &echoConn{sink: sink}, nil
}

type echoConn struct{ sink agent.Sink }

func (c *echoConn) Send(_ context.Context, p agent.Prompt) error {
	c.sink.Emit(agent.Draft{Type: schema.EventPermissionRequested, Data: &schema.PermissionEventData{PermissionID: "p-" + p.Text, Action: "Bash"}})
	return nil
}
func (c *echoConn) Answer(_ context.Context, r agent.Reply) error {
	c.sink.Emit(agent.ItemCompleted(agent.Message("after-"+r.ID, schema.RoleAssistant, schema.Text("done")), nil))
	c.sink.Emit(agent.TurnEnded(nil, nil))
	return nil
}
func (c *echoConn) Interrupt(context.Context) error { return nil }
func (c *echoConn) Close(context.Context) error     { return nil }

// TestAnswerEffectsFollowResolution: what an agent does in answer to a reply
// is recorded after the reply's resolved event, even when the adapter emits
// from inside Answer (which must not deadlock either).
func TestAnswerEffectsFollowResolution(t *testing.T) {
	ctx := context.Background()
	m := NewManager(Config{Registry: agent.NewRegistry(echoAdapter{})})
	s, err := m.Create(ctx, "s", schema.CreateSessionRequest{Agent: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	for _, reply := range []schema.PermissionReply{schema.ReplyOnce, schema.ReplyAlways, ""} {
		if err := s.Send(ctx, agent.Prompt{Text: string(reply) + "x"}); err != nil {
			t.Fatal(err)
		}
		if reply != "" {
			if err := s.ReplyPermission(ctx, "p-"+string(reply)+"x", reply); err != nil {
				t.Fatal(err)
			}
		}
	}
	evs, _, _ := s.Events(ctx, 0, -1)
	var types []string
	for _, ev := range evs {
		types = append(types, string(ev.Type))
	}
	want := []string{"session.started",
		"turn.started", "permission.requested", "permission.resolved", "item.started", "item.delta", "item.completed", "turn.ended",
		"turn.started", "permission.requested", "permission.resolved", "item.started", "item.delta", "item.completed", "turn.ended",
		// the third request matches the "always" reply: auto-approved.
		"turn.started", "permission.requested"}
	if len(types) < len(want) {
		t.Fatalf("got %v", types)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("event %d is %s, want %s\n%v", i, types[i], want[i], types)
		}
	}
	m.Shutdown(ctx)
}

// TestUpdatedAtFollowsConfigClock: updatedAt, like createdAt and event
// times, comes from Config.Now, not the wall clock.
func TestUpdatedAtFollowsConfigClock(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	m := NewManager(Config{Registry: agent.NewRegistry(newCtl()), Store: memory.New(), Dir: t.TempDir(), Now: now})
	t.Cleanup(func() { m.Shutdown(context.Background()) })
	s := mustCreate(t, m, "s")
	if got, want := s.Info().UpdatedAt, clock.UnixMilli(); got != want {
		t.Fatalf("updatedAt after create = %d, want %d", got, want)
	}
	mu.Lock()
	clock = clock.Add(time.Hour)
	mu.Unlock()
	if err := s.Send(context.Background(), agent.Prompt{Text: "quick"}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Info().UpdatedAt, clock.UnixMilli(); got != want {
		t.Fatalf("updatedAt after a message = %d, want %d (the configured clock)", got, want)
	}
}
