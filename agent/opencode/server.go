package opencode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
)

// instance is one running `opencode serve`: its client and the goroutine
// that reads its event stream.
type instance struct {
	*client
	proc   *process.Proc
	stop   context.CancelFunc // ends the event loop
	loopWG sync.WaitGroup
}

// shared is the adapter's one `opencode serve`, kept running by a
// process.Supervisor while sessions hold leases on it, and the router of
// its events to those sessions.
type shared struct {
	a   *Adapter
	sup *process.Supervisor[*instance]

	mu    sync.Mutex
	conns map[*conn]struct{}
	cur   *instance // the newest instance
	prev  *instance // the one before it
}

func newShared(a *Adapter) *shared {
	s := &shared{a: a, conns: map[*conn]struct{}{}}
	s.sup = process.NewSupervisor(process.SupervisorConfig[*instance]{
		Name:         "opencode serve",
		Start:        s.start,
		Ready:        s.ready,
		Close:        func(inst process.Instance[*instance]) { inst.Client.close() },
		ReadyTimeout: a.opts.StartTimeout,
		MinBackoff:   a.opts.MinBackoff,
	})
	return s
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before opencode binds it; the start then fails and the
// supervisor tries again with a new one.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *shared) start(ctx context.Context) (process.Instance[*instance], error) {
	path, ok := s.a.resolve()
	if !ok {
		return process.Instance[*instance]{}, fmt.Errorf("%s not found", s.a.opts.Binary)
	}
	port, err := freePort()
	if err != nil {
		return process.Instance[*instance]{}, err
	}
	password := randomPassword()
	env, err := s.a.serverEnv(password)
	if err != nil {
		return process.Instance[*instance]{}, err
	}
	p, err := process.Start(process.Options{
		Path: path,
		Args: append([]string{"serve", "--hostname", "127.0.0.1", "--port", strconv.Itoa(port)}, s.a.opts.ExtraArgs...),
		Dir:  s.a.opts.Dir,
		Env:  env,
	})
	if err != nil {
		return process.Instance[*instance]{}, err
	}
	// It prints only its address there; stderr is what explains a failure.
	go func() { _, _ = io.Copy(io.Discard, p.Stdout()) }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	inst := &instance{client: newClient(base, password), proc: p}
	return process.Instance[*instance]{Proc: p, Client: inst, BaseURL: base}, nil
}

