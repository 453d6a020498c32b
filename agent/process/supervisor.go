//go:build unix

package process

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// A Supervisor keeps one long-lived agent server (codex app-server,
// opencode serve) running for as long as sessions use it, whatever its
// transport: it starts the server when the first session acquires a Lease,
// checks it is ready, restarts it with backoff when it dies while leases
// are held, lets every lease re-attach to the new instance, tells the leases
// when it cannot come back, and stops it when the last lease is released.
//
// T is how an adapter talks to one instance: a JSON-RPC connection over the
// process's stdio, an HTTP client for a loopback port, and so on.
type Supervisor[T any] struct {
	cfg SupervisorConfig[T]

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every state change
	state    supState
	inst     Instance[T] // valid while state is supRunning or supReattaching
	started  time.Time   // when inst became ready
	startErr error       // why the current life failed (state supFailed)
	leases   map[*Lease[T]]struct{}
	restarts uint64
	lastErr  string
	stop     context.CancelFunc // ends the current life
	lifeDone chan struct{}      // closed when the current life's goroutine returned
	closed   bool
}

// Instance is one running incarnation of a supervised server.
type Instance[T any] struct {
	Proc   *Proc
	Client T
	// BaseURL is reported in the status when the server listens on a port.
	BaseURL string
}

// SupervisorConfig describes a shared server.
type SupervisorConfig[T any] struct {
	// Name appears in errors ("codex app-server").
	Name string
	// Start spawns one instance (with Start from this package, so it is in
	// the server's process registry) and builds its client. It need not wait
	// for readiness: that is Ready's job. On error it must leave nothing
	// running.
	Start func(ctx context.Context) (Instance[T], error)
	// Ready, if set, waits until a started instance serves (a handshake over
	// stdio, an HTTP probe loop). It is bounded by ReadyTimeout; the
	// instance is terminated when it fails.
	Ready func(ctx context.Context, inst Instance[T]) error
	// Close, if set, releases an instance's client once its process is gone.
	Close func(inst Instance[T])

	ReadyTimeout time.Duration // default 30s
	StopGrace    time.Duration // SIGTERM → SIGKILL; default 2s
	MinBackoff   time.Duration // first restart delay; default 200ms
	MaxBackoff   time.Duration // default 5s
	// MaxRestarts is how many restarts in a row may fail (or die before
	// StableAfter) before the leases are told the server is lost. Default 5.
	MaxRestarts int
	// StableAfter is how long an instance must run for a later death to
	// count as a fresh incident rather than one more failure in a row.
	// Default 30s.
	StableAfter time.Duration
}

type supState int

const (
	supStopped supState = iota
	supStarting
	supRunning
	supReattaching // a restarted instance runs; leases are re-attaching
	supBackoff     // the instance died; waiting to start the next one
	supFailed      // it cannot come back; leases were told
	supStopping    // the last lease went; the life is ending
)

// LeaseHooks are one lease's reactions to the server's fate. Both run on the
// supervisor's goroutine, never while its lock is held.
type LeaseHooks[T any] struct {
	// Restarted is called after the server died and a new instance is
	// ready, before Lease.Instance hands that instance out: this is where a
	// session resumes its native thread. ctx ends if the server is stopped.
	Restarted func(ctx context.Context, inst Instance[T])
	// Lost is called once when the server died and cannot come back; stderr
	// is the last instance's. Lease.Instance fails from then on.
	Lost func(err error, stderr schema.StderrOutput)
}

// ErrServerLost is returned by Lease.Instance once the server could not be
// brought back.
var ErrServerLost = errors.New("shared agent server lost")

// ErrLeaseReleased is returned by Lease.Instance after Release.
var ErrLeaseReleased = errors.New("lease released")

// NewSupervisor returns a supervisor; nothing starts until Acquire.
func NewSupervisor[T any](cfg SupervisorConfig[T]) *Supervisor[T] {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ReadyTimeout, 30*time.Second)
	def(&cfg.StopGrace, 2*time.Second)
	def(&cfg.MinBackoff, 200*time.Millisecond)
	def(&cfg.MaxBackoff, 5*time.Second)
	def(&cfg.StableAfter, 30*time.Second)
	if cfg.MaxRestarts <= 0 {
		cfg.MaxRestarts = 5
	}
	if cfg.Name == "" {
		cfg.Name = "agent server"
	}
	s := &Supervisor[T]{cfg: cfg, changed: make(chan struct{}), leases: map[*Lease[T]]struct{}{}}
	registerSupervisor(s)
	return s
}

