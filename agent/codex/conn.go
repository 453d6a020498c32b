package codex

import (
	"context"
	"encoding/json"

	"fmt"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/jsonrpc"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// conn is one session: one thread on the shared app-server.
type conn struct {
	a     *Adapter
	spec  agent.Spec
	sink  agent.Sink
	lease *process.Lease[*rpc]
	pol   policy

	// events serialises everything the session is told: notifications
	// arrive on the server's read goroutine, restarts on the supervisor's.
	events sync.Mutex
	conv   *Converter

	mu       sync.Mutex
	inst     process.Instance[*rpc]
	threadID string
	turnID   string // the running turn, "" between turns
	starting bool   // a turn/start is in flight
	queue    []agent.Prompt
	pending  map[string]pendingReq // by permission / question id
	closed   bool

	// turns being interrupted: closed when their turn/completed was
	// handled; abandoned ones ended on the session's side already.
	ending    map[string]chan struct{}
	abandoned map[string]bool

	// plan approval (plan.go)
	plan         string // the plan the running turn proposed
	planApproved bool
	planN        int
	held         *heldPlan
}

func contextForTurn() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Minute)
}

// pendingReq is a server request waiting for the user.
type pendingReq struct {
	rpc    *rpc
	id     json.RawMessage
	method string
	qids   []string // question ids, for requestUserInput
}

func (c *conn) emit(ds ...agent.Draft) {
	for _, d := range ds {
		if d.NativeSessionID == "" {
			d.NativeSessionID = c.threadIDNow()
		}
		c.sink.Emit(d)
	}
}

func (c *conn) threadIDNow() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.threadID
}

func (c *conn) instance() *rpc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inst.Client
}

// open takes a lease on the shared server and starts (or resumes) the thread.
func (c *conn) open(ctx context.Context) error {
	lease, inst, err := c.a.srv.sup.Acquire(ctx, process.LeaseHooks[*rpc]{
		Restarted: c.restarted,
		Lost:      c.lost,
	})
	if err != nil {
		pe := problem.New(problem.AgentProcessExited, "agent process exited: codex app-server could not start: %v", err).With("message", err.Error())
		pe.Err = agent.ErrProcessExited
		return pe
	}
	c.lease = lease
	c.mu.Lock()
	c.inst = inst
	c.mu.Unlock()

	var res threadResult
	params := c.threadParams()
	method := methodThreadStart
	if c.spec.NativeSessionID != "" {
		method, params.ThreadID = methodThreadResume, c.spec.NativeSessionID
	}
	if err := inst.Client.Call(ctx, method, params, &res); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if res.Thread.ID == "" {
		return agent.Errorf(agent.ErrStream, "%s returned no thread id", method)
	}
	c.mu.Lock()
	c.threadID = res.Thread.ID
	c.mu.Unlock()
	c.events.Lock()
	c.conv = NewConverter(res.Thread.ID)
	c.events.Unlock()
	c.a.srv.route(res.Thread.ID, c)
	// The first draft carries the thread id, which becomes the session's
	// native session id.
	c.emit(agent.Draft{Type: schema.EventItemCompleted, Synthetic: true, NativeSessionID: res.Thread.ID,
		Data: &schema.ItemEventData{Item: schema.Item{
			NativeItemID: schema.Ptr("thread:" + res.Thread.ID), Kind: schema.KindStatus, Role: schema.Ptr(schema.RoleSystem),
			Status:  schema.StatusCompleted,
			Content: []schema.ContentPart{schema.Status("codex.thread", schema.Ptr(res.Thread.ID)), schema.JSONPart(map[string]string{"model": res.Thread.Model, "modelProvider": res.Thread.ModelProvider, "cwd": res.Thread.Cwd})},
		}}})
	return nil
}

func (c *conn) threadParams() threadParams {
	p := threadParams{Cwd: c.spec.Dir, ApprovalPolicy: c.pol.approval, Sandbox: c.pol.sandbox}
	if m := c.spec.Model; m != "" && m != "default" {
		p.Model = m
	}
	if cfg := mcpConfig(c.spec.MCP); cfg != nil {
		p.Config = map[string]any{"mcp_servers": cfg}
	}
	return p
}

