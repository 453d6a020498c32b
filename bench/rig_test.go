package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/mock"
	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/server"
	"github.com/sandbox-agent/sandbox-agent/session"
	"github.com/sandbox-agent/sandbox-agent/store"
)

// turnTimeout bounds every wait, so a broken pipeline fails the run
// instead of hanging it. The report raises it for its million-delta turns.
var turnTimeout = 30 * time.Second

// rig is a real server on a loopback socket, with the mock agent (no pause
// between events) and the burst agent registered, and a client for it.
type rig struct {
	tb  testing.TB
	mgr *session.Manager
	ts  *httptest.Server
	tr  *http.Transport
	hc  *http.Client
	c   *client.Client
	ids int
}

func newRig(tb testing.TB, extra ...agent.Adapter) *rig {
	tb.Helper()
	return newRigStore(tb, nil, extra...)
}

// newRigStore is newRig on the given store (nil: the default, memory).
func newRigStore(tb testing.TB, st store.Store, extra ...agent.Adapter) *rig {
	tb.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := agent.NewRegistry(append([]agent.Adapter{mock.New(mock.Options{Interval: -1}), &burstAdapter{}}, extra...)...)
	mgr := session.NewManager(session.Config{Registry: reg, Dir: tb.TempDir(), Logger: quiet, Store: st})
	srv := server.New(server.Config{Manager: mgr, Logger: quiet, HomeDir: tb.TempDir()})
	ts := httptest.NewServer(srv)
	// Enough idle connections for ten subscribers plus the sender, so
	// connection churn is not what gets measured.
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	hc := &http.Client{Transport: tr}
	r := &rig{tb: tb, mgr: mgr, ts: ts, tr: tr, hc: hc, c: client.New(ts.URL, client.WithHTTPClient(hc))}
	tb.Cleanup(func() {
		mgr.Shutdown(context.Background())
		ts.CloseClientConnections()
		ts.Close()
		tr.CloseIdleConnections()
	})
	return r
}

// stream is one session with its SSE subscribers.
type stream struct {
	r    *rig
	id   string
	subs []*subscriber
	// last is the sequence of the newest turn.ended seen by every
	// subscriber (or the last event before the first turn).
	last uint64
}

// open creates a session of the agent and attaches n SSE subscribers that
// replay it from the start. It returns once every subscriber has caught up
// with the session's opening events.
func (r *rig) open(agentID string, n int, how reading, record bool) *stream {
	r.tb.Helper()
	return r.openReq(schema.CreateSessionRequest{Agent: agentID}, n, how, record)
}

// openReq is open with the whole create request.
func (r *rig) openReq(req schema.CreateSessionRequest, n int, how reading, record bool) *stream {
	r.tb.Helper()
	r.ids++
	id := fmt.Sprintf("bench-%d", r.ids)
	ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
	defer cancel()
	if _, err := r.c.CreateSession(ctx, id, req); err != nil {
		r.tb.Fatalf("create %s session: %v", req.Agent, err)
	}
	s := &stream{r: r, id: id}
	for range n {
		s.subs = append(s.subs, r.subscribe(id, how, record))
	}
	sess, err := r.mgr.Get(id)
	if err != nil {
		r.tb.Fatal(err)
	}
	s.last = sess.LastSequence()
	for _, sub := range s.subs {
		if err := sub.waitSeq(s.last); err != nil {
			r.tb.Fatal(err)
		}
	}
	return s
}

// turn sends one message and waits until every subscriber has received
// the turn's turn.ended. It returns the number of events of the turn.
func (s *stream) turn(msg string) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
	defer cancel()
	if err := s.r.c.SendMessage(ctx, s.id, schema.MessageRequest{Message: msg}); err != nil {
		s.r.tb.Fatalf("send %q: %v", msg, err)
	}
	s.answer(ctx)
	n, err := s.ended()
	if err != nil {
		s.r.tb.Fatal(err)
	}
	return n
}

// turnUnanswered is turn for agents that ask nothing: no in-process reader
// watches for questions, so the process's work is the pipeline's alone.
// It may be called from any goroutine.
func (s *stream) turnUnanswered(msg string) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
	defer cancel()
	if err := s.r.c.SendMessage(ctx, s.id, schema.MessageRequest{Message: msg}); err != nil {
		return 0, fmt.Errorf("send %q: %w", msg, err)
	}
	return s.ended()
}

// ended waits until every subscriber has read the turn's turn.ended and
// returns the number of events of the turn.
func (s *stream) ended() (uint64, error) {
	var end uint64
	for i, sub := range s.subs {
		seq, err := sub.waitEnd()
		if err != nil {
			return 0, err
		}
		if i > 0 && seq != end {
			return 0, fmt.Errorf("subscriber %d saw turn.ended at %d, subscriber 0 at %d", i, seq, end)
		}
		end = seq
	}
	n := end - s.last
	s.last = end
	return n, nil
}

