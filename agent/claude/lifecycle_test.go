package claude

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// alive reports whether a process with that pid still runs (and is not a
// zombie waiting to be reaped).
func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil && process.Live() > 0
}

// within fails the test when f does not return in d: a hang detector for
// operations that must be bounded, not a performance assertion.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %s", what, d)
	}
}

// Regression (#20 bug 3): a Close that lands while a send restarts the
// process (after the process started, before it became current) leaves no
// claude behind.
func TestCloseDuringRestartLeavesNoProcess(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s"})
	ctx := context.Background()
	send(t, c, "bye")
	rec.waitFor(t, 1, "turn.ended", isType(schema.EventTurnEnded))
	deadline := time.Now().Add(10 * time.Second)
	for pidOf(c) != 0 && time.Now().Before(deadline) { // the CLI exits after "bye"
		time.Sleep(5 * time.Millisecond)
	}
	before := process.Live()
	startedHook = func(c *conn, _ *proc) { _ = c.Close(context.Background()) }
	defer func() { startedHook = nil }()
	if err := c.Send(ctx, agent.Prompt{Text: "again"}); !errors.Is(err, agent.ErrProcessExited) {
		t.Fatalf("send on a closed session: %v", err)
	}
	startedHook = nil
	if n := process.Live(); n > before {
		t.Fatalf("%d claude processes outlive Close (had %d)", n, before)
	}
}

// Regression (#20 bug 6): an interrupt that had to kill the process does
// not leave an "interrupted" mark for the next turn: its real failure is
// reported as an error and its turn is not called interrupted.
func TestKilledInterruptDoesNotMaskNextFailure(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{InterruptGrace: 200 * time.Millisecond})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s"})
	ctx := context.Background()
	send(t, c, "stubborn")
	rec.waitFor(t, 1, "delta", isType(schema.EventItemDelta))
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 1, "turn.ended", isType(schema.EventTurnEnded))
	send(t, c, "fail")
	ended := rec.waitFor(t, 2, "turn.ended", isType(schema.EventTurnEnded))[1].Data.(*schema.TurnEventData)
	if strings.Contains(string(ended.Metadata), "interrupted") {
		t.Errorf("the failed turn is marked interrupted: %s", ended.Metadata)
	}
	if len(filter(rec.all(), isType(schema.EventError))) == 0 {
		t.Error("the failed turn produced no error event")
	}
}

// Regression (#8 bug 1): an agent that stops reading stdin, sent a message
// larger than a pipe buffer, blocks neither Interrupt nor Close, and no
// process is left.
func TestHungAgentCannotBlockInterruptOrClose(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{InterruptGrace: 300 * time.Millisecond, Env: []string{"FAKE_CLAUDE_DEAF=1"}})
	c, _ := openFake(t, a, agent.Spec{SessionID: "s"})
	pid := pidOf(c)
	big := strings.Repeat("x", 512<<10)
	sent := make(chan error, 1)
	go func() { sent <- c.Send(context.Background(), agent.Prompt{Text: big}) }()
	time.Sleep(100 * time.Millisecond) // let the write fill the pipe
	within(t, 20*time.Second, "Interrupt", func() { _ = c.Interrupt(context.Background()) })
	within(t, 20*time.Second, "Close", func() { _ = c.Close(context.Background()) })
	select {
	case err := <-sent:
		if err == nil {
			t.Error("a message the agent never read was reported as sent")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Send still blocked after Close")
	}
	if alive(pid) {
		t.Fatalf("claude %d outlives Close", pid)
	}
}

// Regression (#8 bug 4): an agent that never answers initialize fails Open
// after the start timeout, with its stderr, and is killed.
func TestNeverInitializedAgentFailsOpen(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{StartTimeout: 300 * time.Millisecond, Env: []string{"FAKE_CLAUDE_NO_INIT=1"}})
	// The start timeout counts from when the CLI is up and has said why it
	// waits (its stderr line), not from a fork a loaded machine may take
	// longer than the timeout to run: the error must carry that line.
	const said = "a login that never comes"
	startedHook = func(_ *conn, p *proc) {
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(p.p.StderrText(), said) && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	defer func() { startedHook = nil }()
	before := process.Live()
	_, err := a.Open(context.Background(), agent.Spec{SessionID: "s", Dir: t.TempDir()}, newRecorder())
	if err == nil {
		t.Fatal("Open succeeded with an agent that never answered initialize")
	}
	if !strings.Contains(err.Error(), "did not answer initialize") || !strings.Contains(err.Error(), said) {
		t.Errorf("error lacks the reason or the stderr: %v", err)
	}
	if n := process.Live(); n > before {
		t.Fatalf("%d processes left (had %d)", n, before)
	}
}
