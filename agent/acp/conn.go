package acp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/jsonrpc"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// stopGrace is how long a closed session's agent gets after SIGTERM.
const stopGrace = 2 * time.Second

// conn is one session: one agent process, one ACP session in it.
type conn struct {
	a    *Adapter
	spec agent.Spec
	sink agent.Sink
	path string
	env  []string

	proc  *process.Proc
	rpc   *jsonrpc.Conn
	fs    *sessionFS
	terms *terminals
	sid   string // the agent's session id
	caps  agentCapabilities

	// mu guards everything below and orders the drafts: the converter runs
	// and emits under it, so the read goroutine's updates and a turn's end
	// reach the sink in the order they happened.
	mu        sync.Mutex
	conv      *Converter
	loading   bool // session/load replays history: not this session's events
	running   bool
	queue     []agent.Prompt
	done      chan struct{} // closed when the running prompt returned
	perms     map[string]*permReq
	always    map[string]string // tool kind+title answered "always" → option id
	closed    bool
	dead      bool // the process is gone; the next Send starts another
	ended     bool // the agent ended the session (no restart)
	crashes   int  // deaths since the last turn that ended well
	restarts  int
	announced bool // the session_started status item is out
	users     int
	nextPerm  int

	sendMu sync.Mutex // one Send (and so one restart) at a time
}

// maxCrashes is how many deaths in a row end the session rather than
// restarting the agent.
const maxCrashes = 3

type permReq struct {
	rpcID   json.RawMessage
	options []permissionOption
	data    schema.PermissionEventData
	key     string
}

func newConn(a *Adapter, spec agent.Spec, sink agent.Sink, path string, env []string) *conn {
	return &conn{a: a, spec: spec, sink: sink, path: path, env: env, conv: NewConverter(),
		perms: map[string]*permReq{}, always: map[string]string{}}
}

// emit sends drafts unless the session is closed; call with mu held.
func (c *conn) emit(ds ...agent.Draft) {
	if c.closed {
		return
	}
	for _, d := range ds {
		c.sink.Emit(d)
	}
}

// start spawns the agent, negotiates the protocol and opens (or loads) the
// ACP session, within the start timeout.
func (c *conn) start(ctx context.Context) error {
	if c.fs == nil {
		fs, err := openFS(c.spec.Dir)
		if err != nil {
			return agent.Errorf(agent.ErrInvalidRequest, "session directory: %v", err)
		}
		fs.missingEmpty = c.a.e.MissingFileEmpty
		c.fs = fs
	}
	terms := newTerminals(c.fs, c.env)
	c.mu.Lock()
	c.terms = terms
	c.conv.Terminal = terms.outputOf
	c.mu.Unlock()
	args := append(slices.Clone(c.a.e.Args), c.a.opts.ExtraArgs...)
	p, err := process.Start(process.Options{Path: c.path, Args: args, Dir: c.spec.Dir, Env: c.env, Stdin: true})
	if err != nil {
		return agent.Errorf(agent.ErrProcessExited, "start %s: %v", c.a.e.ID, err)
	}
	c.proc = p
	// session/prompt lasts as long as the turn: calls are bounded by their
	// contexts instead (callCtx), not by one timeout for all.
	c.rpc = jsonrpc.New(p.Stdout(), p.Stdin(), c, jsonrpc.Options{Timeout: 365 * 24 * time.Hour})

	ctx, cancel := context.WithTimeout(ctx, c.a.opts.StartTimeout)
	defer cancel()
	if err := c.handshake(ctx); err != nil {
		_ = p.Terminate(context.Background(), stopGrace)
		if s := strings.TrimSpace(p.StderrText()); s != "" {
			return agent.Errorf(agent.ErrProcessExited, "%s did not start: %v; stderr: %s", c.a.e.ID, err, s)
		}
		var pe interface{ Unwrap() error }
		if errors.As(err, &pe) && (errors.Is(err, agent.ErrModeUnsupported) || errors.Is(err, agent.ErrInvalidRequest)) {
			return err
		}
		return agent.Errorf(agent.ErrProcessExited, "%s did not start: %v", c.a.e.ID, err)
	}
	go c.watch()
	return nil
}