// answer replies to every permission and question of the turn over HTTP,
// as a client does (the mock's demo waits for them like a real agent),
// until the turn ends. It reads the log in process: what is measured is
// the subscribers' stream, not this reader.
func (s *stream) answer(ctx context.Context) {
	sess, err := s.r.mgr.Get(s.id)
	if err != nil {
		s.r.tb.Fatal(err)
	}
	for cursor := s.last; ; {
		if !sess.Wait(ctx, cursor) {
			s.r.tb.Fatalf("turn of %s did not end", s.id)
		}
		evs, _, err := sess.Events(ctx, cursor, -1)
		if err != nil {
			s.r.tb.Fatal(err)
		}
		for _, ev := range evs {
			cursor = ev.Sequence
			switch d := ev.Data.(type) {
			case *schema.PermissionEventData:
				if ev.Type == schema.EventPermissionRequested {
					err = s.r.c.ReplyPermission(ctx, s.id, d.PermissionID, schema.ReplyOnce)
				}
			case *schema.QuestionEventData:
				if ev.Type == schema.EventQuestionRequested {
					err = s.r.c.ReplyQuestion(ctx, s.id, d.QuestionID, [][]string{{d.Options[0]}})
				}
			}
			if err != nil {
				s.r.tb.Fatal(err)
			}
			if ev.Type == schema.EventTurnEnded {
				return
			}
		}
	}
}

// close ends the session, detaches the subscribers and deletes it. The
// session is terminated first and every subscriber reads its session.ended
// before the delete: a delete that wipes the log under an SSE handler that
// has not read the last event yet is a different path (and, at the time of
// writing, a busy loop in the server), not what is measured here.
func (s *stream) close() {
	ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
	defer cancel()
	if err := s.r.c.Terminate(ctx, s.id); err != nil {
		s.r.tb.Fatalf("terminate %s: %v", s.id, err)
	}
	for i, sub := range s.subs {
		if _, err := sub.waitEnded(); err != nil {
			s.r.tb.Fatalf("subscriber %d: %v", i, err)
		}
		sub.stop()
	}
	if err := s.r.c.DeleteSession(ctx, s.id); err != nil {
		s.r.tb.Fatalf("delete %s: %v", s.id, err)
	}
}

// reading says how a subscriber reads the SSE stream.
type reading int

const (
	// goClient decodes every event with the Go SDK (client.StreamEvents),
	// as an application would.
	goClient reading = iota
	// rawSSE only splits frames and reads the id line (and spots the
	// lifecycle types in the data line): what remains is the server's cost.
	rawSSE
)

func (m reading) String() string {
	if m == rawSSE {
		return "raw"
	}
	return "go"
}

// subscriber reads a session's SSE stream and checks that sequences arrive
// contiguous from 1: nothing lost, nothing repeated, nothing reordered.
type subscriber struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the stream goroutine returns
	ends   chan uint64   // the sequence of every turn.ended
	ended  chan uint64   // the sequence of session.ended
	caught chan uint64   // every sequence, only until the opening catch-up

	last     uint64 // owned by the stream goroutine
	catching bool
	record   bool

	mu     sync.Mutex
	err    error
	events []schema.Event // when recording (only Sequence and Type when raw)
}

func (r *rig) subscribe(id string, how reading, record bool) *subscriber {
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscriber{cancel: cancel, done: make(chan struct{}), ends: make(chan uint64, 64),
		ended: make(chan uint64, 1), caught: make(chan uint64, 64), catching: true, record: record}
	go func() {
		defer close(s.done)
		if how == rawSSE {
			if err := r.readRaw(ctx, id, s.on); err != nil && ctx.Err() == nil {
				s.fail(fmt.Errorf("subscriber of %s: %w", id, err))
			}
			return
		}
		for ev, err := range r.c.StreamEvents(ctx, id, client.StreamOptions{RetryDelay: 10 * time.Millisecond}) {
			if err != nil {
				s.fail(fmt.Errorf("subscriber of %s: %w", id, err))
				return
			}
			if !s.on(ev.Sequence, ev.Type, &ev) {
				return
			}
		}
	}()
	return s
}

// on takes one received event; false stops the stream.
func (s *subscriber) on(seq uint64, typ schema.EventType, ev *schema.Event) bool {
	if seq != s.last+1 {
		s.fail(fmt.Errorf("got sequence %d after %d", seq, s.last))
		return false
	}
	s.last = seq
	if s.record {
		rec := schema.Event{Sequence: seq, Type: typ}
		if ev != nil {
			rec = *ev
		}
		s.mu.Lock()
		s.events = append(s.events, rec)
		s.mu.Unlock()
	}
	if s.catching {
		select {
		case s.caught <- seq:
		default:
			s.catching = false // the opening is long over
		}
	}
	switch typ {
	case schema.EventSessionEnded:
		select {
		case s.ended <- seq:
		default:
		}
	case schema.EventTurnEnded:
		select {
		case s.ends <- seq:
		default:
			s.fail(fmt.Errorf("turn.ended backlog full"))
			return false
		}
	}
	return true
}

