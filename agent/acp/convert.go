package acp

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Converter turns one ACP session's session/update notifications into
// drafts. It is pure (no I/O) and keeps the state the conversion needs:
// the message or thought being streamed, the tool calls seen so far, and
// the usage reported during the turn. It is not safe for concurrent use.
type Converter struct {
	// open is the message or thought item being streamed ("" when none).
	open     string
	openKind string // agent_message_chunk, agent_thought_chunk, user_message_chunk
	openMsg  string // the agent's message id of the open item
	text     strings.Builder
	chunks   int // message and thought items so far, for native ids

	tools map[string]*toolState
	order []string // tool call ids in arrival order
	notes int

	usage map[string]any
	// prefix makes native ids unique across agent processes of one
	// session: a restarted agent counts its ids from the start again.
	prefix string

	// Terminal, when set, returns the output of a client terminal the
	// agent embedded in a tool call (the client runs terminals, so only it
	// knows their output).
	Terminal func(id string) (string, bool)
}

// Restarted tells the converter a new agent process took over the session
// (its n-th); native ids it reports from now on get a distinct prefix.
func (c *Converter) Restarted(n int) { c.prefix = fmt.Sprintf("r%d/", n) }

type toolState struct {
	id, item             string // the agent's call id; our native item id
	title, kind, status  string
	input                json.RawMessage
	output               json.RawMessage
	content              []toolCallContent
	locations            []toolCallLocation
	callDone, resultDone bool
}

// NewConverter returns a converter for one session.
func NewConverter() *Converter {
	return &Converter{tools: map[string]*toolState{}}
}

// Update converts the params of one session/update notification; raw is
// the whole line, kept on the drafts.
func (c *Converter) Update(params json.RawMessage, raw json.RawMessage) []agent.Draft {
	var n sessionNotification
	if err := json.Unmarshal(params, &n); err != nil || len(n.Update) == 0 {
		return []agent.Draft{agent.Unparsed("acp session/update", fmt.Sprintf("bad params: %v", err), raw)}
	}
	var u update
	if err := json.Unmarshal(n.Update, &u); err != nil {
		return []agent.Draft{agent.Unparsed("acp session/update", err.Error(), raw)}
	}
	switch u.SessionUpdate {
	case "agent_message_chunk", "agent_thought_chunk", "user_message_chunk":
		return c.chunk(u, raw)
	case "tool_call", "tool_call_update":
		return append(c.closeOpen(raw), c.tool(u, raw)...)
	case "plan":
		return append(c.closeOpen(raw), c.note("plan", planText(u.Entries), u.Entries, raw)...)
	case "available_commands_update":
		return c.note("available_commands", commandNames(u.AvailableCommands), u.AvailableCommands, raw)
	case "current_mode_update":
		return c.note("mode", u.CurrentModeID, nil, raw)
	case "config_option_update":
		return c.note("config_options", "", u.ConfigOptions, raw)
	case "session_info_update":
		return c.note("session_info", "", n.Update, raw)
	case "usage_update":
		c.addUsage(u)
		return nil
	}
	return []agent.Draft{agent.Unparsed("acp session/update", "unknown sessionUpdate "+u.SessionUpdate, raw)}
}

// chunk streams a message or thought: a new item when the kind or the
// agent's message id changes, a delta per chunk.
func (c *Converter) chunk(u update, raw json.RawMessage) []agent.Draft {
	var b contentBlock
	if err := json.Unmarshal(u.Content, &b); err != nil {
		return []agent.Draft{agent.Unparsed("acp "+u.SessionUpdate, err.Error(), raw)}
	}
	text := blockText(b)
	var out []agent.Draft
	id := u.MessageID
	if c.open != "" && (c.openKind != u.SessionUpdate || (id != "" && id != c.openMsg)) {
		out = c.closeOpen(raw)
	}
	if c.open == "" {
		c.chunks++
		c.openMsg = id
		if id == "" {
			id = fmt.Sprintf("chunk_%d", c.chunks)
		}
		// A message id may carry both the reply and its reasoning.
		c.open, c.openKind = c.prefix+id+"#"+kindSuffix(u.SessionUpdate), u.SessionUpdate
		c.text.Reset()
		out = append(out, agent.ItemStarted(c.item(""), raw))
	}
	if text == "" {
		return out
	}
	c.text.WriteString(text)
	return append(out, agent.Delta(c.open, text, raw))
}

func kindSuffix(kind string) string {
	switch kind {
	case "agent_thought_chunk":
		return "thought"
	case "user_message_chunk":
		return "user"
	}
	return "message"
}

