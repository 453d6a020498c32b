package opencode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// conn is one of our sessions: an OpenCode session on the shared server.
type conn struct {
	a        *Adapter
	s        *shared
	spec     agent.Spec
	sink     agent.Sink
	conv     *Converter
	nativeID string
	lease    *process.Lease[*instance]

	// emitMu orders the server's events against the drafts the adapter
	// makes itself (a restart, the end of the session), and keeps both from
	// reaching the sink after Close.
	emitMu sync.Mutex
	closed bool
}

var _ agent.Conn = (*conn)(nil)

// deliver converts one of the server's events for this session.
func (c *conn) deliver(payload []byte) {
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	if c.closed {
		return
	}
	for _, d := range c.conv.Convert(payload) {
		c.sink.Emit(d)
	}
}

// reconcile drafts what the server's copy of the messages holds that the
// event stream did not deliver.
func (c *conn) reconcile(msgs []sessionMessage) {
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	if c.closed {
		return
	}
	for _, d := range c.conv.Reconcile(msgs) {
		c.sink.Emit(d)
	}
}

func (c *conn) emit(ds ...agent.Draft) {
	c.emitMu.Lock()
	defer c.emitMu.Unlock()
	if c.closed {
		return
	}
	for _, d := range ds {
		c.sink.Emit(d)
	}
}

// instance is the server to talk to now; it waits while the server
// restarts.
func (c *conn) instance(ctx context.Context) (*instance, error) {
	pi, err := c.lease.Instance(ctx)
	if err != nil {
		return nil, agent.Errorf(agent.ErrProcessExited, "opencode server is not available: %v", err)
	}
	return pi.Client, nil
}

// exitedSoon reports whether the server process exits within a short
// while (a refused connection to a server that is going away).
func exitedSoon(ctx context.Context, p *process.Proc) bool {
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-p.Done():
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// apiErr maps a failed call: a 4xx is the caller's request, anything else
// the stream to the agent.
func apiErr(what string, err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status/100 == 4 {
		return agent.Errorf(agent.ErrInvalidRequest, "%s: %v", what, err)
	}
	return agent.Errorf(agent.ErrStream, "%s: %v", what, err)
}

// Send starts a turn with prompt_async; OpenCode answers 204 at once and
// the turn plays out on the event stream.
//
// The server may have died a moment ago without its supervisor having seen
// the exit yet (it reaps the process): a refused connection then waits a
// little for that exit and sends once more to the restarted server.
func (c *conn) Send(ctx context.Context, p agent.Prompt) error {
	body, err := promptFor(c.spec, p)
	if err != nil {
		return err
	}
	c.conv.NoteSent()
	for retried := false; ; retried = true {
		pi, err := c.lease.Instance(ctx)
		if err != nil {
			c.conv.NoteSendFailed()
			return agent.Errorf(agent.ErrProcessExited, "opencode server is not available: %v", err)
		}
		err = pi.Client.promptAsync(ctx, c.spec.Dir, c.nativeID, body)
		if err == nil {
			break
		}
		if !retried && errors.Is(err, syscall.ECONNREFUSED) && exitedSoon(ctx, pi.Proc) {
			continue
		}
		c.conv.NoteSendFailed()
		return apiErr("opencode did not take the message", err)
	}
	return nil
}

// promptFor builds the prompt_async body: the text and the attachments as
// file parts, the agent (mode), model and variant.
func promptFor(spec agent.Spec, p agent.Prompt) (promptBody, error) {
	body := promptBody{Agent: agentFor(spec), Variant: spec.Variant}
	if m, err := modelFor(spec.Model); err != nil {
		return body, err
	} else if m != nil {
		body.Model = m
	}
	for _, at := range p.Attachments {
		fp, err := filePart(spec.Dir, at)
		if err != nil {
			return body, err
		}
		body.Parts = append(body.Parts, fp)
	}
	body.Parts = append(body.Parts, promptPart{Type: "text", Text: p.Text})
	return body, nil
}

// agentFor is the OpenCode agent of a session: its agent mode, or plan
// for the plan permission mode.
func agentFor(spec agent.Spec) string {
	if spec.AgentMode != "" {
		return spec.AgentMode
	}
	if spec.PermissionMode == schema.PermissionModePlan {
		return "plan"
	}
	return ""
}

// modelFor splits "provider/model" (the ids GET /v1/agents/opencode/models
// lists); "" and "default" leave the server's choice.
func modelFor(model string) (*modelRef, error) {
	if model == "" || model == "default" {
		return nil, nil
	}
	prov, id, ok := strings.Cut(model, "/")
	if !ok || prov == "" || id == "" {
		return nil, agent.Errorf(agent.ErrInvalidRequest, "model %q: OpenCode models are named provider/model", model)
	}
	return &modelRef{ProviderID: prov, ModelID: id}, nil
}

// filePart turns an attachment into a FilePartInput: data: and http(s)
// URLs as they are, paths (relative to the session's directory) as file://
// URLs the server reads.
func filePart(dir string, at schema.MessageAttachment) (promptPart, error) {
	fp := promptPart{Type: "file", Mime: schema.Deref(at.MIME), Filename: schema.Deref(at.Filename)}
	switch {
	case strings.HasPrefix(at.Path, "data:"):
		fp.URL = at.Path
		if fp.Mime == "" {
			head, _, _ := strings.Cut(strings.TrimPrefix(at.Path, "data:"), ",")
			fp.Mime = strings.TrimSuffix(head, ";base64")
		}
	case strings.HasPrefix(at.Path, "http://") || strings.HasPrefix(at.Path, "https://"):
		fp.URL = at.Path
	case at.Path == "":
		return fp, agent.Errorf(agent.ErrInvalidRequest, "attachment without a path")
	default:
		path := at.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		fp.URL = "file://" + filepath.ToSlash(path)
		if fp.Filename == "" {
			fp.Filename = filepath.Base(path)
		}
	}
	if fp.Mime == "" {
		fp.Mime = mime.TypeByExtension(strings.ToLower(filepath.Ext(at.Path)))
	}
	if fp.Mime == "" {
		fp.Mime = "text/plain"
	}
	if fp.Filename == "" {
		fp.Filename = "attachment"
	}
	return fp, nil
}

// Answer forwards a permission reply or question answer.
func (c *conn) Answer(ctx context.Context, r agent.Reply) error {
	inst, err := c.instance(ctx)
	if err != nil {
		return err
	}
	switch r.Kind {
	case agent.ReplyPermission:
		word, err := c.conv.AnswerPermission(r.ID, r.Permission)
		if err != nil {
			return err
		}
		if err := inst.replyPermission(ctx, c.spec.Dir, r.ID, word); err != nil {
			return apiErr("opencode did not take the permission reply", err)
		}
		return nil
	case agent.ReplyQuestion:
		var answers []string
		if len(r.Answers) > 0 {
			answers = r.Answers[0]
		}
		rep, ready, err := c.conv.AnswerQuestion(r.ID, answers, r.Reject)
		if err != nil || !ready {
			return err
		}
		if rep.Reject {
			err = inst.rejectQuestion(ctx, c.spec.Dir, rep.RequestID)
		} else {
			err = inst.replyQuestion(ctx, c.spec.Dir, rep.RequestID, rep.Answers)
		}
		if err != nil {
			return apiErr("opencode did not take the answer", err)
		}
		return nil
	}
	return agent.Errorf(agent.ErrInvalidRequest, "unknown reply kind %d", r.Kind)
}

// Interrupt aborts the running turn and waits (up to the grace period) for
// the server to report the session idle.
func (c *conn) Interrupt(ctx context.Context) error {
	if !c.conv.Busy() {
		return nil
	}
	inst, err := c.instance(ctx)
	if err != nil {
		return err
	}
	c.conv.NoteInterrupt()
	if err := inst.abort(ctx, c.spec.Dir, c.nativeID); err != nil {
		return apiErr("opencode did not abort the turn", err)
	}
	deadline := time.NewTimer(c.a.opts.InterruptGrace)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for c.conv.Busy() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			// The server never said idle: end the turn ourselves.
			c.emit(c.conv.EndTurn("interrupted")...)
			return nil
		case <-tick.C:
		}
	}
	return nil
}

