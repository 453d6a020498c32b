package mock

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Sink that keeps every draft.
type recorder struct {
	mu     sync.Mutex
	drafts []agent.Draft
}

func (r *recorder) Emit(d agent.Draft) {
	r.mu.Lock()
	r.drafts = append(r.drafts, d)
	r.mu.Unlock()
}

func (r *recorder) all() []agent.Draft {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]agent.Draft(nil), r.drafts...)
}

// waitFor polls until ok holds for the drafts so far.
func (r *recorder) waitFor(t *testing.T, what string, ok func([]agent.Draft) bool) []agent.Draft {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ds := r.all()
		if ok(ds) {
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; got:\n%s", what, strings.Join(sigs(ds), "\n"))
		}
		time.Sleep(time.Millisecond)
	}
}

// count returns how many drafts have signature s.
func count(ds []agent.Draft, s string) int {
	n := 0
	for _, x := range sigs(ds) {
		if x == s {
			n++
		}
	}
	return n
}

// turnsEnded waits until n turn.ended drafts are out.
func (r *recorder) turnsEnded(t *testing.T, n int) []agent.Draft {
	t.Helper()
	return r.waitFor(t, "turn.ended", func(ds []agent.Draft) bool { return count(ds, "turn.ended") >= n })
}

// sig is a compact description of a draft: its type and native id.
func sig(d agent.Draft) string {
	s := string(d.Type)
	switch data := d.Data.(type) {
	case *schema.ItemEventData:
		s += " " + schema.Deref(data.Item.NativeItemID)
	case *schema.ItemDeltaData:
		s += " " + schema.Deref(data.NativeItemID)
	case *schema.PermissionEventData:
		s += " " + data.PermissionID
	case *schema.QuestionEventData:
		s += " " + data.QuestionID
	}
	return s
}

func sigs(ds []agent.Draft) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = sig(d)
	}
	return out
}

// session opens a mock session with the given interval and closes it at
// the end of the test.
func session(t *testing.T, interval time.Duration) (*conn, *recorder) {
	t.Helper()
	rec := &recorder{}
	c, err := New(Options{Interval: interval}).Open(context.Background(), agent.Spec{SessionID: "s1", AgentMode: "build"}, rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c.(*conn), rec
}

func send(t *testing.T, c *conn, text string) {
	t.Helper()
	if err := c.Send(context.Background(), agent.Prompt{Text: text}); err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
}

// waitQueue polls until ok holds for the session's turn queue.
func waitQueue(t *testing.T, c *conn, what string, ok func(queue []*turn) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		done := ok(c.queue)
		c.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for " + what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitAwaiting waits until the running turn has played its script and waits
// for answers.
func waitAwaiting(t *testing.T, c *conn) {
	t.Helper()
	waitQueue(t, c, "the turn to await answers", func(q []*turn) bool { return len(q) > 0 && q[0].awaiting })
}

// waitIdle waits until no turn is queued or running.
func waitIdle(t *testing.T, c *conn) {
	t.Helper()
	waitQueue(t, c, "the session to go idle", func(q []*turn) bool { return len(q) == 0 })
}

// item returns the item of the first draft with signature s.
func item(t *testing.T, ds []agent.Draft, s string) schema.Item {
	t.Helper()
	for _, d := range ds {
		if sig(d) == s {
			return d.Data.(*schema.ItemEventData).Item
		}
	}
	t.Fatalf("no %s in:\n%s", s, strings.Join(sigs(ds), "\n"))
	return schema.Item{}
}

// after returns the drafts following the first one with signature s.
func after(ds []agent.Draft, s string) []agent.Draft {
	for i, d := range ds {
		if sig(d) == s {
			return ds[i+1:]
		}
	}
	return nil
}
