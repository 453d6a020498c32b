package amp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/streamjson"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Converter turns the Amp CLI's stdout lines into drafts. It holds the
// state of one of our sessions across the CLI processes that serve it (one
// per turn), so native ids stay unique. It does no I/O and reads no clock;
// its methods are safe for concurrent use.
//
// Mapping:
//
//   - system/init → session.started (the first one, and when the thread
//     changes) with metadata {nativeSessionId, tools, cwd, mcpServers,
//     agentMode}; an MCP server whose status says it failed → a status item
//     mcp_server_failed, once per server.
//   - assistant → one message item (native id amp_msg_<n>, parent =
//     parent_tool_use_id): item.started, one item.delta per text block (Amp
//     prints whole messages, so a delta is a whole block), item.completed
//     with the text blocks as content. Inside it, in block order: a
//     thinking block → its own item (kind message, role assistant, content
//     [reasoning public], native id <message>_thinking_<k>, parent = the
//     message); tool_use → a tool_call item (native id = the tool_use id,
//     parent = the message). redacted_thinking makes no item.
//   - user → a tool_result item per tool_result block (native id
//     <tool_use_id>_result), failed when is_error (a rejected or cancelled
//     tool among them); the echoed prompt makes none (the session emitted
//     the user's item when it was sent).
//   - result → error when it failed (code permission_denied when a tool
//     needed an approval stream JSON cannot give, else the subtype), unless
//     the adapter interrupted the turn; then turn.ended with duration, turn
//     count, usage and the error in metadata.
//   - anything else → agent.unparsed (location "amp").
type Converter struct {
	mu sync.Mutex

	threadID string
	started  bool // session.started emitted for threadID

	messages int // assistant messages seen
	users    int // user items made by UserMessage
	anon     int // tool calls or results without an id
	notes    int // status items

	mcpReported map[string]bool
	tools       map[string]toolUse // tool_use id → call, until its result

	interrupted bool // the adapter interrupted the current turn
}

// toolUse is a tool call awaiting its result.
type toolUse struct {
	name  string
	input json.RawMessage
}

// NewConverter returns a converter for one session.
func NewConverter() *Converter {
	return &Converter{mcpReported: map[string]bool{}, tools: map[string]toolUse{}}
}

// ThreadID returns the Amp thread id, once a line carried one.
func (c *Converter) ThreadID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.threadID
}

// SetThreadID sets the thread id (a resumed session knows it before the
// CLI prints it).
func (c *Converter) SetThreadID(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.threadID = id
}

// NoteInterrupt tells the converter that the adapter stopped the current
// turn: the CLI's error result for it ("User cancelled") is not an error.
func (c *Converter) NoteInterrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.interrupted = true
}

// EndTurn forgets the state of the turn that ended without a result (its
// process died): tool calls without a result never get one.
func (c *Converter) EndTurn() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.interrupted = false
	clear(c.tools)
}

// Interrupted reports whether the current turn was interrupted.
func (c *Converter) Interrupted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interrupted
}

// UserMessage returns the user's message item for a prompt.
func (c *Converter) UserMessage(text string) []agent.Draft {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users++
	it := agent.Message(fmt.Sprintf("user_%d", c.users), schema.RoleUser, schema.Text(text))
	return c.stamp([]agent.Draft{agent.ItemStarted(it, nil), agent.ItemCompleted(it, nil)})
}

// Line converts one stdout line. Blank lines give nothing; a line that is
// not a JSON object, or not a record Amp documents, gives agent.unparsed
// carrying it.
func (c *Converter) Line(line []byte) []agent.Draft {
	c.mu.Lock()
	defer c.mu.Unlock()
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 {
		return nil
	}
	var env streamjson.Envelope
	err := json.Unmarshal(trimmed, &env)
	if _, syntax := err.(*json.SyntaxError); syntax || trimmed[0] != '{' {
		return c.stamp([]agent.Draft{unparsed("not a JSON object", streamjson.JSONString(trimmed))})
	}
	raw := json.RawMessage(bytes.Clone(trimmed))
	if err != nil {
		return c.stamp([]agent.Draft{unparsed(err.Error(), raw)})
	}
	if env.SessionID != "" && c.threadID == "" {
		c.threadID = env.SessionID
	}
	out, err := c.dispatch(env, raw)
	if err != nil {
		kind := env.Type
		if env.Subtype != "" {
			kind += "/" + env.Subtype
		}
		out = append(out, unparsed(fmt.Sprintf("%s: %v", kind, err), raw))
	}
	return c.stamp(out)
}

