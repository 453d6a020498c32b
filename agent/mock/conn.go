package mock

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// conn is one mock session. A single goroutine (loop) plays the queued turns
// one after another and is the only emitter after Open, so events never
// interleave and nothing is emitted once Close has returned.
type conn struct {
	native   string
	sink     agent.Sink
	interval time.Duration

	mu     sync.Mutex
	count  int     // turns sent so far; names the prefix mock_<count>
	queue  []*turn // queue[0] is the turn being played (or awaiting answers)
	closed bool

	wake   chan struct{} // a turn was queued
	done   chan struct{} // closed by Close
	exited chan struct{} // closed when loop returns
}

// turn is one sent message and its script.
type turn struct {
	prefix string
	prompt agent.Prompt
	script script

	// reissued: the turn an earlier process of the session was in when
	// the server restarted; it only waits for the answers it took over.
	reissued bool

	cancel   chan struct{} // closed by Interrupt
	canceled bool
	finished chan struct{} // closed when the turn's last event is out

	// Guarded by conn.mu.
	requested []string               // request ids emitted, in order
	replies   map[string]agent.Reply // answers received, by request id
	awaiting  bool                   // the script is played; waiting for answers
	answered  chan struct{}          // nudged when an answer arrives
}

func newConn(spec agent.Spec, sink agent.Sink, interval time.Duration) *conn {
	return &conn{
		native:   "mock-" + spec.SessionID,
		sink:     sink,
		interval: interval,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
}

// Send queues the message; its turn starts as soon as the previous ones are
// over. It returns without waiting for any event.
func (c *conn) Send(ctx context.Context, p agent.Prompt) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return agent.Errorf(agent.ErrInvalidRequest, "mock session is closed")
	}
	c.count++
	prefix := fmt.Sprintf("mock_%d", c.count)
	c.queue = append(c.queue, &turn{
		prefix:   prefix,
		prompt:   p,
		script:   scriptFor(prefix, p.Text),
		cancel:   make(chan struct{}),
		finished: make(chan struct{}),
		replies:  map[string]agent.Reply{},
		answered: make(chan struct{}, 1),
	})
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// Answer records a reply. When the running turn stopped on requests and all
// of them are answered, the turn goes on. Replies to requests the mock no
// longer waits for (an interrupted or finished turn) are accepted and
// dropped, as the reference does with every reply.
func (c *conn) Answer(ctx context.Context, r agent.Reply) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return agent.Errorf(agent.ErrInvalidRequest, "mock session is closed")
	}
	if len(c.queue) == 0 {
		return nil
	}
	t := c.queue[0]
	if !slices.Contains(t.requested, r.ID) {
		return nil
	}
	t.replies[r.ID] = r
	if t.awaiting {
		select {
		case t.answered <- struct{}{}:
		default:
		}
	}
	return nil
}

// Interrupt stops the running turn. It returns once the turn's closing
// turn.ended has been emitted, so nothing of that turn follows it. Queued
// turns still run afterwards.
func (c *conn) Interrupt(ctx context.Context) error {
	c.mu.Lock()
	if c.closed || len(c.queue) == 0 {
		c.mu.Unlock()
		return nil
	}
	t := c.queue[0]
	if !t.canceled {
		t.canceled = true
		close(t.cancel)
	}
	c.mu.Unlock()
	select {
	case <-t.finished:
		return nil
	case <-c.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops everything and waits for the session's goroutine to exit.
func (c *conn) Close(ctx context.Context) error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.done)
	}
	c.mu.Unlock()
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loop plays queued turns until Close.
func (c *conn) loop() {
	defer close(c.exited)
	for {
		c.mu.Lock()
		var t *turn
		if len(c.queue) > 0 {
			t = c.queue[0]
		}
		c.mu.Unlock()
		if t == nil {
			select {
			case <-c.wake:
				continue
			case <-c.done:
				return
			}
		}
		c.play(t)
		close(t.finished)
		select {
		case <-c.done:
			return
		default:
		}
		c.mu.Lock()
		c.queue = c.queue[1:]
		c.mu.Unlock()
	}
}

// play runs one turn: the user item, then each stage of the script (its
// steps, the wait for answers and the follow-up), then turn.ended.
func (c *conn) play(t *turn) {
	p := &player{c: c, t: t}
	if t.reissued {
		replies, ok := p.await()
		if !ok || !p.emitAll(t.script.follow(replies)) {
			p.abort()
			return
		}
		p.emit(turnEnded())
		return
	}
	p.user()
	for s := &t.script; s != nil; s = s.then {
		if !p.emitAll(s.steps) {
			p.abort()
			return
		}
		switch lastType(s.steps) {
		case schema.EventSessionEnded:
			return
		case schema.EventPermissionRequested, schema.EventQuestionRequested:
			if s.follow == nil {
				return
			}
			replies, ok := p.await()
			if !ok {
				p.abort()
				return
			}
			if !p.emitAll(s.follow(replies)) {
				p.abort()
				return
			}
		}
	}
	if p.pause() {
		p.emit(turnEnded())
	} else {
		p.abort()
	}
}

// player emits one turn's events and remembers what is still open.
type player struct {
	c       *conn
	t       *turn
	open    []schema.Item // started, not completed
	closing bool          // Close was called: emit nothing more
}

