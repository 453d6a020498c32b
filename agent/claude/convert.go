package claude

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/streamjson"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Converter turns the CLI's stdout lines into drafts. It holds the state of
// one of our sessions (open messages, tool calls awaiting results, pending
// permission and question requests) and must be kept across process
// restarts of that session, so native ids stay unique. It does no I/O and
// reads no clock; its methods are safe for concurrent use.
//
// Mapping (see convert_message.go and hitl.go for the details):
//
//   - system/init → session.started (first one, or when the native session
//     id changes) with metadata {nativeSessionId, model, tools,
//     permissionMode, cwd, version, apiKeySource, outputStyle, mcpServers,
//     agents, skills}. An MCP server the CLI could not use (status failed
//     or needs-auth; the CLI goes on without it) → a status item
//     mcp_server_failed / mcp_server_needs_auth, once per server.
//   - an assistant message (stream_event message_start or the first
//     assistant line of a message.id) → one message item, native id =
//     message.id, parent = parent_tool_use_id (the Task call of a
//     sub-agent); text_delta → item.delta on it; its text blocks are its
//     content; it completes on message_stop (or, without partial messages,
//     when the next message of the same scope starts, a tool result of that
//     scope arrives, its sub-agent finishes (task_notification), or the
//     turn ends). A streamed message cut off before its message_stop
//     (retried request), or closed by the message_stop the CLI makes up for
//     an interrupted stream (abandoned_blocks), completes as failed.
//   - a thinking block → its own item (kind message, role assistant,
//     content [reasoning public], native id <message.id>_thinking_<n>,
//     parent = the message); thinking_delta → item.delta on it. Thinking is
//     kept out of the message item so a message's deltas always add up to
//     its text. Empty (display-omitted) and redacted thinking make no item.
//   - tool_use → a tool_call item (native id = tool_use id, parent = the
//     message); started at content_block_start when streaming, completed
//     with the full input at the assistant line.
//   - user tool_result → a tool_result item (native id <tool_use_id>_result,
//     parent = parent_tool_use_id or none), failed when is_error.
//   - result → error (when it failed and nothing reported it yet), then
//     turn.ended with usage, cost, duration and turn count in metadata.
//   - API errors (assistant error lines, is_error results) → error with a
//     code: authentication_failed, rate_limit, overloaded, billing_error,
//     invalid_request, server_error, max_output_tokens or api_error.
//   - control_request can_use_tool → permission.requested, except
//     AskUserQuestion and ExitPlanMode → question.requested (see hitl.go);
//     control_cancel_request → the request resolved as rejected.
//   - known noise (keep_alive, hooks, task progress, rate-limit info, ...)
//     → nothing; anything unknown → agent.unparsed (location "claude").
type Converter struct {
	mu sync.Mutex

	sessionID      string
	sessionStarted bool

	users int // user items made by UserMessage
	anon  int // messages without an id
	notes int // status items

	mcpReported map[string]bool // MCP servers whose failure was reported

	open       []*openMessage          // open assistant messages, oldest first
	closed     map[string]int          // completed message ids → continuations used
	stream     string                  // message.id of the current partial stream
	tools      map[string]toolUse      // tool_use id → call, until its result
	reqs       map[string]*Request     // pending can_use_tool requests by request id
	qs         map[string]questionRef  // question id → request and index
	unanswered []string                // control requests we cannot handle
	calls      map[string]*openToolRef // tool calls started from the stream, by id

	turnFailed  bool // an error event was emitted for the current turn
	interrupted bool // the adapter interrupted the current turn

	// PlanExitMode is the permission mode the CLI is put in when the user
	// approves ExitPlanMode ("default" when empty).
	PlanExitMode string
}

// NewConverter returns a converter for one session.
func NewConverter() *Converter {
	return &Converter{
		closed: map[string]int{},
		tools:  map[string]toolUse{},
		reqs:   map[string]*Request{},
		qs:     map[string]questionRef{},
		calls:  map[string]*openToolRef{},
	}
}