// item is the open message or thought item with the given text.
func (c *Converter) item(text string) schema.Item {
	switch c.openKind {
	case "agent_thought_chunk":
		return agent.Message(c.open, schema.RoleAssistant, schema.Reasoning(text, schema.VisibilityPublic))
	case "user_message_chunk":
		return agent.Message(c.open, schema.RoleUser, schema.Text(text))
	}
	return agent.Message(c.open, schema.RoleAssistant, schema.Text(text))
}

// closeOpen completes the message or thought being streamed.
func (c *Converter) closeOpen(raw json.RawMessage) []agent.Draft {
	if c.open == "" {
		return nil
	}
	d := agent.ItemCompleted(c.item(c.text.String()), raw)
	c.open, c.openKind = "", ""
	c.text.Reset()
	return []agent.Draft{d}
}

// tool tracks a tool call: item.started when first seen, the call's
// item.completed (with its final input) once it runs, and a tool_result
// item when it completed or failed.
func (c *Converter) tool(u update, raw json.RawMessage) []agent.Draft {
	if u.ToolCallID == "" {
		return []agent.Draft{agent.Unparsed("acp "+u.SessionUpdate, "tool call without toolCallId", raw)}
	}
	t := c.tools[u.ToolCallID]
	var out []agent.Draft
	if t == nil {
		t = &toolState{id: u.ToolCallID, item: c.prefix + u.ToolCallID}
		c.tools[u.ToolCallID] = t
		c.order = append(c.order, u.ToolCallID)
		t.merge(u)
		out = append(out, agent.ItemStarted(t.callItem(), raw))
	} else {
		t.merge(u)
	}
	if t.status == "" || t.status == "pending" {
		return out
	}
	if !t.callDone {
		t.callDone = true
		out = append(out, agent.ItemCompleted(t.callItem(), raw))
	}
	if t.resultDone || (t.status != "completed" && t.status != "failed") {
		return out
	}
	t.resultDone = true
	it := t.resultItem(c.Terminal)
	return append(out, agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw))
}

func (t *toolState) merge(u update) {
	if u.Title != nil && *u.Title != "" {
		if t.title == "" {
			t.title = *u.Title // the first title names the tool; later ones describe the call
		}
	}
	if u.Kind != nil {
		t.kind = *u.Kind
	}
	if u.Status != nil {
		t.status = *u.Status
	}
	if hasJSON(u.RawInput) && string(u.RawInput) != "{}" {
		t.input = u.RawInput
	} else if t.input == nil && hasJSON(u.RawInput) {
		t.input = u.RawInput
	}
	if hasJSON(u.RawOutput) {
		t.output = u.RawOutput
	}
	if u.Locations != nil {
		t.locations = u.Locations
	}
	if hasJSON(u.Content) {
		var cs []toolCallContent
		if json.Unmarshal(u.Content, &cs) == nil {
			t.content = cs
		}
	}
}

func hasJSON(b json.RawMessage) bool { return len(b) > 0 && string(b) != "null" }

func (t *toolState) name() string {
	switch {
	case t.title != "":
		return t.title
	case t.kind != "":
		return t.kind
	}
	return "tool"
}

func (t *toolState) callItem() schema.Item {
	args := "{}"
	if hasJSON(t.input) {
		args = string(t.input)
	}
	return schema.Item{NativeItemID: schema.Ptr(t.item), Kind: schema.KindToolCall,
		Role: schema.Ptr(schema.RoleAssistant), Content: []schema.ContentPart{schema.ToolCall(t.name(), args, t.id)}}
}

// resultItem is the tool's result: its text output, the files it changed
// (from the diffs it reported) or read.
func (t *toolState) resultItem(terminal func(string) (string, bool)) schema.Item {
	var out []string
	var files []schema.ContentPart
	for _, cc := range t.content {
		switch cc.Type {
		case "content":
			var b contentBlock
			if json.Unmarshal(cc.Content, &b) == nil {
				if s := blockText(b); s != "" {
					out = append(out, s)
				}
			}
		case "diff":
			if cc.OldText == nil || *cc.OldText == "" {
				files = append(files, schema.FileRef(cc.Path, schema.FileWrite, agent.WriteDiff(cc.Path, cc.NewText)))
			} else {
				files = append(files, schema.FileRef(cc.Path, schema.FilePatch, agent.EditDiff(cc.Path, agent.Edit{Old: *cc.OldText, New: cc.NewText})))
			}
		case "terminal":
			if terminal != nil {
				if s, ok := terminal(cc.TerminalID); ok {
					out = append(out, s)
					continue
				}
			}
			out = append(out, "[terminal "+cc.TerminalID+"]")
		}
	}
	if len(out) == 0 && hasJSON(t.output) {
		out = append(out, rawOutputText(t.output))
	}
	if len(files) == 0 {
		files = t.locationRefs()
	}
	status := schema.StatusCompleted
	if t.status == "failed" {
		status = schema.StatusFailed
	}
	content := append([]schema.ContentPart{schema.ToolResult(t.id, strings.Join(out, "\n"))}, files...)
	return schema.Item{NativeItemID: schema.Ptr(t.item + "_result"), Kind: schema.KindToolResult,
		Role: schema.Ptr(schema.RoleTool), Content: content, Status: status}
}

