package claude

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// maxLine bounds one stdout line (tool results can be large; a longer line
// is dropped as unparsed rather than exhausting memory).
const maxLine = 64 << 20

// maxCrashes is how many turns in a row may die with the process before the
// session is ended instead of resumed.
const maxCrashes = 3

// conn is one session: its converter, kept for the session's life, and the
// current claude process, replaced when it dies between turns.
//
// Process lifecycle: each process is a small state machine, moved only
// under c.mu:
//
//	starting ──initialize answered──▶ ready ──we stop it──▶ stopping ──exit handled──▶ exited
//	    └──────────────────────── it dies / start timeout ─────────────────────────────▲
//
// A process becomes current (c.cur) only while the conn is open: a start
// that races Close kills its process itself, so none survives Close. No
// write to stdin can block Close, Interrupt or shutdown: writes are
// serialised by a semaphore that waiters leave when their context ends,
// Close closes stdin without it (which fails a write stuck on a full pipe)
// and kills the group, and Interrupt kills the process when its interrupt
// cannot be written or is not obeyed within the grace period.
type conn struct {
	a    *Adapter
	path string
	spec agent.Spec
	sink agent.Sink
	conv *Converter

	sendMu sync.Mutex // one Send (and process start) at a time

	mu       sync.Mutex
	cur      *proc
	pending  int           // turns sent and not ended
	turnCh   chan struct{} // closed (and replaced) whenever a turn ends
	closed   bool
	crashes  int // turns lost to a dying process, in a row
	requests int
}

// procState is where a claude process is in its life.
type procState uint8

const (
	procStarting procState = iota // spawned, initialize not answered yet
	procReady                     // answered initialize: takes user lines
	procStopping                  // we are stopping it (interrupt or close), not a crash
	procExited                    // its exit is handled
)

// proc is one claude process.
type proc struct {
	p       *process.Proc
	initID  string
	state   procState     // guarded by conn.mu
	ready   chan struct{} // the CLI answered initialize
	readyMu sync.Once
	done    chan struct{} // its stdout is drained and its exit handled
	wsem    chan struct{} // one writer at a time (a semaphore, so waiting can be abandoned)
}

// setState moves p to st; states only move forward.
func (c *conn) setState(p *proc, st procState) {
	c.mu.Lock()
	if st > p.state {
		p.state = st
	}
	c.mu.Unlock()
}

func newConn(a *Adapter, path string, spec agent.Spec, sink agent.Sink) *conn {
	c := &conn{a: a, path: path, spec: spec, sink: sink, conv: NewConverter(), turnCh: make(chan struct{})}
	c.conv.PlanExitMode = afterPlanMode(spec)
	if spec.NativeSessionID != "" {
		c.conv.SetSessionID(spec.NativeSessionID)
	}
	return c
}

func (c *conn) open(ctx context.Context) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	_, err := c.ensure(ctx)
	return err
}

func (c *conn) nextID(kind string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	return fmt.Sprintf("sa_%s_%d", kind, c.requests)
}

// ensure returns a running process that answered initialize, starting one
// (resuming the native session when it is known) if there is none.
func (c *conn) ensure(ctx context.Context) (*proc, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, agent.Errorf(agent.ErrProcessExited, "claude session is closed")
	}
	p := c.cur
	c.mu.Unlock()
	if p != nil {
		select {
		case <-p.p.Done(): // died between turns: wait until its exit is handled
			<-p.done
			p = nil
		default:
		}
	}
	if p != nil {
		return p, c.waitReady(ctx, p)
	}
	resumed := c.conv.SessionID() != ""
	p, err := c.start()
	if err == nil {
		err = c.waitReady(ctx, p)
	}
	var timedOut startTimeout
	if err == nil || !resumed || !errors.Is(err, agent.ErrProcessExited) || errors.As(err, &timedOut) {
		return p, err
	}
	// The CLI could not resume (its transcript may never have been
	// written): say so, and start a fresh native session rather than
	// failing every message from now on.
	c.sink.Emit(agent.ErrorEvent("could not resume the Claude session; starting a new one: "+err.Error(), "resume_failed", nil, nil))
	c.conv.SetSessionID("")
	if p, err = c.start(); err != nil {
		return nil, err
	}
	return p, c.waitReady(ctx, p)
}

// waitReady waits for the CLI's answer to initialize.
func (c *conn) waitReady(ctx context.Context, p *proc) error {
	timer := time.NewTimer(c.a.opts.StartTimeout)
	defer timer.Stop()
	select {
	case <-p.ready:
		return nil
	case <-p.done:
		return c.exitErr(p, "claude exited before it was ready")
	case <-timer.C:
		// An agent that never answers is not started: kill it and say
		// what it printed.
		c.kill(context.Background(), p)
		return c.startErr(p, fmt.Sprintf("claude did not answer initialize within %s", c.a.opts.StartTimeout))
	case <-ctx.Done():
		c.kill(context.Background(), p)
		return ctx.Err()
	}
}

