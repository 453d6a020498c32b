//go:build !race

package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/claude"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/session"
)

// TestLinearWork streams one assistant message of a million text deltas
// through the Claude converter, the session (pipeline, log, store) and a
// reader that encodes every event the way SSE subscribers do, and checks
// that the work per delta does not grow with the message: the bytes and
// objects allocated per delta, measured over windows of 10 000 deltas, stay
// within twice those of the message's first deltas. It counts allocations,
// never time, so it holds on a busy machine; and it stops at the first bad
// window, so a quadratic path fails in seconds instead of running for hours.
func TestLinearWork(t *testing.T) {
	const (
		n      = 1_000_000
		warmup = 1_000  // deltas before the baseline window
		window = 10_000 // deltas per measured window
	)
	if testing.Short() {
		t.Skip("feeds a million deltas")
	}
	ad := &linesAdapter{}
	mgr := session.NewManager(session.Config{Registry: agent.NewRegistry(ad), Dir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer mgr.Shutdown(context.Background())
	ctx := context.Background()
	sess, err := mgr.Create(ctx, "linear", schema.CreateSessionRequest{Agent: linesID})
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Send(ctx, agent.Prompt{Text: "go"}); err != nil {
		t.Fatal(err)
	}
	rd := followEncoded(sess)
	defer rd.stop()

	conv := claude.NewConverter()
	type mark struct{ bytes, objects uint64 }
	// settle waits until the reader has encoded everything stored so far,
	// then reads the allocation counters.
	settle := func() mark {
		if err := rd.waitFor(sess.LastSequence()); err != nil {
			t.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return mark{ms.TotalAlloc, ms.Mallocs}
	}
	var (
		deltas    int
		base      mark // per delta, of the baseline window
		from      mark
		worst     [2]float64 // highest ratio to the baseline: bytes, objects
		completed []byte     // the assistant line
	)
	check := func() {
		switch {
		case deltas == warmup:
			from = settle()
		case deltas == warmup+window:
			to := settle()
			base = mark{(to.bytes - from.bytes) / window, (to.objects - from.objects) / window}
			t.Logf("baseline: %d bytes and %d objects allocated per delta", base.bytes, base.objects)
			from = to
		case deltas > warmup+window && (deltas-warmup)%window == 0:
			to := settle()
			b := float64(to.bytes-from.bytes) / window
			o := float64(to.objects-from.objects) / window
			worst[0], worst[1] = max(worst[0], b/float64(base.bytes)), max(worst[1], o/float64(base.objects))
			if b > 2*float64(base.bytes) || o > 2*float64(base.objects) {
				t.Fatalf("deltas %d–%d cost %.0f bytes and %.1f objects each, against %d and %d for deltas %d–%d: the work per delta grows with the message",
					deltas-window, deltas, b, o, base.bytes, base.objects, warmup, warmup+window)
			}
			from = to
		}
		if deltas == n { // what follows is the message's end
			from = settle()
		}
	}
	isDelta := false // the line being fed is a delta's
	claudeTurn(func(line []byte) {
		if strings.HasPrefix(string(line[:min(len(line), 24)]), `{"type":"assistant"`) {
			completed = append([]byte(nil), line...)
		}
		for _, d := range conv.Line(line) {
			ad.sink.Emit(d)
		}
		if isDelta {
			isDelta = false
			deltas++
			check()
		}
	}, "msg_linear", n, func(i int, buf []byte) []byte {
		isDelta = true
		return tokText(i, buf)
	})
	end := settle()
	t.Logf("worst window: %.2f× the baseline's bytes, %.2f× its objects per delta", worst[0], worst[1])

	// The end of the message carries the whole text once (assistant line,
	// item.completed, its encoding): its cost is a multiple of the text,
	// not of the text times the deltas.
	if per := float64(end.bytes-from.bytes) / float64(len(completed)); per > 16 {
		t.Errorf("completing the message allocated %.1f bytes per byte of its %d-byte line", per, len(completed))
	}

	// Nothing lost: every delta became an item.delta, in order, and the
	// completed item holds the whole text.
	evs, _, err := sess.Events(ctx, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	var got int
	var text string
	for i, ev := range evs {
		if ev.Sequence != uint64(i+1) {
			t.Fatalf("event %d has sequence %d", i, ev.Sequence)
		}
		switch ev.Type {
		case schema.EventItemDelta:
			got++
		case schema.EventItemCompleted:
			if it := ev.Data.(*schema.ItemEventData).Item; it.Kind == schema.KindMessage && *it.Role == schema.RoleAssistant {
				text = it.Text()
			}
		}
	}
	if got != n || len(text) != n*len("tok ") {
		t.Fatalf("%d item.delta events and a %d-byte completed text, want %d and %d", got, len(text), n, n*len("tok "))
	}
	if rd.last.Load() != uint64(len(evs)) {
		t.Fatalf("the reader encoded up to %d of %d events", rd.last.Load(), len(evs))
	}
}

// linesAdapter is an agent whose native output the test feeds itself,
// through the sink it keeps: no process, no goroutine of its own.
type linesAdapter struct{ sink agent.Sink }

const linesID = "lines"

func (a *linesAdapter) Info() agent.Info {
	return agent.Info{ID: linesID, Name: "Lines", Capabilities: schema.AgentCapabilities{TextMessages: true, StreamingDeltas: true, ItemStarted: true},
		PermissionModes: []string{schema.PermissionModeDefault}}
}
func (a *linesAdapter) Status(context.Context) (agent.InstallStatus, error) {
	return agent.InstallStatus{Installed: true, Version: "bench"}, nil
}
func (a *linesAdapter) Modes(context.Context) ([]agent.Mode, error) {
	return []agent.Mode{{ID: "build", Name: "Build"}}, nil
}
func (a *linesAdapter) Models(context.Context) (agent.ModelList, error) {
	return agent.ModelList{}, nil
}
func (a *linesAdapter) Open(_ context.Context, _ agent.Spec, sink agent.Sink) (agent.Conn, error) {
	a.sink = sink
	return linesConn{}, nil
}

type linesConn struct{}

func (linesConn) Send(context.Context, agent.Prompt) error  { return nil }
func (linesConn) Answer(context.Context, agent.Reply) error { return nil }
func (linesConn) Interrupt(context.Context) error           { return nil }
func (linesConn) Close(context.Context) error               { return nil }

// encodedReader follows a session's log the way an SSE handler does
// (Events, Encode and Wait), without the HTTP.
type encodedReader struct {
	cancel context.CancelFunc
	done   chan struct{}
	last   atomic.Uint64
	moved  chan struct{}
	err    atomic.Value
}

func followEncoded(s *session.Session) *encodedReader {
	ctx, cancel := context.WithCancel(context.Background())
	r := &encodedReader{cancel: cancel, done: make(chan struct{}), moved: make(chan struct{}, 1)}
	go func() {
		defer close(r.done)
		var cursor uint64
		for s.Wait(ctx, cursor) {
			evs, _, err := s.Events(ctx, cursor, 256)
			if err != nil {
				r.err.Store(err)
				return
			}
			for i := range evs {
				ev, err := s.Encode(&evs[i], false)
				if err == nil && ev.Sequence != cursor+1 {
					err = fmt.Errorf("read %d after %d", ev.Sequence, cursor)
				}
				if err == nil {
					_, err = ev.WriteTo(io.Discard)
				}
				if err != nil {
					r.err.Store(err)
					return
				}
				cursor = ev.Sequence
			}
			r.last.Store(cursor)
			select {
			case r.moved <- struct{}{}:
			default:
			}
		}
	}()
	return r
}

// waitFor waits until the reader has read up to seq.
func (r *encodedReader) waitFor(seq uint64) error {
	for r.last.Load() < seq {
		select {
		case <-r.moved:
		case <-r.done:
			if err, _ := r.err.Load().(error); err != nil {
				return err
			}
			return fmt.Errorf("reader stopped at %d, before %d", r.last.Load(), seq)
		}
	}
	return nil
}

func (r *encodedReader) stop() {
	r.cancel()
	<-r.done
}