// Close ends our side: a running turn is aborted, the session stays in
// OpenCode's store (it can be resumed), and the lease goes back; the last
// lease stops the server.
func (c *conn) Close(ctx context.Context) error {
	c.emitMu.Lock()
	already := c.closed
	c.closed = true
	c.emitMu.Unlock()
	if already {
		return nil
	}
	c.s.remove(c)
	if c.conv.Busy() {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if pi, err := c.lease.Instance(actx); err == nil {
			_ = pi.Client.abort(actx, c.spec.Dir, c.nativeID)
		}
		cancel()
	}
	c.lease.Release()
	return nil
}

// restarted runs when the server died and a new instance is ready (the
// lost turn was ended when the old one died, see shared.watch): the
// session is re-attached by its OpenCode id, which the new instance finds
// in the same data directory, and its MCP servers are added again.
func (c *conn) restarted(ctx context.Context, pi process.Instance[*instance]) {
	if _, err := pi.Client.getSession(ctx, c.spec.Dir, c.nativeID); err != nil {
		c.emit(agent.ErrorEvent(fmt.Sprintf("the restarted opencode server does not know session %s: %v", c.nativeID, err), "session_lost", nil, nil))
		return
	}
	if err := c.a.addMCP(ctx, pi.Client, c.spec); err != nil {
		c.emit(agent.ErrorEvent(err.Error(), "mcp_failed", nil, nil))
	}
}

// lost runs when the server cannot come back: the session ends with its
// last stderr.
func (c *conn) lost(err error, stderr schema.StderrOutput) {
	msg := "opencode server exited and could not be restarted: " + err.Error()
	ended := schema.SessionEndedData{Reason: schema.EndError, TerminatedBy: schema.ByAgent, Message: schema.Ptr(msg)}
	if stderr.Head != nil {
		ended.Stderr = &stderr
	}
	details, _ := json.Marshal(map[string]any{"stderr": stderr})
	c.emit(agent.ErrorEvent(msg, "process_exit", details, nil))
	c.emit(agent.SessionEnded(ended))
}