// errStartTimeout marks a start that timed out (not worth retrying).
type startTimeout struct{ error }

func (e startTimeout) Unwrap() error { return e.error }

// startErr describes a process that never became ready, with its stderr.
func (c *conn) startErr(p *proc, what string) error {
	if s := strings.TrimSpace(p.p.StderrText()); s != "" {
		what += "; stderr: " + s
	}
	return startTimeout{agent.Errorf(agent.ErrProcessExited, "%s", what)}
}

func (c *conn) start() (*proc, error) {
	resume := c.conv.SessionID()
	pr, err := process.Start(process.Options{
		Path:  c.path,
		Args:  c.a.args(c.spec, resume),
		Dir:   c.spec.Dir,
		Env:   c.a.env(c.spec),
		Stdin: true,
	})
	if err != nil {
		return nil, agent.Errorf(agent.ErrProcessExited, "start claude: %v", err)
	}
	p := &proc{p: pr, initID: c.nextID("init"), ready: make(chan struct{}), done: make(chan struct{}), wsem: make(chan struct{}, 1)}
	go c.read(p)
	if startedHook != nil {
		startedHook(c, p)
	}
	c.mu.Lock()
	if c.closed {
		// Close ran while this process started: it saw no process to
		// stop, so this one must not outlive the session.
		c.mu.Unlock()
		c.kill(context.Background(), p)
		return nil, agent.Errorf(agent.ErrProcessExited, "claude session is closed")
	}
	c.cur = p
	c.mu.Unlock()
	if err := p.write(context.Background(), InitializeLine(p.initID)); err != nil {
		c.kill(context.Background(), p)
		return nil, c.exitErr(p, "claude did not take the initialize request")
	}
	return p, nil
}

// startedHook, when set (tests), runs between a process start and its
// becoming current, before the wait for its answer to initialize starts.
var startedHook func(*conn, *proc)

// lockWrite takes the right to write to stdin, giving up when ctx ends or
// the process is gone.
func (p *proc) lockWrite(ctx context.Context) error {
	select {
	case p.wsem <- struct{}{}:
		return nil
	case <-p.done:
		return agent.Errorf(agent.ErrProcessExited, "claude exited")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *proc) unlockWrite() { <-p.wsem }

// write writes one line to stdin. The write itself returns when the CLI
// took the line, or fails once stdin is closed (Close) or the process
// group is dead.
func (p *proc) write(ctx context.Context, line []byte) error {
	if err := p.lockWrite(ctx); err != nil {
		return err
	}
	defer p.unlockWrite()
	_, err := p.p.Stdin().Write(line)
	return err
}

// exitErr describes a process that is gone, with its stderr.
func (c *conn) exitErr(p *proc, what string) error {
	select {
	case <-p.p.Done():
		msg := fmt.Sprintf("%s (exit status %d)", what, p.p.ExitCode())
		if s := strings.TrimSpace(p.p.StderrText()); s != "" {
			msg += ": " + s
		}
		return agent.Errorf(agent.ErrProcessExited, "%s", msg)
	default:
		return agent.Errorf(agent.ErrProcessExited, "%s", what)
	}
}

// read converts the process's stdout until it closes, then handles the
// exit.
func (c *conn) read(p *proc) {
	defer close(p.done)
	r := bufio.NewReaderSize(p.p.Stdout(), 64<<10)
	for {
		line, err := readLine(r)
		if len(bytes.TrimSpace(line)) > 0 {
			c.line(p, line)
		}
		if err != nil {
			break
		}
	}
	<-p.p.Done()
	c.exited(p)
}

// readLine reads one line. A line that fits r's buffer is returned in
// place, valid until the next read: what is kept of it is copied once, by
// the converter (the drafts' raw line). A longer line is gathered into a
// slice of its own and cut at maxLine.
func readLine(r *bufio.Reader) ([]byte, error) {
	chunk, err := r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return chunk, err
	}
	line := bytes.Clone(chunk)
	for errors.Is(err, bufio.ErrBufferFull) {
		chunk, err = r.ReadSlice('\n')
		if len(line)+len(chunk) <= maxLine {
			line = append(line, chunk...)
		}
	}
	return line, err
}