// Send starts a turn, or queues the prompt behind the running one: the
// session expects one turn.ended per message.
func (c *conn) Send(ctx context.Context, p agent.Prompt) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return agent.Errorf(agent.ErrProcessExited, "session closed")
	}
	if c.turnID != "" || c.starting {
		c.queue = append(c.queue, p)
		c.mu.Unlock()
		return nil
	}
	c.starting = true
	c.mu.Unlock()
	err := c.startTurn(ctx, p)
	return err
}

func (c *conn) startTurn(ctx context.Context, p agent.Prompt) error {
	fail := func(err error) error {
		c.mu.Lock()
		c.starting = false
		c.mu.Unlock()
		return err
	}
	input, err := c.input(p)
	if err != nil {
		return fail(err)
	}
	inst, err := c.lease.Instance(ctx)
	if err != nil {
		return fail(agent.Errorf(agent.ErrProcessExited, "%v", err))
	}
	params := turnStartParams{ThreadID: c.threadIDNow(), Input: input, Effort: c.spec.Variant}
	c.mu.Lock()
	if c.pol.plan && c.planApproved {
		// The plan is approved: the workspace is writable from now on.
		params.ApprovalPolicy, params.SandboxPolicy = "untrusted", map[string]string{"type": "dangerFullAccess"}
	}
	c.mu.Unlock()
	var res turnResult
	if err := inst.Client.Call(ctx, methodTurnStart, params, &res); err != nil {
		return fail(agent.Errorf(agent.ErrStream, "turn/start: %v", err))
	}
	c.mu.Lock()
	c.starting = false
	if c.turnID == "" && res.Turn.Status == "inProgress" {
		c.turnID = res.Turn.ID
	}
	c.mu.Unlock()
	return nil
}

// next starts the first queued prompt, if any; it runs off the read
// goroutine because it waits for an answer that goroutine delivers.
func (c *conn) next() {
	c.mu.Lock()
	if c.closed || len(c.queue) == 0 || c.turnID != "" || c.starting {
		c.mu.Unlock()
		return
	}
	p := c.queue[0]
	c.queue = c.queue[1:]
	c.starting = true
	c.mu.Unlock()
	ctx, cancel := contextForTurn()
	defer cancel()
	if err := c.startTurn(ctx, p); err != nil {
		c.emit(agent.ErrorEvent(err.Error(), "send_failed", nil, nil), agent.TurnEnded(nil, nil))
		go c.next()
	}
}

// notification handles one notification of the thread (read goroutine).
func (c *conn) notification(method string, params json.RawMessage, raw []byte) {
	c.events.Lock()
	defer c.events.Unlock()
	switch method {
	case "turn/started":
		var n turnNotification
		if json.Unmarshal(params, &n) == nil {
			c.mu.Lock()
			c.turnID = n.Turn.ID
			c.mu.Unlock()
		}
	case "item/completed":
		if plan := planOf(params); plan != "" {
			c.mu.Lock()
			c.plan = plan
			c.mu.Unlock()
		}
	case "turn/completed":
		c.mu.Lock()
		c.turnID = ""
		c.mu.Unlock()
		c.withdrawAll(raw)
	}
	drafts := c.conv.Notification(method, params, raw)
	if method == "turn/completed" {
		drafts = c.askPlan(drafts, raw)
		var n turnNotification
		_ = json.Unmarshal(params, &n)
		c.mu.Lock()
		if c.abandoned[n.Turn.ID] {
			// The session closed this turn when the interrupt took too
			// long; its end must not close the next one.
			delete(c.abandoned, n.Turn.ID)
			if k := len(drafts); k > 0 && drafts[k-1].Type == schema.EventTurnEnded {
				drafts = drafts[:k-1]
			}
		}
		if ch := c.ending[n.Turn.ID]; ch != nil {
			defer close(ch) // after the turn.ended is out
			delete(c.ending, n.Turn.ID)
		}
		c.mu.Unlock()
	}
	c.emit(drafts...)
	c.mu.Lock()
	held := c.held != nil
	c.mu.Unlock()
	if method == "turn/completed" && !held {
		go c.next()
	}
}