func (c *Converter) dispatch(env streamjson.Envelope, raw json.RawMessage) ([]agent.Draft, error) {
	var out []agent.Draft
	switch env.Type {
	case "system":
		if env.Subtype != "init" {
			return nil, fmt.Errorf("unknown system subtype")
		}
		var r initRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		c.init(r, env, raw, &out)
	case "assistant":
		var r streamjson.AssistantRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		return out, c.assistant(r, raw, &out)
	case "user":
		var r streamjson.UserRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		return out, c.user(r, raw, &out)
	case "result":
		var r resultRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		c.result(r, raw, &out)
	default:
		return nil, fmt.Errorf("unknown record type")
	}
	return out, nil
}

func (c *Converter) init(r initRecord, env streamjson.Envelope, raw json.RawMessage, out *[]agent.Draft) {
	if r.SessionID != "" && r.SessionID != c.threadID {
		c.threadID = r.SessionID
		c.started = false
	}
	if !c.started {
		c.started = true
		meta := map[string]any{
			"nativeSessionId": r.SessionID,
			"tools":           streamjson.OrEmpty(r.Tools),
			"cwd":             r.Cwd,
			"mcpServers":      streamjson.RawOr(r.MCPServers, "[]"),
			"agentMode":       r.AgentMode,
		}
		*out = append(*out, agent.Draft{
			Type:            schema.EventSessionStarted,
			Data:            &schema.SessionStartedData{Metadata: streamjson.MustJSON(meta)},
			Raw:             raw,
			NativeSessionID: r.SessionID,
		})
	}
	var servers []mcpServer
	if json.Unmarshal(r.MCPServers, &servers) != nil {
		return
	}
	for _, s := range servers {
		st := strings.ToLower(s.Status)
		if !strings.Contains(st, "fail") && !strings.Contains(st, "error") || c.mcpReported[s.Name] {
			continue
		}
		c.mcpReported[s.Name] = true
		detail := fmt.Sprintf("MCP server %q: %s; the agent runs without its tools", s.Name, s.Status)
		c.statusItem("mcp_server_failed", detail, env, raw, out)
	}
}

// statusItem emits a completed status item (kind status, role system).
func (c *Converter) statusItem(label, detail string, env streamjson.Envelope, raw json.RawMessage, out *[]agent.Draft) {
	c.notes++
	it := schema.Item{
		NativeItemID: schema.Ptr(fmt.Sprintf("amp_status_%d", c.notes)),
		ParentID:     scopePtr(env.ParentToolUseID),
		Kind:         schema.KindStatus,
		Role:         schema.Ptr(schema.RoleSystem),
		Content:      []schema.ContentPart{schema.Status(label, &detail)},
	}
	*out = append(*out, agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw))
}

func (c *Converter) assistant(r streamjson.AssistantRecord, raw json.RawMessage, out *[]agent.Draft) error {
	blocks, err := streamjson.Blocks(r.Message.Content)
	if err != nil {
		return err
	}
	if len(blocks) == 0 {
		return nil
	}
	c.messages++
	id := fmt.Sprintf("amp_msg_%d", c.messages)
	msg := agent.Message(id, schema.RoleAssistant)
	msg.ParentID = scopePtr(r.ParentToolUseID)
	*out = append(*out, agent.ItemStarted(msg, raw))
	thinking := 0
	for _, b := range blocks {
		switch {
		case b.Type == "text":
			if b.Text == "" {
				continue
			}
			msg.Content = append(msg.Content, schema.Text(b.Text))
			*out = append(*out, agent.Delta(id, b.Text, raw))
		case b.Type == "thinking":
			if b.Thinking == "" {
				continue
			}
			thinking++
			it := agent.Message(fmt.Sprintf("%s_thinking_%d", id, thinking), schema.RoleAssistant,
				schema.Reasoning(b.Thinking, schema.VisibilityPublic))
			it.ParentID = schema.Ptr(id)
			*out = append(*out, agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw))
		case b.Type == "redacted_thinking":
			// Encrypted; nothing to show.
		case streamjson.IsToolUse(b.Type):
			callID := b.ID
			if callID == "" {
				c.anon++
				callID = fmt.Sprintf("amp_tool_use_%d", c.anon)
			}
			input := streamjson.CompactJSON(b.Input)
			c.tools[callID] = toolUse{name: b.Name, input: input}
			it := schema.Item{
				NativeItemID: schema.Ptr(callID),
				ParentID:     schema.Ptr(id),
				Kind:         schema.KindToolCall,
				Role:         schema.Ptr(schema.RoleAssistant),
				Content:      callParts(b.Name, input, callID),
			}
			*out = append(*out, agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw))
		default:
			msg.Content = append(msg.Content, schema.JSONPart(b.Raw))
		}
	}
	*out = append(*out, agent.ItemCompleted(msg, raw))
	return nil
}