func (c *conn) line(p *proc, line []byte) {
	ready := true
	select {
	case <-p.ready:
	default:
		ready = bytes.Contains(line, []byte(p.initID)) && isResponseTo(line, p.initID)
		if ready {
			c.setState(p, procReady)
			p.readyMu.Do(func() { close(p.ready) })
		}
	}
	if ready && isTurnStart(line) {
		// The CLI starts a turn nobody sent: it tells the model that a
		// background sub-agent finished.
		c.ownTurn(json.RawMessage(bytes.Clone(bytes.TrimSpace(line)))) // line is the reader's buffer
	}
	for _, d := range c.conv.Line(line) {
		if !ready && (d.Type == schema.EventTurnEnded || d.Type == schema.EventError) {
			// Before initialize is answered no user line was written, so
			// a result here is the CLI refusing to start (e.g. a session
			// that cannot be resumed), not the end of the user's turn:
			// ensure() reports it and starts over.
			continue
		}
		if ready && d.Type.InTurn() {
			// Output between turns (a background sub-agent still
			// working): it belongs to the CLI's own turn, which starts
			// here rather than at its system/init.
			c.ownTurn(nil)
		}
		c.sink.Emit(d)
		if d.Type == schema.EventTurnEnded {
			c.turnEnded(true)
		}
	}
	for _, id := range c.conv.Unanswered() {
		_ = p.write(context.Background(), ErrorResponseLine(id, "not supported by sandbox-agent"))
	}
}

// ownTurn opens a turn of the CLI's own when none is pending, so that its
// items are not left between turns and Interrupt and exited see it
// running. It reports whether it opened one.
func (c *conn) ownTurn(raw json.RawMessage) bool {
	c.mu.Lock()
	own := c.pending == 0
	if own {
		c.pending++
	}
	c.mu.Unlock()
	if own {
		c.sink.Emit(agent.Draft{Type: schema.EventTurnStarted, Data: &schema.TurnEventData{Phase: schema.PhaseStarted}, Raw: raw})
	}
	return own
}

// isTurnStart reports whether line is the system/init the CLI prints at the
// start of every turn.
func isTurnStart(line []byte) bool {
	if !bytes.Contains(line, []byte(`"init"`)) {
		return false
	}
	var env envelope
	return json.Unmarshal(line, &env) == nil && env.Type == "system" && env.Subtype == "init"
}

func isResponseTo(line []byte, id string) bool {
	var l controlResponseLine
	return json.Unmarshal(line, &l) == nil && l.Response.RequestID == id
}

// turnEnded counts a finished turn and wakes Interrupt.
func (c *conn) turnEnded(ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending > 0 {
		c.pending--
	}
	if ok {
		c.crashes = 0
	}
	close(c.turnCh)
	c.turnCh = make(chan struct{})
}

// exited handles the end of a process. Between turns nothing is said: the
// next message resumes the session. During a turn the turn ends with an
// error; when the session cannot be resumed (no native id yet, or it keeps
// dying) the session ends.
func (c *conn) exited(p *proc) {
	c.mu.Lock()
	if c.cur == p {
		c.cur = nil
	}
	pending, closed, killed := c.pending, c.closed, p.state == procStopping
	p.state = procExited
	c.mu.Unlock()
	flushed := c.conv.Flush() // forgets the process's open items in any case
	if closed {
		return
	}
	if pending == 0 && len(flushed) > 0 && c.ownTurn(nil) {
		// Items left open between turns (a background sub-agent) close
		// inside a turn, which the process's death ends.
		pending = 1
	}
	for _, d := range flushed {
		c.sink.Emit(d)
	}
	if pending == 0 {
		return
	}
	if killed { // an interrupt that had to kill
		c.endTurns(pending, `{"interrupted":true}`, true)
		return
	}
	code := p.p.ExitCode()
	stderr := p.p.Stderr()
	msg := fmt.Sprintf("claude exited with status %d during a turn", code)
	info := map[string]any{"exitCode": code, "stderr": stderr}
	if sig, ok := process.Signal(p.p); ok {
		// Killed by a signal: report it, and the shell's 128+n exit code.
		code = 128 + int(sig)
		msg = fmt.Sprintf("claude was killed by %s during a turn", process.SignalName(sig))
		info["exitCode"], info["signal"] = code, process.SignalName(sig)
	}
	details, _ := json.Marshal(info)
	c.sink.Emit(agent.ErrorEvent(msg, "process_exit", details, nil))
	c.endTurns(pending, `{"isError":true}`, false)
	c.mu.Lock()
	c.crashes++
	crashes := c.crashes
	c.mu.Unlock()
	if c.conv.SessionID() == "" || crashes >= maxCrashes {
		ended := schema.SessionEndedData{
			Reason: schema.EndError, TerminatedBy: schema.ByAgent,
			Message: schema.Ptr(msg), ExitCode: schema.Ptr(code),
		}
		if stderr.Head != nil {
			ended.Stderr = &stderr
		}
		c.sink.Emit(agent.SessionEnded(ended))
	}
}