// readRaw reads the session's SSE stream without decoding events: the id
// line gives the sequence; the data line is only searched for the two
// lifecycle types the harness waits for.
func (r *rig) readRaw(ctx context.Context, id string, fn func(uint64, schema.EventType, *schema.Event) bool) error {
	var (
		turnEnded    = []byte(`"type":"turn.ended"`)
		sessionEnded = []byte(`"type":"session.ended"`)
	)
	return r.frames(ctx, id, func(seq uint64, data []byte) bool {
		var typ schema.EventType
		switch {
		case bytes.Contains(data, turnEnded):
			typ = schema.EventTurnEnded
		case bytes.Contains(data, sessionEnded):
			typ = schema.EventSessionEnded
		}
		return fn(seq, typ, nil)
	})
}

// frames reads the session's SSE stream frame by frame: fn gets each
// event's sequence and its data line (valid only during the call).
func (r *rig) frames(ctx context.Context, id string, fn func(seq uint64, data []byte) bool) error {
	return readFrames(ctx, r.hc, r.ts.URL+"/v1/sessions/"+id+"/events/sse", fn)
}

// readFrames reads an SSE stream frame by frame (see rig.frames).
func readFrames(ctx context.Context, hc *http.Client, url string, fn func(seq uint64, data []byte) bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET events/sse: %s", resp.Status)
	}
	br := bufio.NewReaderSize(resp.Body, 16<<10)
	var seq uint64
	var data []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A data line longer than the buffer (a whole long message):
			// only its start is kept.
			data = append(data[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			line = nil
		}
		if err != nil {
			return err
		}
		switch {
		case bytes.HasPrefix(line, []byte("id:")):
			seq, err = strconv.ParseUint(string(bytes.TrimSpace(line[3:])), 10, 64)
			if err != nil {
				return fmt.Errorf("bad id line %q", line)
			}
		case bytes.HasPrefix(line, []byte("data:")):
			data = append(data[:0], line...)
		case line != nil && len(bytes.TrimSpace(line)) == 0:
			if seq != 0 && !fn(seq, data) {
				return nil
			}
			seq, data = 0, data[:0]
		}
	}
}

func (s *subscriber) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *subscriber) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	return fmt.Errorf("subscriber stream ended early")
}

// waitSeq waits until the subscriber has read the event with sequence seq.
func (s *subscriber) waitSeq(seq uint64) error {
	timer := time.NewTimer(turnTimeout)
	defer timer.Stop()
	for {
		select {
		case got := <-s.caught:
			if got >= seq {
				return nil
			}
		case <-s.done:
			return s.failure()
		case <-timer.C:
			return fmt.Errorf("subscriber: no event %d after %s", seq, turnTimeout)
		}
	}
}

// waitEnd returns the sequence of the next turn.ended the subscriber read.
func (s *subscriber) waitEnd() (uint64, error) {
	select {
	case seq := <-s.ends:
		return seq, nil
	case <-s.done:
		// The stream may have ended right after queueing a turn.ended.
		select {
		case seq := <-s.ends:
			return seq, nil
		default:
		}
		return 0, s.failure()
	case <-time.After(turnTimeout):
		return 0, fmt.Errorf("subscriber: no turn.ended after %s", turnTimeout)
	}
}

// waitEnded returns the sequence of the session.ended the subscriber read.
func (s *subscriber) waitEnded() (uint64, error) {
	select {
	case seq := <-s.ended:
		return seq, nil
	case <-s.done:
		return 0, s.failure()
	case <-time.After(turnTimeout):
		return 0, fmt.Errorf("subscriber: no session.ended after %s", turnTimeout)
	}
}

func (s *subscriber) stop() {
	s.cancel()
	<-s.done
}

func (s *subscriber) recorded() []schema.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]schema.Event(nil), s.events...)
}

// meter accumulates what the timed parts of a benchmark did: events and
// heap allocations (of the whole process: server, agent and client run
// in it alike). Work done while the timer is stopped is left out.
type meter struct {
	b       *testing.B
	events  uint64
	mallocs uint64
	mark    uint64
}

func (m *meter) start() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.mark = ms.Mallocs
	m.b.StartTimer()
}

func (m *meter) stop() {
	m.b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.mallocs += ms.Mallocs - m.mark
}

// report adds the per-event metrics; delivered is how many subscribers
// received every event.
func (m *meter) report(delivered int) {
	b := m.b
	if b.N == 0 || m.events == 0 {
		return
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(m.events)/float64(b.N), "events/turn")
	b.ReportMetric(float64(m.events)/secs, "events/s")
	if delivered > 1 {
		b.ReportMetric(float64(m.events)*float64(delivered)/secs, "deliveries/s")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(m.events), "ns/event")
	b.ReportMetric(float64(m.mallocs)/float64(m.events), "allocs/event")
}