// SessionID returns the native session id, once a line carried one.
func (c *Converter) SessionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}

// SetSessionID sets the native session id (a resumed session knows it
// before the CLI prints it).
func (c *Converter) SetSessionID(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sessionID = id
}

// NoteInterrupt tells the converter that the adapter interrupted the
// current turn: its aborted result ends the turn without an error event.
func (c *Converter) NoteInterrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.interrupted = true
}

// Flush completes every open item (the process died or was stopped) and
// forgets pending requests and the state of the turn the process ran (an
// interrupt or failure noted for it does not carry over to the next
// process's turn); it emits no turn.ended.
func (c *Converter) Flush() []agent.Draft {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []agent.Draft
	c.closeAll(&out, nil)
	c.reqs = map[string]*Request{}
	c.qs = map[string]questionRef{}
	c.interrupted, c.turnFailed = false, false
	return c.stamp(out)
}

// Line converts one stdout line. Blank lines give nothing; a line that is
// not a JSON object, or not one the CLI is known to print, gives
// agent.unparsed carrying it. line is not kept (the drafts' raw is a
// copy): the caller may reuse it.
func (c *Converter) Line(line []byte) []agent.Draft {
	c.mu.Lock()
	defer c.mu.Unlock()
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 {
		return nil
	}
	// Unmarshal checks the whole line before it decodes any of it and
	// returns a *json.SyntaxError, unwrapped, when it is not JSON: no
	// separate json.Valid pass over every line.
	//
	// Nearly every line of a streamed turn is a stream_event: those are
	// decoded whole in this one pass (lineHead), the others get a second,
	// typed decode in dispatch.
	var head lineHead
	err := json.Unmarshal(trimmed, &head)
	if _, syntax := err.(*json.SyntaxError); syntax || trimmed[0] != '{' {
		return c.stamp([]agent.Draft{unparsed("not a JSON object", streamjson.JSONString(trimmed))})
	}
	raw := json.RawMessage(bytes.Clone(trimmed))
	env := envelope{Type: head.Type, SessionID: head.SessionID, ParentToolUseID: head.ParentToolUseID}
	if head.Type != "stream_event" {
		// Other line types are decoded on their own (lineHead leaves out
		// what only they use; and only a stream_event's "event" has to
		// fit, another type may use the name for something else).
		env = envelope{}
		err = json.Unmarshal(trimmed, &env)
	}
	if err != nil {
		msg := err.Error()
		if env.Type == "stream_event" { // as dispatch names its line types' errors
			msg = lineKind(env) + ": " + msg
		}
		return c.stamp([]agent.Draft{unparsed(msg, raw)})
	}
	if env.SessionID != "" && c.sessionID == "" {
		c.sessionID = env.SessionID
	}
	var out []agent.Draft
	if env.Type == "stream_event" {
		err = c.streamEvent(head.streamEventLine(), raw, &out)
	} else {
		out, err = c.dispatch(env, raw)
	}
	if err != nil {
		out = append(out, unparsed(fmt.Sprintf("%s: %v", lineKind(env), err), raw))
	}
	return c.stamp(out)
}

// stamp sets the native session id on drafts once it is known.
func (c *Converter) stamp(out []agent.Draft) []agent.Draft {
	if c.sessionID == "" {
		return out
	}
	for i := range out {
		if out[i].NativeSessionID == "" {
			out[i].NativeSessionID = c.sessionID
		}
	}
	return out
}

// ignoredTypes are line types the CLI prints that carry nothing for the
// transcript: keep-alives, progress and usage bookkeeping, UI hints.
var ignoredTypes = map[string]bool{
	"keep_alive":                   true,
	"rate_limit_event":             true, // a real rejection also fails the call: error line + result
	"tool_progress":                true,
	"tool_use_summary":             true,
	"prompt_suggestion":            true,
	"subagent_token_usage":         true,
	"active_goal":                  true,
	"autocompact_state":            true,
	"conversation_reset":           true,
	"streamlined_text":             true,
	"streamlined_tool_use_summary": true,
	"update_environment_variables": true,
}