// Interrupt asks the agent to stop the running turn and waits (bounded)
// for the turn's end, so that the turn is ended by the agent's own
// turn/completed (status interrupted) rather than by the session.
func (c *conn) Interrupt(ctx context.Context) error {
	c.releasePlan()
	c.mu.Lock()
	turn, thread := c.turnID, c.threadID
	c.queue = nil
	var done chan struct{}
	if turn != "" {
		done = make(chan struct{})
		if c.ending == nil {
			c.ending = map[string]chan struct{}{}
		}
		c.ending[turn] = done
	}
	c.mu.Unlock()
	if turn == "" {
		return nil
	}
	inst, err := c.lease.Instance(ctx)
	if err != nil {
		return agent.Errorf(agent.ErrProcessExited, "%v", err)
	}
	if err := inst.Client.Call(ctx, methodTurnInterrupt, turnInterruptParams{ThreadID: thread, TurnID: turn}, nil); err != nil {
		return agent.Errorf(agent.ErrStream, "turn/interrupt: %v", err)
	}
	timer := time.NewTimer(interruptWait)
	defer timer.Stop()
	select {
	case <-done:
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	c.mu.Lock()
	if c.ending[turn] != nil {
		delete(c.ending, turn)
		if c.abandoned == nil {
			c.abandoned = map[string]bool{}
		}
		c.abandoned[turn] = true
	}
	c.mu.Unlock()
	return nil
}

// interruptWait bounds how long Interrupt waits for the turn to end.
var interruptWait = 10 * time.Second

// Close ends the session: the running turn is interrupted, the thread is
// no longer routed here and the lease goes back; with the last lease the
// app-server stops.
func (c *conn) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	turn, thread := c.turnID, c.threadID
	inst := c.inst.Client
	c.queue = nil
	c.mu.Unlock()
	if turn != "" && inst != nil {
		ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_ = inst.Call(ictx, methodTurnInterrupt, turnInterruptParams{ThreadID: thread, TurnID: turn}, nil)
		cancel()
	}
	if thread != "" {
		c.a.srv.unroute(thread, c)
	}
	if c.lease != nil {
		c.lease.Release()
	}
	return nil
}

// restarted re-attaches the thread to a new app-server after the old one
// died: a running turn is lost (error + turn.ended carrying the dead
// process's stderr), the thread itself is resumed from its rollout.
func (c *conn) restarted(ctx context.Context, inst process.Instance[*rpc]) {
	c.mu.Lock()
	old := c.inst
	c.inst = inst
	thread, turn := c.threadID, c.turnID
	c.turnID, c.starting = "", false
	c.mu.Unlock()
	if thread == "" {
		return
	}
	c.events.Lock()
	if turn != "" {
		c.withdrawAll(nil)
		details := map[string]any{"turnId": turn}
		if old.Proc != nil {
			details["stderr"] = old.Proc.Stderr()
			details["exitCode"] = old.Proc.ExitCode()
		}
		c.emit(agent.ErrorEvent("codex app-server exited during the turn; it was restarted and the thread resumed", "agent_process_exited", mustJSON(details), nil),
			agent.TurnEnded(mustJSON(map[string]any{"turnId": turn, "status": "failed"}), nil))
	}
	c.events.Unlock()
	p := c.threadParams()
	p.ThreadID = thread
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := inst.Client.Call(rctx, methodThreadResume, p, nil); err != nil {
		c.emit(agent.ErrorEvent("thread/resume after restart failed: "+err.Error(), "resume_failed", nil, nil))
	}
	go c.next()
}

// lost ends the session: the app-server died and could not be restarted.
func (c *conn) lost(err error, stderr schema.StderrOutput) {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.emit(agent.SessionEnded(schema.SessionEndedData{
		Reason: schema.EndError, TerminatedBy: schema.ByAgent,
		Message: schema.Ptr(err.Error()), Stderr: &stderr,
	}))
}

// request handles a server request of the thread (read goroutine).
func (c *conn) request(in *rpc, id json.RawMessage, method string, params json.RawMessage, raw []byte) {
	c.events.Lock()
	defer c.events.Unlock()
	drafts, auto, err := c.hitl(in, id, method, params, raw)
	if err != nil {
		_ = in.ReplyError(id, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: err.Error()})
		c.emit(agent.Unparsed(method, err.Error(), raw))
		return
	}
	if auto != nil {
		_ = in.Reply(id, auto)
		return
	}
	c.emit(drafts...)
}
