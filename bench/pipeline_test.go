package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/session"
)

func TestMain(m *testing.M) {
	switch {
	case isFakeClaude():
		fakeClaude()
		return
	case isSSEReader():
		sseReader()
		return
	}
	goleak.VerifyTestMain(m)
}

// sessionEvents bounds how many events a benchmark session accumulates
// before it is replaced (with the timer stopped): the memory store keeps
// every event, and a benchmark must not measure a growing heap.
const sessionEvents = 20000

// workloads are the turns the HTTP benchmarks play.
var workloads = []struct {
	name, agent, prompt string
}{
	// The mock agent's streamed markdown document: 8 deltas.
	{"mock-markdown", "mock", "markdown"},
	// Every block of the mock agent (~50 events, HITL requests included).
	{"mock-demo", "mock", "demo"},
	// One assistant message streamed as fast as the sink takes it.
	{"burst-100", burstID, "100"},
	{"burst-1000", burstID, "1000"},
}

// BenchmarkPipeline measures the event pipeline end to end over real HTTP
// on loopback: agent → session log → SSE → client, one turn per op, with
// one subscriber and with ten subscribers on the same session. client=go
// decodes every event with the Go SDK, as an application would; client=raw
// only frames the stream, leaving the server's own cost.
func BenchmarkPipeline(b *testing.B) {
	for _, how := range []reading{goClient, rawSSE} {
		for _, subs := range []int{1, 10} {
			for _, w := range workloads {
				b.Run(fmt.Sprintf("client=%s/subs=%d/%s", how, subs, w.name), func(b *testing.B) {
					benchTurns(b, w.agent, w.prompt, subs, how)
				})
			}
		}
	}
}

func benchTurns(b *testing.B, agentID, prompt string, subs int, how reading) {
	r := newRig(b)
	b.ReportAllocs()
	m := &meter{b: b}
	b.StopTimer()
	b.ResetTimer()

	s := r.open(agentID, subs, how, false)
	perTurn := s.turn(prompt) // warm-up, untimed: sizes the session's lifetime
	turnsPerSession := max(1, sessionEvents/int(perTurn))
	turns := 1
	for range b.N {
		if turns >= turnsPerSession {
			s.close()
			s = r.open(agentID, subs, how, false)
			turns = 0
		}
		m.start()
		m.events += s.turn(prompt)
		m.stop()
		turns++
	}
	s.close()
	m.report(subs)
}

// BenchmarkSessionSink measures the session pipeline alone, without HTTP:
// an adapter emits each turn's drafts as fast as Emit returns; an op ends
// when the last one is stamped and stored. "reader" adds one in-process
// reader that follows the log the way the SSE handler does (Events + Wait),
// without encoding.
func BenchmarkSessionSink(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("drafts=%d", n), func(b *testing.B) { benchSink(b, n, false) })
		b.Run(fmt.Sprintf("drafts=%d/reader", n), func(b *testing.B) { benchSink(b, n, true) })
	}
}