// ignoredSystem are system subtypes with nothing for the transcript.
// Sub-agent lifecycle (task_*) is visible through the Task tool call, its
// parented items and its result; permission denials through the failed
// tool result.
var ignoredSystem = map[string]bool{
	"status":                    true,
	"hook_started":              true,
	"hook_progress":             true,
	"hook_response":             true,
	"task_started":              true,
	"task_progress":             true,
	"task_updated":              true,
	"task_summary":              true,
	"background_tasks_changed":  true,
	"thinking_tokens":           true,
	"session_state_changed":     true,
	"worker_shutting_down":      true,
	"commands_changed":          true,
	"notification":              true,
	"files_persisted":           true,
	"memory_recall":             true,
	"elicitation_complete":      true,
	"permission_denied":         true,
	"mirror_error":              true,
	"plugin_install":            true,
	"local_command_output":      true,
	"control_request_progress":  true,
	"model_refusal_fallback":    true,
	"model_refusal_no_fallback": true,
	"post_turn_summary":         true,
}

// lineHead is what a stream_event line is decoded into, in one pass:
// the envelope fields it uses and its event.
type lineHead struct {
	Type            string          `json:"type"`
	SessionID       string          `json:"session_id"`
	ParentToolUseID *string         `json:"parent_tool_use_id"`
	Event           streamEvent     `json:"event"`
	APIMessageID    string          `json:"api_message_id"`
	AbandonedBlocks json.RawMessage `json:"abandoned_blocks"`
}

func (h *lineHead) streamEventLine() streamEventLine {
	return streamEventLine{Event: h.Event, ParentToolUseID: h.ParentToolUseID, APIMessageID: h.APIMessageID, AbandonedBlocks: h.AbandonedBlocks}
}

// dispatch converts a line of any type but stream_event.
func (c *Converter) dispatch(env envelope, raw json.RawMessage) ([]agent.Draft, error) {
	var out []agent.Draft
	switch env.Type {
	case "system":
		return c.system(env, raw)
	case "assistant":
		var l assistantLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		err := c.assistant(l, raw, &out)
		return out, err
	case "user":
		var l userLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		err := c.user(l, raw, &out)
		return out, err
	case "result":
		var l resultLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		c.result(l, raw, &out)
		return out, nil
	case "control_request":
		var l controlRequestLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		return c.controlRequest(l, raw)
	case "control_response":
		var l controlResponseLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		return c.controlResponse(l, raw), nil
	case "control_cancel_request":
		var l controlCancelLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		return c.withdrawn(l.RequestID, raw), nil
	case "auth_status":
		var l struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		if l.Error != "" {
			c.turnFailed = true
			return []agent.Draft{agent.ErrorEvent(l.Error, CodeAuthentication, nil, raw)}, nil
		}
		return nil, nil
	}
	if ignoredTypes[env.Type] {
		return nil, nil
	}
	return nil, fmt.Errorf("unknown line type")
}