// Reissue takes over every request an earlier process of the session
// left pending (agent.Reissuer): the mock resumes the turn they were asked
// in, waits for their answers like the demo does, says what it got and
// ends the turn.
func (c *conn) Reissue(_ context.Context, pending []agent.Reply) []string {
	ids := make([]string, len(pending))
	for i, r := range pending {
		ids[i] = r.ID
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(ids) == 0 {
		return nil
	}
	t := &turn{prefix: "mock_resumed", reissued: true, requested: ids, cancel: make(chan struct{}),
		finished: make(chan struct{}), replies: map[string]agent.Reply{}, answered: make(chan struct{}, 1)}
	t.script.follow = func(replies map[string]agent.Reply) []agent.Draft {
		var b strings.Builder
		b.WriteString("Answers received after the restart:")
		for _, id := range ids {
			fmt.Fprintf(&b, " %s=%s", id, replyText(replies[id]))
		}
		return assistantMessage("mock_resumed_answers", b.String())
	}
	c.queue = append([]*turn{t}, c.queue...)
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return ids
}

func replyText(r agent.Reply) string {
	switch {
	case r.Kind == agent.ReplyPermission:
		return string(r.Permission)
	case r.Reject:
		return "rejected"
	case len(r.Answers) > 0 && len(r.Answers[0]) > 0:
		return r.Answers[0][0]
	}
	return "answered"
}

func (p *player) user() {
	text := p.t.prompt.Text
	var parts []schema.ContentPart
	if strings.TrimSpace(text) != "" {
		parts = append(parts, schema.Text(text))
	}
	for _, at := range p.t.prompt.Attachments {
		if at.MIME != nil && strings.HasPrefix(*at.MIME, "image/") {
			parts = append(parts, schema.Image(at.Path, at.MIME))
		} else {
			parts = append(parts, schema.FileRef(at.Path, schema.FileRead, nil))
		}
	}
	if len(parts) == 0 {
		return
	}
	for _, d := range startComplete(agent.Message(p.t.prefix+"_user", schema.RoleUser, parts...)) {
		p.emit(d)
	}
}

// emitAll plays drafts, pausing before each; false when cut short.
func (p *player) emitAll(ds []agent.Draft) bool {
	for _, d := range ds {
		if !p.pause() {
			return false
		}
		p.emit(d)
	}
	return true
}

// pause waits one interval; false when the turn is interrupted or the
// session closed meanwhile.
func (p *player) pause() bool {
	// Check cancellation first so a zero interval still notices it.
	select {
	case <-p.c.done:
		p.closing = true
		return false
	case <-p.t.cancel:
		return false
	default:
	}
	if p.c.interval <= 0 {
		return true
	}
	tm := time.NewTimer(p.c.interval)
	defer tm.Stop()
	select {
	case <-p.c.done:
		p.closing = true
		return false
	case <-p.t.cancel:
		return false
	case <-tm.C:
		return true
	}
}

// await blocks until every request of the turn has an answer.
func (p *player) await() (map[string]agent.Reply, bool) {
	c, t := p.c, p.t
	for {
		c.mu.Lock()
		// Answer keeps only replies to requested ids, so equal counts mean
		// every request has its answer.
		if len(t.replies) == len(t.requested) {
			t.awaiting = false
			replies := maps.Clone(t.replies)
			c.mu.Unlock()
			return replies, true
		}
		t.awaiting = true
		c.mu.Unlock()
		select {
		case <-t.answered:
		case <-t.cancel:
			return nil, false
		case <-c.done:
			p.closing = true
			return nil, false
		}
	}
}

// abort ends an interrupted turn: open items fail, then turn.ended. A
// closing session emits nothing more.
func (p *player) abort() {
	if p.closing {
		return
	}
	for _, it := range p.open {
		it.Status = schema.StatusFailed
		p.emit(agent.ItemCompleted(it, nil))
	}
	p.emit(turnEnded())
}

func (p *player) emit(d agent.Draft) {
	switch data := d.Data.(type) {
	case *schema.ItemEventData:
		id := schema.Deref(data.Item.NativeItemID)
		p.open = removeItem(p.open, id)
		if d.Type == schema.EventItemStarted {
			p.open = append(p.open, data.Item)
		}
	case *schema.PermissionEventData:
		p.request(d.Type == schema.EventPermissionRequested, data.PermissionID)
	case *schema.QuestionEventData:
		p.request(d.Type == schema.EventQuestionRequested, data.QuestionID)
	}
	d.NativeSessionID = p.c.native
	p.c.sink.Emit(d)
}

// request notes a request id before it is emitted, so a reply racing the
// emission is never mistaken for an unknown one.
func (p *player) request(ok bool, id string) {
	if !ok {
		return
	}
	p.c.mu.Lock()
	p.t.requested = append(p.t.requested, id)
	p.c.mu.Unlock()
}

func removeItem(items []schema.Item, nativeID string) []schema.Item {
	out := items[:0]
	for _, it := range items {
		if schema.Deref(it.NativeItemID) != nativeID {
			out = append(out, it)
		}
	}
	return out
}

func lastType(ds []agent.Draft) schema.EventType {
	if len(ds) == 0 {
		return ""
	}
	return ds[len(ds)-1].Type
}

func turnEnded() agent.Draft {
	d := agent.TurnEnded(nil, nil)
	d.Synthetic = true
	return d
}