// Lease is one session's hold on the shared server.
type Lease[T any] struct {
	s        *Supervisor[T]
	hooks    LeaseHooks[T]
	released bool // guarded by s.mu
	lost     bool // guarded by s.mu
}

// Acquire takes a lease, starting the server if it is not running, and
// returns once an instance is ready. A server that failed before is started
// afresh. If the first start fails, the error carries the instance's stderr
// and no lease is held.
func (s *Supervisor[T]) Acquire(ctx context.Context, hooks LeaseHooks[T]) (*Lease[T], Instance[T], error) {
	l := &Lease[T]{s: s, hooks: hooks}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, Instance[T]{}, fmt.Errorf("%s: supervisor shut down", s.cfg.Name)
	}
	for s.state == supStopping {
		// The last lease just went and the old instance is being stopped;
		// start afresh once it is gone rather than hand out a dying one.
		done := s.lifeDone
		s.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, Instance[T]{}, ctx.Err()
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, Instance[T]{}, fmt.Errorf("%s: supervisor shut down", s.cfg.Name)
		}
	}
	s.leases[l] = struct{}{}
	if s.state == supStopped || s.state == supFailed {
		s.startLife()
	}
	s.mu.Unlock()

	inst, err := l.wait(ctx)
	if err != nil {
		l.Release()
		return nil, Instance[T]{}, err
	}
	return l, inst, nil
}

// Instance returns the running instance, waiting while the server starts,
// restarts or while leases re-attach. It fails with ErrServerLost once the
// server cannot come back, and with ErrLeaseReleased after Release.
func (l *Lease[T]) Instance(ctx context.Context) (Instance[T], error) {
	return l.wait(ctx)
}

func (l *Lease[T]) wait(ctx context.Context) (Instance[T], error) {
	s := l.s
	for {
		s.mu.Lock()
		switch {
		case l.released:
			s.mu.Unlock()
			return Instance[T]{}, ErrLeaseReleased
		case s.closed:
			s.mu.Unlock()
			return Instance[T]{}, fmt.Errorf("%s: supervisor shut down", s.cfg.Name)
		case l.lost:
			s.mu.Unlock()
			return Instance[T]{}, fmt.Errorf("%w: %s", ErrServerLost, s.lastErr)
		case s.state == supRunning:
			inst := s.inst
			s.mu.Unlock()
			return inst, nil
		case s.state == supFailed:
			err := s.startErr
			s.mu.Unlock()
			return Instance[T]{}, err
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Instance[T]{}, ctx.Err()
		}
	}
}

// Release gives the lease back; releasing the last one stops the server and
// returns once its process is gone. It is idempotent.
func (l *Lease[T]) Release() {
	s := l.s
	s.mu.Lock()
	if l.released {
		s.mu.Unlock()
		return
	}
	l.released = true
	delete(s.leases, l)
	s.notify()
	if len(s.leases) > 0 || s.stop == nil {
		s.mu.Unlock()
		return
	}
	stop, done := s.stop, s.lifeDone
	s.stop = nil
	s.setState(supStopping)
	s.mu.Unlock()
	stop()
	<-done
}

// Status reports the server for GET /v1/agents.
func (s *Supervisor[T]) Status() schema.ServerStatusInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := schema.ServerStatusInfo{Status: schema.ServerStopped, RestartCount: s.restarts}
	if s.lastErr != "" {
		st.LastError = schema.Ptr(s.lastErr)
	}
	switch s.state {
	case supRunning, supReattaching:
		st.Status = schema.ServerRunning
		st.UptimeMs = schema.Ptr(uint64(time.Since(s.started).Milliseconds()))
		if s.inst.BaseURL != "" {
			st.BaseURL = schema.Ptr(s.inst.BaseURL)
		}
	case supFailed:
		st.Status = schema.ServerError
	case supStarting, supBackoff:
		if s.restarts > 0 || s.state == supBackoff {
			st.Status = schema.ServerError
		}
	}
	return st
}

// Pid returns the running instance's pid, or 0.
func (s *Supervisor[T]) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if (s.state == supRunning || s.state == supReattaching) && s.inst.Proc != nil {
		return s.inst.Proc.Pid()
	}
	return 0
}