func (c *conn) handshake(ctx context.Context) error {
	var init initializeResult
	err := c.rpc.Call(ctx, "initialize", initializeParams{
		ProtocolVersion:    protocolVersion,
		ClientCapabilities: clientCapabilities{FS: fsCapabilities{ReadTextFile: true, WriteTextFile: true}, Terminal: true},
		ClientInfo:         &implementation{Name: "sandbox-agent", Title: "sandbox-agent", Version: "1"},
	}, &init)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if init.ProtocolVersion != protocolVersion {
		return fmt.Errorf("agent speaks ACP protocol version %d, this client %d", init.ProtocolVersion, protocolVersion)
	}
	c.caps = init.AgentCapabilities
	mcp, err := mcpServers(c.spec.MCP, c.caps)
	if err != nil {
		return err
	}
	var res newSessionResult
	lost := ""
	if c.spec.NativeSessionID != "" && c.caps.LoadSession {
		c.mu.Lock()
		c.loading = true
		c.mu.Unlock()
		var lr loadSessionResult
		err = c.rpc.Call(ctx, "session/load", loadSessionParams{SessionID: c.spec.NativeSessionID, Cwd: c.spec.Dir, McpServers: mcp}, &lr)
		c.mu.Lock()
		c.loading = false
		c.mu.Unlock()
		res = newSessionResult{SessionID: c.spec.NativeSessionID, Modes: lr.Modes, ConfigOptions: lr.ConfigOptions}
		var rpcErr *jsonrpc.Error
		switch {
		case err == nil:
		case errors.As(err, &rpcErr) && c.sid != "":
			// A restart after a crash: the agent may not have saved a
			// session that died in its first turn. Go on in a new one,
			// and say that the earlier context is gone.
			lost = fmt.Sprintf("the restarted agent could not load session %s (%s); a new session without the earlier context took over", c.spec.NativeSessionID, errorMessage(rpcErr))
			res = newSessionResult{}
		default:
			return fmt.Errorf("session/load %s: %w", c.spec.NativeSessionID, err)
		}
	}
	if res.SessionID == "" {
		if err = c.rpc.Call(ctx, "session/new", newSessionParams{Cwd: c.spec.Dir, McpServers: mcp}, &res); err != nil {
			return fmt.Errorf("session/new: %w", err)
		}
	}
	if res.SessionID == "" {
		return errors.New("session/new returned no sessionId")
	}
	c.sid = res.SessionID
	c.a.learn(res)
	if err := c.configure(ctx, res); err != nil {
		return err
	}
	detail := c.a.e.Name
	if init.AgentInfo != nil {
		detail = strings.TrimSpace(init.AgentInfo.Name + " " + init.AgentInfo.Version)
	}
	it := schema.Item{NativeItemID: schema.Ptr("acp_session_" + c.sid), Kind: schema.KindStatus,
		Role: schema.Ptr(schema.RoleSystem), Content: []schema.ContentPart{schema.Status("session_started", schema.Ptr(detail))}}
	c.mu.Lock()
	if !c.announced { // once: a restart that loads the session is the same session
		c.announced = true
		for _, d := range []agent.Draft{agent.ItemStarted(it, nil), agent.ItemCompleted(it, nil)} {
			d.NativeSessionID = c.sid
			c.emit(d)
		}
	}
	if lost != "" {
		c.emit(c.conv.note("session_lost", lost, nil, nil)...)
	}
	c.mu.Unlock()
	return nil
}