// ready probes /global/health with short timeouts until the server
// answers, then subscribes to its events and returns once the
// subscription is in place, so no event of a session opened afterwards is
// missed.
func (s *shared) ready(ctx context.Context, pi process.Instance[*instance]) error {
	inst := pi.Client
	t0 := time.Now()
	for {
		err := inst.healthy(ctx, time.Second)
		if err == nil {
			break
		}
		s.a.logf("opencode health probe: %v", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last probe: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	lctx, stop := context.WithCancel(context.Background())
	inst.stop = stop
	connected := make(chan struct{})
	inst.loopWG.Add(1)
	go func() {
		defer inst.loopWG.Done()
		s.loop(lctx, inst, connected)
	}()
	s.a.logf("opencode healthy after %s", time.Since(t0))
	select {
	case <-connected:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.a.info("opencode serve ready", "pid", inst.proc.Pid(), "url", inst.base, "after", time.Since(t0).Round(time.Millisecond))
	s.mu.Lock()
	s.prev, s.cur = s.cur, inst
	s.mu.Unlock()
	go s.watch(lctx, inst)
	return nil
}

// watch ends the running turns of every session at once when the instance
// dies (not when it is stopped): the turn is lost, whatever the restart
// brings. The error carries the dead server's stderr.
func (s *shared) watch(ctx context.Context, inst *instance) {
	select {
	case <-ctx.Done():
		return
	case <-inst.proc.Done():
	}
	msg := fmt.Sprintf("opencode server exited (status %d) during the turn", inst.proc.ExitCode())
	info := map[string]any{"exitCode": inst.proc.ExitCode(), "stderr": inst.proc.StderrText()}
	if sig, ok := process.Signal(inst.proc); ok {
		msg = fmt.Sprintf("opencode server was killed by %s during the turn", process.SignalName(sig))
		info["exitCode"], info["signal"] = 128+int(sig), process.SignalName(sig)
	}
	details, _ := json.Marshal(info)
	for _, c := range s.connList() {
		if c.conv.Busy() {
			c.emit(agent.ErrorEvent(msg, "process_exit", details, nil))
			c.emit(c.conv.EndTurn("error")...)
		}
	}
}

func (inst *instance) close() {
	if inst.stop != nil {
		inst.stop()
	}
	inst.loopWG.Wait()
}

// loop reads the instance's event stream until the instance is gone,
// reconnecting when the stream breaks while the server lives on. Events
// are routed in the order they arrive; an event seen before a reconnect is
// not delivered twice, what a running turn said while the stream was down
// is caught up from the server's messages, and sessions whose turn ended
// meanwhile get their idle.
func (s *shared) loop(ctx context.Context, inst *instance, connected chan struct{}) {
	seen := newRecent(4096)
	first := true
	for {
		err := inst.events(ctx, func() {
			if first {
				first = false
				close(connected)
				return
			}
			s.reconcile(ctx, inst)
		}, func(_ string, payload []byte) { s.dispatch(payload, seen) })
		if ctx.Err() != nil {
			return
		}
		s.a.logf("opencode event stream ended: %v", err)
		select {
		case <-ctx.Done():
			return
		case <-inst.proc.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// route is what dispatch reads of every event.
type route struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Properties struct {
		sessionRef
	} `json:"properties"`
}

func (s *shared) dispatch(payload []byte, seen *recent) {
	var r route
	if json.Unmarshal(payload, &r) != nil {
		return
	}
	if r.ID != "" && !seen.add(r.ID) {
		return
	}
	p := r.Properties
	sid := p.SessionID
	if sid == "" && p.Part != nil {
		sid = p.Part.SessionID
	}
	if sid == "" && p.Info != nil {
		sid = p.Info.SessionID
	}
	if r.Type == "session.created" && p.Info != nil && p.Info.ParentID != "" {
		sid = p.Info.ParentID // a task's child: its parent's session learns of it
	}
	if sid == "" {
		return // server-wide news (catalog, plugins, projects): no session's
	}
	for _, c := range s.connList() {
		if c.conv.Owns(sid) {
			c.deliver(payload)
			return
		}
	}
}

func (s *shared) connList() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

func (s *shared) add(c *conn) {
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
}

func (s *shared) remove(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// reconcile runs after the event stream reconnected, before any event of
// the new stream is routed: a session whose turn was running catches up
// with what the server holds of it (the parts the lost events would have
// streamed), and if the server now reports it idle, it missed its idle
// event too.
func (s *shared) reconcile(ctx context.Context, inst *instance) {
	for _, c := range s.connList() {
		if !c.conv.Busy() {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		msgs, err := inst.messages(rctx, c.spec.Dir, c.nativeID)
		if err == nil {
			c.reconcile(msgs)
		} else {
			s.a.logf("opencode catch-up of %s after a reconnect: %v", c.nativeID, err)
		}
		st, err := inst.sessionStatuses(rctx, c.spec.Dir)
		cancel()
		if err != nil {
			continue
		}
		if _, busy := st[c.nativeID]; !busy {
			c.emit(c.conv.EndTurn("")...)
		}
	}
}

// recent remembers the last n event ids.
type recent struct {
	ids  map[string]struct{}
	ring []string
	next int
}

func newRecent(n int) *recent {
	return &recent{ids: make(map[string]struct{}, n), ring: make([]string, n)}
}

// add reports whether id is new, and remembers it.
func (r *recent) add(id string) bool {
	if _, ok := r.ids[id]; ok {
		return false
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.ids, old)
	}
	r.ring[r.next] = id
	r.ids[id] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
	return true
}