func (c *Converter) system(env envelope, raw json.RawMessage) ([]agent.Draft, error) {
	var out []agent.Draft
	switch env.Subtype {
	case "init":
		var l systemInit
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		if l.SessionID != "" && l.SessionID != c.sessionID {
			c.sessionID = l.SessionID
			c.sessionStarted = false
		}
		if c.sessionStarted {
			c.mcpFailures(env, l.MCPServers, raw, &out)
			return out, nil
		}
		c.sessionStarted = true
		meta := map[string]any{
			"nativeSessionId": l.SessionID,
			"model":           l.Model,
			"tools":           streamjson.OrEmpty(l.Tools),
			"permissionMode":  l.PermissionMode,
			"cwd":             l.Cwd,
			"version":         l.ClaudeCodeVersion,
			"apiKeySource":    l.APIKeySource,
			"outputStyle":     l.OutputStyle,
			"mcpServers":      streamjson.RawOr(l.MCPServers, "[]"),
			"agents":          streamjson.RawOr(l.Agents, "[]"),
			"skills":          streamjson.RawOr(l.Skills, "[]"),
		}
		out = append(out, agent.Draft{
			Type:            schema.EventSessionStarted,
			Data:            &schema.SessionStartedData{Metadata: streamjson.MustJSON(meta)},
			Raw:             raw,
			NativeSessionID: l.SessionID,
		})
		c.mcpFailures(env, l.MCPServers, raw, &out)
		return out, nil
	case "api_retry":
		var l systemAPIRetry
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		kind := errorKindOf(l.Error)
		status := 0
		if l.ErrorStatus != nil {
			status = *l.ErrorStatus
		}
		what := apiErrorCode(kind, status, "")
		if status != 0 {
			what = fmt.Sprintf("HTTP %d (%s)", status, what)
		}
		detail := fmt.Sprintf("attempt %d of %d failed with %s; retrying in %d ms",
			l.Attempt, l.MaxRetries, what, int64(l.RetryDelayMs))
		c.statusItem(env, "api_retry", &detail, raw, &out)
		return out, nil
	case "compact_boundary":
		var l systemCompactBoundary
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		detail := "conversation compacted"
		if m := l.CompactMetadata; m.Trigger != "" {
			detail += " (" + m.Trigger + ")"
		}
		if p := l.CompactMetadata.PreTokens; p != nil {
			detail += fmt.Sprintf(", %d tokens before", *p)
		}
		c.statusItem(env, "compacted", &detail, raw, &out)
		return out, nil
	case "informational":
		var l systemInformational
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		label := l.Level
		if label == "" {
			label = "info"
		}
		c.statusItem(env, label, &l.Content, raw, &out)
		return out, nil
	case "task_notification":
		// A sub-agent finished. A background one outlives the Agent call's
		// result ("Async agent launched"), so this is what ends its scope.
		var l struct {
			ToolUseID string `json:"tool_use_id"`
		}
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, err
		}
		if l.ToolUseID != "" {
			for _, m := range slices.Clone(c.open) {
				if m.scope == l.ToolUseID {
					c.complete(m, raw, &out)
				}
			}
			for id, t := range c.tools {
				if t.scope == l.ToolUseID {
					delete(c.tools, id)
				}
			}
		}
		return out, nil
	}
	if ignoredSystem[env.Subtype] {
		return nil, nil
	}
	return nil, fmt.Errorf("unknown system subtype")
}

// mcpFailures reports, once per server, the MCP servers an init line says
// the CLI could not use. The CLI starts without them (a session's MCP
// servers are optional to it), so without this nobody would know.
func (c *Converter) mcpFailures(env envelope, servers json.RawMessage, raw json.RawMessage, out *[]agent.Draft) {
	var list []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	if json.Unmarshal(servers, &list) != nil {
		return
	}
	for _, s := range list {
		var label, what string
		switch s.Status {
		case "failed":
			label, what = "mcp_server_failed", "failed to start or connect"
		case "needs-auth":
			label, what = "mcp_server_needs_auth", "needs authentication"
		default:
			continue
		}
		if c.mcpReported[s.Name] {
			continue
		}
		if c.mcpReported == nil {
			c.mcpReported = map[string]bool{}
		}
		c.mcpReported[s.Name] = true
		detail := fmt.Sprintf("MCP server %q %s; the agent runs without its tools", s.Name, what)
		if s.Error != "" {
			detail += ": " + s.Error
		}
		e := env
		e.UUID = "" // one status item per server, not per line
		c.statusItem(e, label, &detail, raw, out)
	}
}