// Shutdown stops the server whatever leases remain and refuses new ones;
// for server shutdown (KillAll calls it for every supervisor).
func (s *Supervisor[T]) Shutdown() {
	s.mu.Lock()
	s.closed = true
	stop, done := s.stop, s.lifeDone
	s.stop = nil
	if stop != nil {
		s.setState(supStopping)
	} else {
		s.notify()
	}
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	unregisterSupervisor(s)
}

// notify wakes every waiter; s.mu must be held.
func (s *Supervisor[T]) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Supervisor[T]) setState(st supState) {
	s.state = st
	s.notify()
}

// startLife starts the goroutine that owns the server from its first start
// to its stop; s.mu must be held.
func (s *Supervisor[T]) startLife() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.lifeDone = make(chan struct{})
	s.startErr = nil
	s.setState(supStarting)
	go s.life(ctx, s.lifeDone)
}

func (s *Supervisor[T]) life(ctx context.Context, done chan struct{}) {
	defer close(done)
	failures := 0
	first := true
	for {
		inst, last, err := s.launch(ctx)
		if ctx.Err() != nil {
			if err == nil {
				_ = inst.Proc.Terminate(context.Background(), s.cfg.StopGrace)
				s.closeInst(inst)
			}
			s.finish(supStopped, nil)
			return
		}
		if err != nil {
			if first {
				// Nothing ever ran: the caller's configuration is wrong (no
				// binary, bad credentials), which a retry will not fix.
				s.mu.Lock()
				s.lastErr = err.Error()
				s.mu.Unlock()
				s.finish(supFailed, err)
				return
			}
			failures++
			s.mu.Lock()
			s.lastErr = err.Error()
			s.mu.Unlock()
			if failures > s.cfg.MaxRestarts {
				var stderr schema.StderrOutput
				if last != nil {
					stderr = last.Stderr()
				}
				s.lose(err, stderr)
				return
			}
			if !s.backoff(ctx, failures) {
				s.finish(supStopped, nil)
				return
			}
			continue
		}

		s.mu.Lock()
		s.inst, s.started = inst, time.Now()
		if first {
			s.setState(supRunning)
		} else {
			s.setState(supReattaching)
		}
		hooks := s.restartHooks(first)
		s.mu.Unlock()
		if len(hooks) > 0 {
			var wg sync.WaitGroup
			for _, h := range hooks {
				wg.Go(func() { h(ctx, inst) })
			}
			wg.Wait()
		}
		s.mu.Lock()
		if s.state == supReattaching {
			s.setState(supRunning)
		}
		s.mu.Unlock()
		first = false

		select {
		case <-ctx.Done():
			_ = inst.Proc.Terminate(context.Background(), s.cfg.StopGrace)
			s.closeInst(inst)
			s.finish(supStopped, nil)
			return
		case <-inst.Proc.Done():
		}
		// Leases stop getting the dead instance at once, not only once
		// it is closed and the backoff starts.
		s.mu.Lock()
		s.setState(supBackoff)
		s.mu.Unlock()
		s.closeInst(inst)
		why := exitReason(s.cfg.Name, inst.Proc)
		s.mu.Lock()
		ranFor := time.Since(s.started)
		s.restarts++
		s.lastErr = why.Error()
		s.mu.Unlock()
		if ranFor >= s.cfg.StableAfter {
			failures = 0
		}
		failures++
		if failures > s.cfg.MaxRestarts {
			s.lose(why, inst.Proc.Stderr())
			return
		}
		if !s.backoff(ctx, failures) {
			s.finish(supStopped, nil)
			return
		}
	}
}