// configure applies the session's agent mode and model: with
// session/set_mode when the agent lists modes, else through its "mode" or
// "model" configuration option.
func (c *conn) configure(ctx context.Context, res newSessionResult) error {
	if m := c.spec.AgentMode; m != "" {
		switch {
		case res.Modes != nil && slices.ContainsFunc(res.Modes.AvailableModes, func(x sessionMode) bool { return x.ID == m }):
			if res.Modes.CurrentModeID != m {
				if err := c.rpc.Call(ctx, "session/set_mode", setModeParams{SessionID: c.sid, ModeID: m}, nil); err != nil {
					return fmt.Errorf("session/set_mode %s: %w", m, err)
				}
			}
		case !c.setOption(ctx, res.ConfigOptions, "mode", m) && m != defaultMode.ID:
			return agent.Errorf(agent.ErrModeUnsupported, "%s does not offer agent mode %q", c.a.e.ID, m)
		}
	}
	if m := c.spec.Model; m != "" && !c.setOption(ctx, res.ConfigOptions, "model", m) {
		return agent.Errorf(agent.ErrInvalidRequest, "%s does not offer model %q", c.a.e.ID, m)
	}
	return nil
}

// setOption sets the configuration option of category to value; false when
// the agent has no such option or value.
func (c *conn) setOption(ctx context.Context, opts []configOption, category, value string) bool {
	for _, o := range opts {
		if o.Category != category {
			continue
		}
		if !slices.ContainsFunc(o.values(), func(v configValue) bool { return v.Value == value }) {
			return false
		}
		var cur string
		if jsonString(o.CurrentValue, &cur) && cur == value {
			return true
		}
		return c.rpc.Call(ctx, "session/set_config_option", setConfigOptionParams{SessionID: c.sid, ConfigID: o.ID, Value: value}, nil) == nil
	}
	return false
}

func jsonString(raw json.RawMessage, s *string) bool { return json.Unmarshal(raw, s) == nil }

// mcpServers turns the session's MCP configuration into session/new's.
func mcpServers(cfg map[string]schema.McpServerConfig, caps agentCapabilities) ([]mcpServer, error) {
	out := []mcpServer{}
	names := make([]string, 0, len(cfg))
	for n := range cfg {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		s, err := mcpServerFor(name, cfg[name], caps)
		if err != nil {
			return nil, err
		}
		if s != nil {
			out = append(out, *s)
		}
	}
	return out, nil
}

func (c *conn) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.a.opts.RequestTimeout)
}

// Send starts a turn, or queues it behind the running one. When the agent
// died, a new process loads the ACP session first.
func (c *conn) Send(ctx context.Context, p agent.Prompt) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.mu.Lock()
	if c.dead && !c.closed && !c.ended {
		c.mu.Unlock()
		if err := c.restart(ctx); err != nil {
			return err
		}
		c.mu.Lock()
	}
	defer c.mu.Unlock()
	if c.closed || c.dead {
		return agent.Errorf(agent.ErrProcessExited, "%s session is closed", c.a.e.ID)
	}
	if c.running {
		c.queue = append(c.queue, p)
		return nil
	}
	c.running = true
	c.startPrompt(p)
	return nil
}

// startPrompt emits the user's message and sends session/prompt; call with
// mu held.
func (c *conn) startPrompt(p agent.Prompt) {
	c.users++
	parts := []schema.ContentPart{schema.Text(p.Text)}
	blocks := []contentBlock{{Type: "text", Text: p.Text}}
	for _, at := range p.Attachments {
		path := at.Path
		if !strings.Contains(path, "://") && !strings.HasPrefix(path, "data:") && !filepath.IsAbs(path) {
			path = filepath.Join(c.spec.Dir, path)
		}
		uri := path
		if filepath.IsAbs(path) {
			uri = "file://" + path
		}
		name := filepath.Base(path)
		if at.Filename != nil && *at.Filename != "" {
			name = *at.Filename
		}
		blocks = append(blocks, contentBlock{Type: "resource_link", URI: uri, Name: name, MimeType: schema.Deref(at.MIME)})
		parts = append(parts, schema.FileRef(path, schema.FileRead, nil))
	}
	it := agent.Message(fmt.Sprintf("user_%d", c.users), schema.RoleUser, parts...)
	c.emit(agent.ItemStarted(it, nil), agent.ItemCompleted(it, nil))
	done := make(chan struct{})
	c.done = done
	go c.runPrompt(blocks, done)
}