// locationRefs names the files a read or an edit without a reported diff
// touched.
func (t *toolState) locationRefs() []schema.ContentPart {
	var action schema.FileAction
	switch t.kind {
	case "read":
		action = schema.FileRead
	case "edit", "delete", "move":
		action = schema.FilePatch
	default:
		return nil
	}
	var refs []schema.ContentPart
	for _, l := range t.locations {
		if l.Path != "" {
			refs = append(refs, schema.FileRef(l.Path, action, nil))
		}
	}
	return refs
}

// rawOutputText renders a tool's raw output: a string as is, an object's
// "output" field when it has one, else the JSON.
func rawOutputText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Output *string `json:"output"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Output != nil {
		return *o.Output
	}
	return string(raw)
}

// blockText is a content block as text: its text, or a mention of what it
// links or embeds.
func blockText(b contentBlock) string {
	switch b.Type {
	case "text":
		return b.Text
	case "resource_link":
		return b.URI
	case "resource":
		var r struct {
			URI  string `json:"uri"`
			Text string `json:"text"`
		}
		_ = json.Unmarshal(b.Resource, &r)
		if r.Text != "" {
			return r.Text
		}
		return r.URI
	case "image", "audio":
		return "[" + b.Type + " " + b.MimeType + "]"
	}
	return ""
}

// note is a system status item: a plan, the available commands, a mode
// change.
func (c *Converter) note(label, detail string, data json.RawMessage, raw json.RawMessage) []agent.Draft {
	c.notes++
	var d *string
	if detail != "" {
		d = schema.Ptr(detail)
	}
	parts := []schema.ContentPart{schema.Status(label, d)}
	if hasJSON(data) {
		parts = append(parts, schema.JSONPart(data))
	}
	it := schema.Item{NativeItemID: schema.Ptr(fmt.Sprintf("%s%s_%d", c.prefix, label, c.notes)), Kind: schema.KindStatus,
		Role: schema.Ptr(schema.RoleSystem), Content: parts}
	return []agent.Draft{agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw)}
}

func planText(entries json.RawMessage) string {
	var es []struct {
		Content string `json:"content"`
		Status  string `json:"status"`
	}
	_ = json.Unmarshal(entries, &es)
	var b strings.Builder
	for i, e := range es {
		fmt.Fprintf(&b, "%d. [%s] %s\n", i+1, e.Status, e.Content)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func commandNames(cmds json.RawMessage) string {
	var cs []struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(cmds, &cs)
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, "/"+c.Name)
	}
	return strings.Join(names, " ")
}

func (c *Converter) addUsage(u update) {
	if c.usage == nil {
		c.usage = map[string]any{}
	}
	if u.Used != nil {
		c.usage["contextUsed"] = *u.Used
	}
	if u.Size != nil {
		c.usage["contextSize"] = *u.Size
	}
	if u.Cost != nil {
		c.usage["cost"] = u.Cost
	}
}

// EndTurn completes what the turn left open (the message being streamed,
// tool calls that never reported an end, as failed) and returns the
// turn.ended draft, with the stop reason, the agent's token usage and
// what usage_update reported.
func (c *Converter) EndTurn(res *promptResult, raw json.RawMessage) []agent.Draft {
	out := c.Flush(raw)
	meta := map[string]any{}
	if res != nil {
		meta["stopReason"] = res.StopReason
		if hasJSON(res.Usage) {
			meta["usage"] = res.Usage
		}
	} else {
		meta["isError"] = true
	}
	for k, v := range c.usage {
		meta[k] = v
	}
	c.usage = nil
	b, _ := json.Marshal(meta)
	return append(out, agent.TurnEnded(b, raw))
}

// Flush completes every open item: the streamed message or thought, and
// tool calls without an end (their results as failed).
func (c *Converter) Flush(raw json.RawMessage) []agent.Draft {
	out := c.closeOpen(raw)
	for _, id := range c.order {
		t := c.tools[id]
		if !t.callDone {
			t.callDone = true
			out = append(out, agent.ItemCompleted(t.callItem(), raw))
		}
		if !t.resultDone && t.status != "pending" && t.status != "" {
			t.resultDone = true
			t.status = "failed"
			it := t.resultItem(c.Terminal)
			out = append(out, agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw))
		}
		delete(c.tools, id)
	}
	c.order = nil
	return out
}