// endTurns ends n turns a gone process left running, with metadata meta.
func (c *conn) endTurns(n int, meta string, ok bool) {
	for range n {
		c.sink.Emit(agent.TurnEnded(json.RawMessage(meta), nil))
		c.turnEnded(ok)
	}
}

// Send writes a user turn, restarting the process (with --resume) when it
// is gone. The user's message item is emitted first.
func (c *conn) Send(ctx context.Context, prompt agent.Prompt) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	line, err := UserLine(prompt, c.conv.SessionID(), c.spec.Dir)
	if err != nil {
		return err
	}
	p, err := c.ensure(ctx)
	if err != nil {
		return err
	}
	// The turn counts as pending once we hold stdin, so that an interrupt
	// is written after the message, never before it.
	if err := p.lockWrite(ctx); err != nil {
		return c.exitErr(p, "claude did not take the message")
	}
	defer p.unlockWrite()
	for _, d := range c.conv.UserMessage(prompt) {
		c.sink.Emit(d)
	}
	c.mu.Lock()
	c.pending++
	c.mu.Unlock()
	if _, err := p.p.Stdin().Write(line); err != nil {
		c.mu.Lock()
		if c.pending > 0 && c.cur == p {
			c.pending--
		}
		c.mu.Unlock()
		return c.exitErr(p, "claude did not take the message")
	}
	return nil
}

// Answer forwards a permission or question reply as the control_response
// the CLI waits for.
func (c *conn) Answer(ctx context.Context, r agent.Reply) error {
	var line []byte
	var err error
	switch r.Kind {
	case agent.ReplyPermission:
		line, err = c.conv.AnswerPermission(r.ID, r.Permission)
	case agent.ReplyQuestion:
		var answer []string
		if len(r.Answers) > 0 {
			answer = r.Answers[0]
		}
		line, err = c.conv.AnswerQuestion(r.ID, answer, r.Reject)
	default:
		return agent.Errorf(agent.ErrInvalidRequest, "unknown reply kind %d", r.Kind)
	}
	if err != nil || line == nil {
		return err
	}
	c.mu.Lock()
	p := c.cur
	c.mu.Unlock()
	if p == nil {
		return agent.Errorf(agent.ErrProcessExited, "claude is not running")
	}
	if err := p.write(ctx, line); err != nil {
		return c.exitErr(p, "claude did not take the reply")
	}
	return nil
}

// Interrupt asks the CLI to stop the running turn and waits for it to end;
// if the interrupt cannot be written (stdin is stuck: the CLI stopped
// reading) or the turn does not end within the grace period, the process
// is killed (the next message resumes the session). Nothing pending:
// nothing to do (the session re-issues an interrupt that came while the
// message was still being sent).
func (c *conn) Interrupt(ctx context.Context) error {
	c.mu.Lock()
	p, pending := c.cur, c.pending
	c.mu.Unlock()
	if p == nil || pending == 0 {
		return nil
	}
	gctx, cancel := context.WithTimeout(ctx, c.a.opts.InterruptGrace)
	defer cancel()
	c.conv.NoteInterrupt()
	if p.write(gctx, InterruptLine(c.nextID("interrupt"))) == nil && c.waitIdle(gctx) {
		return nil
	}
	c.kill(ctx, p)
	return nil
}

// waitIdle waits until no turn is pending.
func (c *conn) waitIdle(ctx context.Context) bool {
	for {
		c.mu.Lock()
		idle, ch := c.pending == 0, c.turnCh
		c.mu.Unlock()
		if idle {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// kill stops the process group and waits until its exit is handled.
func (c *conn) kill(ctx context.Context, p *proc) {
	c.setState(p, procStopping)
	_ = p.p.Terminate(ctx, killGrace)
	<-p.done
}

// Bounds of Close: a running turn gets closeInterrupt to end on an
// interrupt, the CLI closeEOF to exit on end of input, then the group
// killGrace between SIGTERM and SIGKILL: at most ~3.5 s in all.
const (
	closeInterrupt = time.Second
	closeEOF       = time.Second
	killGrace      = 1500 * time.Millisecond
)

// Close ends the session: a running turn is interrupted, stdin closed (the
// CLI exits on EOF; a write stuck on it fails), and the process group
// killed if it lingers. It is bounded in time whatever the CLI does.
func (c *conn) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	p, pending := c.cur, c.pending
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	if pending > 0 {
		ictx, cancel := context.WithTimeout(ctx, closeInterrupt)
		if p.write(ictx, InterruptLine(c.nextID("interrupt"))) == nil {
			c.waitIdle(ictx)
		}
		cancel()
	}
	c.setState(p, procStopping)
	_ = p.p.Stdin().Close()
	timer := time.NewTimer(closeEOF)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	c.kill(ctx, p)
	return nil
}