// runPrompt waits for the turn's session/prompt result and ends the turn;
// then it starts the next queued message.
func (c *conn) runPrompt(blocks []contentBlock, done chan struct{}) {
	defer close(done)
	raw, err := c.rpc.CallRaw(context.Background(), "session/prompt", promptParams{SessionID: c.sid, Prompt: blocks})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.dead || errors.Is(err, jsonrpc.ErrClosed) {
		return // the process is gone: watch ends the turn
	}
	var ds []agent.Draft
	var res promptResult
	var rpcErr *jsonrpc.Error
	switch {
	case errors.As(err, &rpcErr):
		details, _ := json.Marshal(map[string]any{"code": rpcErr.Code, "data": rpcErr.Data})
		ds = append(ds, agent.ErrorEvent(errorMessage(rpcErr), "agent_error", details, nil))
		ds = append(ds, c.conv.EndTurn(nil, nil)...)
	case err != nil:
		ds = append(ds, agent.ErrorEvent(err.Error(), "agent_error", nil, nil))
		ds = append(ds, c.conv.EndTurn(nil, nil)...)
	case json.Unmarshal(raw, &res) != nil || res.StopReason == "":
		ds = append(ds, agent.Unparsed("acp session/prompt", "result without stopReason", raw))
		ds = append(ds, c.conv.EndTurn(nil, raw)...)
	default:
		if res.StopReason == "refusal" {
			ds = append(ds, agent.ErrorEvent("the agent refused to continue", "refusal", raw, raw))
		}
		ds = append(ds, c.conv.EndTurn(&res, raw)...)
	}
	if err == nil {
		c.crashes = 0
	}
	c.cancelPermsLocked()
	c.emit(ds...)
	if len(c.queue) == 0 {
		c.running = false
		return
	}
	next := c.queue[0]
	c.queue = c.queue[1:]
	c.startPrompt(next)
}

// errorMessage is an agent's error with the detail it put in data.
func errorMessage(e *jsonrpc.Error) string {
	msg := e.Message
	var d struct {
		Message string `json:"message"`
		Details string `json:"details"`
	}
	if json.Unmarshal(e.Data, &d) == nil {
		for _, s := range []string{d.Message, d.Details} {
			if s != "" && !strings.Contains(msg, s) {
				msg += ": " + s
			}
		}
	} else if len(e.Data) > 0 && string(e.Data) != "null" {
		var s string
		if json.Unmarshal(e.Data, &s) == nil && s != "" {
			msg += ": " + s
		}
	}
	return msg
}

// Interrupt cancels the running turn: pending permission requests are
// answered as cancelled, session/cancel is sent, and the agent's end of
// the turn is awaited for a while.
func (c *conn) Interrupt(ctx context.Context) error {
	c.mu.Lock()
	if !c.running || c.closed || c.dead {
		c.mu.Unlock()
		return nil
	}
	c.queue = nil
	done := c.done
	c.cancelPermsLocked()
	c.mu.Unlock()
	if err := c.notifyBounded("session/cancel", cancelParams{SessionID: c.sid}); err != nil {
		return err
	}
	timer := time.NewTimer(c.a.opts.InterruptGrace)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	case <-ctx.Done():
	}
	return nil
}