func benchSink(b *testing.B, drafts int, withReader bool) {
	burst := &burstAdapter{done: make(chan int, 1)}
	mgr := session.NewManager(session.Config{Registry: agent.NewRegistry(burst), Dir: b.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer mgr.Shutdown(context.Background())
	ctx := context.Background()
	prompt := agent.Prompt{Text: strconv.Itoa(drafts)}
	perTurn := uint64(drafts) + 1 // the session's turn.started
	turnsPerSession := max(1, sessionEvents/drafts)

	ids := 0
	var sess *session.Session
	var rd *reader
	openSession := func() {
		ids++
		var err error
		if sess, err = mgr.Create(ctx, fmt.Sprintf("sink-%d", ids), schema.CreateSessionRequest{Agent: burstID}); err != nil {
			b.Fatal(err)
		}
		if withReader {
			rd = follow(sess)
		}
	}
	closeSession := func() {
		if rd != nil {
			rd.stop()
			rd = nil
		}
		if err := mgr.Delete(ctx, sess.ID()); err != nil {
			b.Fatal(err)
		}
	}

	b.ReportAllocs()
	m := &meter{b: b}
	b.StopTimer()
	b.ResetTimer()
	openSession()
	turns := 0
	for range b.N {
		if turns >= turnsPerSession {
			closeSession()
			openSession()
			turns = 0
		}
		m.start()
		if err := sess.Send(ctx, prompt); err != nil {
			b.Fatal(err)
		}
		select {
		case <-burst.done:
		case <-time.After(turnTimeout):
			b.Fatal("burst turn did not finish")
		}
		if rd != nil {
			if err := rd.waitFor(sess.LastSequence()); err != nil {
				b.Fatal(err)
			}
		}
		m.events += perTurn
		m.stop()
		turns++
	}
	closeSession()
	m.report(1)
}

// reader follows a session's log in process, as the SSE handler does.
type reader struct {
	cancel context.CancelFunc
	done   chan struct{}
	seen   chan uint64 // the cursor after each page
}

func follow(s *session.Session) *reader {
	ctx, cancel := context.WithCancel(context.Background())
	r := &reader{cancel: cancel, done: make(chan struct{}), seen: make(chan uint64, 1<<12)}
	go func() {
		defer close(r.done)
		var cursor uint64
		for {
			evs, _, err := s.Events(ctx, cursor, 256)
			if err != nil {
				return
			}
			for i := range evs {
				if evs[i].Sequence != cursor+1 {
					return // waitFor reports the stall
				}
				cursor = evs[i].Sequence
			}
			if len(evs) > 0 {
				select {
				case r.seen <- cursor:
				default:
					<-r.seen // drop the oldest: only the newest cursor matters
					r.seen <- cursor
				}
			}
			if len(evs) < 256 && !s.Wait(ctx, cursor) {
				return
			}
		}
	}()
	return r
}

func (r *reader) waitFor(seq uint64) error {
	timer := time.NewTimer(turnTimeout)
	defer timer.Stop()
	for {
		select {
		case got := <-r.seen:
			if got >= seq {
				return nil
			}
		case <-r.done:
			return fmt.Errorf("reader stopped before sequence %d", seq)
		case <-timer.C:
			return fmt.Errorf("reader: no sequence %d after %s", seq, turnTimeout)
		}
	}
}

func (r *reader) stop() {
	r.cancel()
	<-r.done
}

// TestPipelineDeliversEveryEvent runs the benchmarks' harness once per
// workload and checks what it measures is right: every subscriber receives
// every event of the session, in order, identical to the paged log.
func TestPipelineDeliversEveryEvent(t *testing.T) {
	r := newRig(t)
	for _, how := range []reading{goClient, rawSSE} {
		for _, subs := range []int{1, 10} {
			for _, w := range workloads {
				t.Run(fmt.Sprintf("client=%s/subs=%d/%s", how, subs, w.name), func(t *testing.T) {
					r.tb = t
					s := r.open(w.agent, subs, how, true)
					var turnEvents uint64
					for range 3 {
						turnEvents += s.turn(w.prompt)
					}
					if turnEvents < 3*3 {
						t.Fatalf("3 turns produced only %d events", turnEvents)
					}
					if n, err := strconv.Atoi(w.prompt); err == nil && turnEvents != uint64(3*(n+1)) {
						t.Errorf("3 burst turns of %d drafts: %d events, want %d", n, turnEvents, 3*(n+1))
					}
					ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
					defer cancel()
					page, err := r.c.Events(ctx, s.id, client.EventsQuery{})
					if err != nil {
						t.Fatal(err)
					}
					want := page.Events
					if len(want) == 0 || want[len(want)-1].Sequence != s.last {
						t.Fatalf("paged log ends at %v, subscribers at %d", lastSeq(want), s.last)
					}
					for i, sub := range s.subs {
						got := sub.recorded()
						if len(got) != len(want) {
							t.Fatalf("subscriber %d: %d events, log has %d", i, len(got), len(want))
						}
						for j := range want {
							g, w := got[j], want[j]
							if how == rawSSE {
								w.EventID = ""
								if w.Type != schema.EventTurnEnded && w.Type != schema.EventSessionEnded {
									w.Type = "" // a raw reader only spots the lifecycle types
								}
							}
							if g.Sequence != w.Sequence || g.EventID != w.EventID || g.Type != w.Type {
								t.Fatalf("subscriber %d event %d: got %d %s %s, log has %d %s %s",
									i, j, g.Sequence, g.EventID, g.Type, w.Sequence, w.EventID, w.Type)
							}
						}
					}
					s.close()
				})
			}
		}
	}
}

func lastSeq(evs []schema.Event) any {
	if len(evs) == 0 {
		return "nothing"
	}
	return evs[len(evs)-1].Sequence
}