// launch starts one instance and waits for it to be ready. On failure it
// returns the process it started, if any, for its stderr.
func (s *Supervisor[T]) launch(ctx context.Context) (Instance[T], *Proc, error) {
	inst, err := s.cfg.Start(ctx)
	if err != nil {
		return Instance[T]{}, nil, fmt.Errorf("%s: start: %w", s.cfg.Name, err)
	}
	if s.cfg.Ready == nil {
		return inst, inst.Proc, nil
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
	defer cancel()
	rdone := make(chan error, 1)
	go func() { rdone <- s.cfg.Ready(rctx, inst) }()
	readyReturned := false
	select {
	case err = <-rdone:
		if err == nil {
			return inst, inst.Proc, nil
		}
		readyReturned = true
	case <-inst.Proc.Done():
		// Died before it was ready: report the exit, not the probe's view.
		err = exitReason(s.cfg.Name, inst.Proc)
	case <-rctx.Done():
		err = fmt.Errorf("no readiness within %s: %w", s.cfg.ReadyTimeout, rctx.Err())
	}
	cancel()
	_ = inst.Proc.Terminate(context.Background(), s.cfg.StopGrace)
	if !readyReturned {
		<-rdone // Ready returns once its context ended or the process is gone
	}
	s.closeInst(inst)
	if !errors.Is(err, errExited) {
		// The probe's view (EOF, refused) says little; how the process
		// ended and its stderr say why.
		err = fmt.Errorf("%w; %w", err, exitReason(s.cfg.Name, inst.Proc))
	}
	return Instance[T]{}, inst.Proc, fmt.Errorf("%s: not ready: %w", s.cfg.Name, err)
}

func (s *Supervisor[T]) closeInst(inst Instance[T]) {
	if s.cfg.Close != nil {
		s.cfg.Close(inst)
	}
}

// restartHooks collects the Restarted hooks of the leases held now; s.mu
// must be held.
func (s *Supervisor[T]) restartHooks(first bool) []func(context.Context, Instance[T]) {
	if first {
		return nil
	}
	var hs []func(context.Context, Instance[T])
	for l := range s.leases {
		if l.hooks.Restarted != nil {
			hs = append(hs, l.hooks.Restarted)
		}
	}
	return hs
}

// backoff waits before restart number n (1-based) and reports false if the
// server was stopped meanwhile.
func (s *Supervisor[T]) backoff(ctx context.Context, n int) bool {
	s.mu.Lock()
	s.setState(supBackoff)
	s.mu.Unlock()
	d := s.cfg.MinBackoff << min(n-1, 16)
	d = min(d, s.cfg.MaxBackoff)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		s.mu.Lock()
		s.setState(supStarting)
		s.mu.Unlock()
		return true
	case <-ctx.Done():
		return false
	}
}

// lose tells every lease the server cannot come back.
func (s *Supervisor[T]) lose(err error, stderr schema.StderrOutput) {
	s.mu.Lock()
	var hooks []func(error, schema.StderrOutput)
	for l := range s.leases {
		l.lost = true
		if l.hooks.Lost != nil {
			hooks = append(hooks, l.hooks.Lost)
		}
	}
	s.mu.Unlock()
	s.finish(supFailed, err)
	for _, h := range hooks {
		h(err, stderr)
	}
}

// finish ends the life in state st.
func (s *Supervisor[T]) finish(st supState, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inst = Instance[T]{}
	s.startErr = err
	if s.stop != nil {
		s.stop() // a lost server's life ends on its own; release its context
		s.stop = nil
	}
	s.setState(st)
}

// errExited marks errors that already describe the process's exit.
var errExited = errors.New("exited")

// exitReason describes how an instance ended, with its stderr.
func exitReason(name string, p *Proc) error {
	how := fmt.Sprintf("exit code %d", p.ExitCode())
	if sig, ok := Signal(p); ok {
		how = "killed by " + SignalName(sig)
	}
	msg := fmt.Sprintf("%s exited (%s)", name, how)
	if stderr := p.StderrText(); stderr != "" {
		msg += "; stderr:\n" + stderr
	}
	return &exitError{msg: msg}
}

type exitError struct{ msg string }

func (e *exitError) Error() string { return e.msg }
func (e *exitError) Unwrap() error { return errExited }

// supervisors lets KillAll stop supervisors before it kills their
// processes, so that none of them restarts what shutdown just killed.
var supervisors = struct {
	sync.Mutex
	m map[interface{ Shutdown() }]struct{}
}{m: map[interface{ Shutdown() }]struct{}{}}

func registerSupervisor(s interface{ Shutdown() }) {
	supervisors.Lock()
	supervisors.m[s] = struct{}{}
	supervisors.Unlock()
}

func unregisterSupervisor(s interface{ Shutdown() }) {
	supervisors.Lock()
	delete(supervisors.m, s)
	supervisors.Unlock()
}

func shutdownSupervisors() {
	supervisors.Lock()
	all := make([]interface{ Shutdown() }, 0, len(supervisors.m))
	for s := range supervisors.m {
		all = append(all, s)
	}
	supervisors.Unlock()
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Go(s.Shutdown)
	}
	wg.Wait()
}