// notifyBounded sends a notification; an agent that stopped reading its
// stdin is killed rather than left to block us.
func (c *conn) notifyBounded(method string, params any) error {
	errc := make(chan error, 1)
	go func() { errc <- c.rpc.Notify(method, params) }()
	select {
	case err := <-errc:
		return err
	case <-time.After(5 * time.Second):
		go func() { _ = c.proc.Terminate(context.Background(), 0) }()
		return agent.Errorf(agent.ErrProcessExited, "%s stopped reading its input; killed", c.a.e.ID)
	}
}

// cancelPermsLocked answers every pending permission request as cancelled
// (ACP requires it when a turn is cancelled); the session resolves them.
func (c *conn) cancelPermsLocked() {
	for id, r := range c.perms {
		delete(c.perms, id)
		go func() { _ = c.rpc.Reply(r.rpcID, permissionResult{Outcome: permissionOutcome{Outcome: "cancelled"}}) }()
	}
}

// Close ends the session: its terminals and its agent process die.
func (c *conn) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	if c.terms != nil {
		c.terms.closeAll()
	}
	if c.proc != nil {
		_ = c.proc.Terminate(ctx, stopGrace)
	}
	if c.rpc != nil {
		c.rpc.Close()
	}
	if c.fs != nil {
		c.fs.close()
	}
	return nil
}

// restart starts a new agent process that loads the session the dead one
// had.
func (c *conn) restart(ctx context.Context) error {
	c.spec.NativeSessionID = c.sid
	if err := c.start(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		go func() { _ = c.proc.Terminate(context.Background(), stopGrace) }()
		return agent.Errorf(agent.ErrProcessExited, "%s session is closed", c.a.e.ID)
	}
	c.dead = false
	c.restarts++
	c.conv.Restarted(c.restarts)
	return nil
}

// watch reports the agent's death: an error event with its exit status and
// stderr, and the end of the running turn. An agent that can load its
// session again is restarted by the next Send; otherwise (or after
// maxCrashes deaths in a row) the session ends.
func (c *conn) watch() {
	c.mu.Lock()
	p, terms := c.proc, c.terms
	c.mu.Unlock()
	<-p.Done()
	terms.closeAll()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.dead = true
	turns := len(c.queue)
	if c.running {
		turns++
	}
	c.running, c.queue = false, nil
	c.perms = map[string]*permReq{}
	code := p.ExitCode()
	stderr := p.Stderr()
	msg := fmt.Sprintf("%s exited with status %d", c.a.e.ID, code)
	info := map[string]any{"exitCode": code, "stderr": stderr}
	if sig, ok := process.Signal(p); ok {
		code = 128 + int(sig)
		msg = fmt.Sprintf("%s was killed by %s", c.a.e.ID, process.SignalName(sig))
		info["exitCode"], info["signal"] = code, process.SignalName(sig)
	}
	if turns > 0 || code != 0 {
		c.crashes++
	}
	recoverable := c.caps.LoadSession && c.sid != "" && c.crashes < maxCrashes
	var ds []agent.Draft
	if turns > 0 {
		details, _ := json.Marshal(info)
		ds = append(ds, agent.ErrorEvent(msg+" during a turn", "process_exit", details, nil))
		if recoverable {
			ds = append(ds, c.conv.EndTurn(nil, nil)...)
			for range turns - 1 {
				ds = append(ds, agent.TurnEnded(json.RawMessage(`{"isError":true}`), nil))
			}
		} else {
			ds = append(ds, c.conv.Flush(nil)...) // the session ends the turn
		}
	}
	if recoverable {
		c.emit(ds...)
		return
	}
	c.ended = true
	ended := schema.SessionEndedData{Reason: schema.EndError, TerminatedBy: schema.ByAgent, Message: schema.Ptr(msg), ExitCode: schema.Ptr(code)}
	if code == 0 && turns == 0 {
		ended.Reason = schema.EndCompleted
	}
	if stderr.Head != nil {
		ended.Stderr = &stderr
	}
	ds = append(ds, agent.SessionEnded(ended))
	c.emit(ds...)
}