func (c *Converter) user(r streamjson.UserRecord, raw json.RawMessage, out *[]agent.Draft) error {
	blocks, err := streamjson.Blocks(r.Message.Content)
	if err != nil {
		return err
	}
	for _, b := range blocks {
		if b.Type != "tool_result" {
			continue // the echoed prompt: its item was emitted at send
		}
		call := c.tools[b.ToolUseID]
		delete(c.tools, b.ToolUseID)
		id := b.ToolUseID + "_result"
		if b.ToolUseID == "" {
			c.anon++
			id = fmt.Sprintf("amp_tool_result_%d", c.anon)
		}
		output := streamjson.ResultText(b.Content)
		parts := []schema.ContentPart{schema.ToolResult(b.ToolUseID, output)}
		parts = append(parts, resultExtras(call, output, b.IsError)...)
		it := schema.Item{
			NativeItemID: schema.Ptr(id),
			ParentID:     scopePtr(r.ParentToolUseID),
			Kind:         schema.KindToolResult,
			Role:         schema.Ptr(schema.RoleTool),
			Content:      parts,
		}
		if b.IsError {
			it.Status = schema.StatusFailed
		}
		*out = append(*out, agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw))
	}
	return nil
}

// approvalPrefix starts the error of a run that stopped on a tool needing
// an approval, which stream JSON mode cannot give.
const approvalPrefix = "The following tools require user approval"

func (c *Converter) result(r resultRecord, raw json.RawMessage, out *[]agent.Draft) {
	failed := r.IsError || strings.HasPrefix(r.Subtype, "error")
	msg := errorText(r.Error)
	meta := map[string]any{
		"subtype":    r.Subtype,
		"isError":    r.IsError,
		"durationMs": streamjson.RawOr(r.DurationMs, "null"),
		"numTurns":   streamjson.RawOr(r.NumTurns, "null"),
		"usage":      streamjson.RawOr(r.Usage, "null"),
	}
	if failed {
		if msg == "" {
			msg = r.Result
		}
		if msg == "" {
			msg = "amp run failed: " + r.Subtype
		}
		meta["error"] = msg
	}
	if !streamjson.IsNull(r.PermissionDenials) {
		meta["permissionDenials"] = r.PermissionDenials
	}
	if c.interrupted {
		meta["interrupted"] = true
	} else if failed {
		code, details := r.Subtype, map[string]any{"subtype": r.Subtype}
		if code == "" {
			code = "amp_error"
		}
		if rest, ok := strings.CutPrefix(msg, approvalPrefix); ok {
			code = "permission_denied"
			if _, tools, ok := strings.Cut(rest, ": "); ok {
				details["tools"] = strings.Split(tools, ", ")
			}
		}
		*out = append(*out, agent.ErrorEvent(msg, code, streamjson.MustJSON(details), raw))
	}
	*out = append(*out, agent.TurnEnded(streamjson.MustJSON(meta), raw))
	c.interrupted = false
	clear(c.tools)
}

// errorText is the message of a result's error: a string, or an object's
// message.
func errorText(raw json.RawMessage) string {
	if streamjson.IsNull(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Message != "" {
		return o.Message
	}
	return string(streamjson.CompactJSON(raw))
}

// stamp sets the thread id on drafts once it is known.
func (c *Converter) stamp(out []agent.Draft) []agent.Draft {
	if c.threadID == "" {
		return out
	}
	for i := range out {
		if out[i].NativeSessionID == "" {
			out[i].NativeSessionID = c.threadID
		}
	}
	return out
}

func unparsed(errText string, raw json.RawMessage) agent.Draft {
	return agent.Unparsed("amp", errText, raw)
}

func scopePtr(p *string) *string {
	if p == nil || *p == "" {
		return nil
	}
	return schema.Ptr(*p)
}