// statusItem emits a completed status item (kind status, role system).
func (c *Converter) statusItem(env envelope, label string, detail *string, raw json.RawMessage, out *[]agent.Draft) {
	c.notes++
	id := env.UUID
	if id == "" {
		id = fmt.Sprintf("status_%d", c.notes)
	}
	it := schema.Item{
		NativeItemID: schema.Ptr(id),
		ParentID:     scopePtr(schema.Deref(env.ParentToolUseID)),
		Kind:         schema.KindStatus,
		Role:         schema.Ptr(schema.RoleSystem),
		Content:      []schema.ContentPart{schema.Status(label, detail)},
	}
	*out = append(*out, agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw))
}

// result ends the turn: it completes what is still open, reports a failure
// nobody reported yet, and emits turn.ended.
func (c *Converter) result(l resultLine, raw json.RawMessage, out *[]agent.Draft) {
	c.closeAll(out, raw)
	interrupted := c.interrupted || strings.HasPrefix(l.TerminalReason, "aborted")
	failed := l.IsError || strings.HasPrefix(l.Subtype, "error")
	if failed && !interrupted && !c.turnFailed {
		msg := l.Result
		if msg == "" {
			msg = strings.Join(l.Errors, "; ")
		}
		if msg == "" {
			msg = "turn failed: " + l.Subtype
		}
		status := 0
		if l.APIErrorStatus != nil {
			status = *l.APIErrorStatus
		}
		var code string
		switch {
		case strings.HasPrefix(l.Subtype, "error_"):
			code = l.Subtype
		default:
			code = apiErrorCode("", status, msg)
		}
		details := map[string]any{"subtype": l.Subtype}
		if status != 0 {
			details["apiErrorStatus"] = status
		}
		if l.TerminalReason != "" {
			details["terminalReason"] = l.TerminalReason
		}
		if len(l.Errors) > 0 {
			details["errors"] = l.Errors
		}
		*out = append(*out, agent.ErrorEvent(msg, code, streamjson.MustJSON(details), raw))
	}
	meta := map[string]any{
		"subtype":           l.Subtype,
		"isError":           l.IsError,
		"durationMs":        streamjson.RawOr(l.DurationMs, "null"),
		"durationApiMs":     streamjson.RawOr(l.DurationAPIMs, "null"),
		"numTurns":          streamjson.RawOr(l.NumTurns, "null"),
		"totalCostUsd":      streamjson.RawOr(l.TotalCostUSD, "null"),
		"usage":             streamjson.RawOr(l.Usage, "null"),
		"modelUsage":        streamjson.RawOr(l.ModelUsage, "null"),
		"stopReason":        streamjson.RawOr(l.StopReason, "null"),
		"permissionDenials": streamjson.RawOr(l.PermissionDenials, "[]"),
	}
	if l.TerminalReason != "" {
		meta["terminalReason"] = l.TerminalReason
	}
	if interrupted {
		meta["interrupted"] = true
	}
	*out = append(*out, agent.TurnEnded(streamjson.MustJSON(meta), raw))
	c.turnFailed = false
	c.interrupted = false
	// The main agent's calls without a result never get one. A background
	// sub-agent's calls do, after this turn (task_notification forgets
	// them when it ends).
	for id, t := range c.tools {
		if t.scope == "" {
			delete(c.tools, id)
		}
	}
	c.stream = ""
}

func (c *Converter) controlResponse(l controlResponseLine, raw json.RawMessage) []agent.Draft {
	r := l.Response
	if r.Subtype == "error" {
		details := streamjson.MustJSON(map[string]any{"requestId": r.RequestID})
		msg := r.Error
		if msg == "" {
			msg = "control request failed"
		}
		return []agent.Draft{agent.ErrorEvent(msg, "control_error", details, raw)}
	}
	return nil
}

func unparsed(errText string, raw json.RawMessage) agent.Draft {
	return agent.Unparsed("claude", errText, raw)
}

func lineKind(env envelope) string {
	if env.Subtype != "" {
		return env.Type + "/" + env.Subtype
	}
	return env.Type
}

// scopePtr is the parent id of an item in scope: the Task call's id for a
// sub-agent's items, none for the main agent's.
func scopePtr(scope string) *string {
	if scope == "" {
		return nil
	}
	return schema.Ptr(scope)
}
