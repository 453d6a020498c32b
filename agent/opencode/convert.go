package opencode

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Converter turns the server's bus events for one OpenCode session (and
// the child sessions its task tool starts) into drafts. It keeps the state
// of one of our sessions across server restarts, does no I/O and reads no
// clock; its methods are safe for concurrent use.
//
// Mapping:
//
//   - a user message's text and file parts → one user message item each
//     (native id = part id); synthetic and ignored parts make none.
//   - an assistant text part → a message item (native id = part id) started
//     when the part appears, message.part.delta (field text) → item.delta,
//     completed when the part has time.end. A reasoning part → the same
//     with a public reasoning content part. Items of a child session hang
//     under the task call that started it.
//   - a tool part → a tool_call item (native id = part id) started at
//     pending, completed with the input once it runs; at completed/error a
//     tool_result item (native id <part id>_result) with the output, and
//     for bash {command, exitCode, output}, for write/edit a file_ref with
//     the diff. question and task calls are tool calls too.
//   - step-finish → usage and cost for turn.ended; a retry part or
//     session.status retry → a status item; compaction → a status item;
//     subtask parts → a status item.
//   - session.status busy … idle (or session.idle) → exactly one turn.ended
//     per turn, with usage, cost, finish reason in metadata.
//   - session.error → error with a code (MessageAbortedError: none, the
//     turn was interrupted).
//   - permission.asked → permission.requested; question.asked → one
//     question.requested per question; replied/rejected events that did not
//     come from us → the resolved events.
//   - after an event stream reconnect, Reconcile feeds the running turn's
//     messages from GET /session/{id}/message through the same part
//     conversion, so the gap is drafted once and nothing twice.
//   - catalog, plugin, integration, reference, lsp, file-watcher and every
//     other event the server documents → nothing; anything else →
//     agent.unparsed (location "opencode").
type Converter struct {
	mu sync.Mutex

	sessionID string
	children  map[string]bool // child sessions (task tool), by id

	roles map[string]string     // message id → role
	texts map[string]*textState // text/reasoning part id → state
	tools map[string]*toolTrack // tool part id → state
	users map[string]bool       // user parts already emitted
	once  map[string]bool       // step-finish, retry, compaction, subtask parts already counted
	notes int                   // status items

	// resync holds the text parts that were running when the event stream
	// reconnected and were caught up from the server's copy (Reconcile).
	// Their deltas are ambiguous until the stream's next update of the
	// part: one may already be in the fetched text or be new. They are
	// dropped; the update (full text) then streams what is missing.
	resync map[string]bool

	taskCalls     []string          // task tool calls still running, oldest first
	taskBySession map[string]string // child session → task call part id

	perms map[string]*permReq
	qs    map[string]*questionReq // by request id
	qids  map[string]qref         // question id → request and index

	// Turn state: a turn runs from NoteSent (or a busy status) and ends at
	// the first idle after a busy status: the session.idle that follows
	// session.status idle, or an idle from before the prompt, would
	// otherwise end the next turn as soon as it starts.
	busy        bool
	sawBusy     bool
	interrupted bool
	usage       usage
	finish      string
	turnError   string
}

type textState struct {
	reasoning bool
	parent    *string
	text      strings.Builder
	done      bool
}

type toolTrack struct {
	name, callID string
	parent       *string
	callDone     bool
	resultDone   bool
	input        json.RawMessage
}

type permReq struct {
	data     schema.PermissionEventData
	answered bool
}

type questionReq struct {
	id        string
	questions []schema.QuestionEventData
	answers   [][]string
	got       []bool
	answered  bool
}

type qref struct {
	request string
	index   int
}

type usage struct {
	Input, Output, Reasoning, CacheRead, CacheWrite, Total float64
	Cost                                                   float64
	Steps                                                  int
}

// NewConverter returns a converter for the OpenCode session id.
func NewConverter(sessionID string) *Converter {
	return &Converter{
		sessionID:     sessionID,
		children:      map[string]bool{},
		roles:         map[string]string{},
		texts:         map[string]*textState{},
		tools:         map[string]*toolTrack{},
		users:         map[string]bool{},
		once:          map[string]bool{},
		resync:        map[string]bool{},
		taskBySession: map[string]string{},
		perms:         map[string]*permReq{},
		qs:            map[string]*questionReq{},
		qids:          map[string]qref{},
	}
}

// Owns reports whether an event of session id belongs to this converter:
// the session itself or one of its task children.
func (c *Converter) Owns(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return id == c.sessionID || c.children[id]
}

// NoteSent tells the converter a prompt was accepted: a turn is running
// even if the server's busy status has not arrived yet.
func (c *Converter) NoteSent() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy, c.sawBusy = true, false
}

// NoteInterrupt tells the converter the adapter aborted the running turn.
func (c *Converter) NoteInterrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.interrupted = true
}

// NoteSendFailed undoes NoteSent when the server refused the prompt.
func (c *Converter) NoteSendFailed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = false
}

// EndTurn ends a running turn the server will not end itself (it died, it
// never reported idle after an abort, the idle was lost with the event
// stream); reason is "interrupted", "error" or "" (completed).
func (c *Converter) EndTurn(reason string) []agent.Draft {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch reason {
	case "interrupted":
		c.interrupted = true
	case "":
	default:
		if c.turnError == "" {
			c.turnError = reason
		}
	}
	return c.endTurn(nil)
}

// Busy reports whether a turn is running.
func (c *Converter) Busy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.busy
}

// silent lists the events the server documents (OpenAPI, 1.18.33) that
// carry nothing for the transcript.
var silent = map[string]bool{}

func init() {
	for _, t := range strings.Fields(`server.connected server.instance.disposed global.disposed
		catalog.updated plugin.added integration.updated integration.connection.updated reference.updated
		models-dev.refreshed installation.updated installation.update-available lsp.updated
		file.edited file.watcher.updated project.updated project.directories.updated vcs.branch.updated
		workspace.ready workspace.failed workspace.status worktree.ready worktree.failed
		pty.created pty.updated pty.exited pty.deleted todo.updated command.executed
		mcp.tools.changed mcp.browser.open.failed tui.prompt.append tui.command.execute
		tui.toast.show tui.session.select session.updated session.deleted session.diff
		session.compacted message.removed message.part.removed
		sync permission.v2.asked permission.v2.replied question.v2.asked question.v2.replied question.v2.rejected`) {
		silent[t] = true
	}
}

// Convert converts one bus event (the payload, not the global envelope).
func (c *Converter) Convert(raw []byte) []agent.Draft {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Type == "" {
		if err == nil {
			err = fmt.Errorf("no event type")
		}
		return []agent.Draft{agent.Unparsed("opencode", err.Error(), json.RawMessage(raw))}
	}
	out, err := c.convert(ev, raw)
	if err != nil {
		return []agent.Draft{agent.Unparsed("opencode", fmt.Sprintf("%s: %v", ev.Type, err), json.RawMessage(raw))}
	}
	return out
}

func (c *Converter) owns(id string) bool { return id == c.sessionID || c.children[id] }

func (c *Converter) convert(ev event, raw json.RawMessage) ([]agent.Draft, error) {
	switch ev.Type {
	case "session.created":
		var p sessionUpdated
		if err := json.Unmarshal(ev.Properties, &p); err != nil {
			return nil, err
		}
		if p.Info.ParentID != "" && c.owns(p.Info.ParentID) {
			c.children[p.Info.ID] = true
		}
		return nil, nil
	case "message.updated":
		var p messageUpdated
		if err := json.Unmarshal(ev.Properties, &p); err != nil {
			return nil, err
		}
		c.message(p.Info)
		return nil, nil
	case "message.part.updated":
		var p partUpdated
		if err := json.Unmarshal(ev.Properties, &p); err != nil {
			return nil, err
		}
		if !c.owns(p.Part.SessionID) {
			return nil, nil
		}
		if st := c.texts[p.Part.ID]; c.resync[p.Part.ID] && st != nil && len(p.Part.Text) >= st.text.Len() {
			// The stream has caught up with the fetched copy: the
			// deltas after this update are all new.
			delete(c.resync, p.Part.ID)
		}
		return c.part(p.Part, raw), nil
	case "message.part.delta":
		var p partDelta
		if err := json.Unmarshal(ev.Properties, &p); err != nil {
			return nil, err
		}
		if !c.owns(p.SessionID) {
			return nil, nil
		}
		return c.delta(p, raw), nil
	case "session.status":
		var p sessionStatus
		if err := json.Unmarshal(ev.Properties, &p); err != nil {
			return nil, err
		}
		if p.SessionID != c.sessionID {
			return nil, nil
		}
		switch p.Status.Type {
		case "busy":
			c.busy, c.sawBusy = true, true
		case "idle":
			return c.idle(raw), nil
		case "retry":
			return c.note("retry", fmt.Sprintf("attempt %d: %s", p.Status.Attempt, p.Status.Message), nil, raw), nil
		default:
			return nil, fmt.Errorf("unknown status %q", p.Status.Type)
		}
		return nil, nil
	case "session.idle":
		var p sessionRef
		if err := json.Unmarshal(ev.Properties, &p); err != nil {
			return nil, err
		}
		if p.SessionID != c.sessionID {
			return nil, nil
		}
		return c.idle(raw), nil
	case "session.error":
		var p sessionError
		if err := json.Unmarshal(ev.Properties, &p); err != nil {
			return nil, err
		}
		if p.SessionID != c.sessionID || p.Error == nil {
			return nil, nil
		}
		return c.sessionError(p.Error, raw), nil
	case "permission.asked":
		var p permissionAsked
		if err := json.Unmarshal(ev.Properties, &p); err != nil {
			return nil, err
		}
		if !c.owns(p.SessionID) {
			return nil, nil
		}
		return c.permissionAsked(p, raw), nil
	case "permission.replied":
		var p replied
		if err := json.Unmarshal(ev.Properties, &p); err != nil {
			return nil, err
		}
		return c.permissionReplied(p, raw), nil
	case "question.asked":
		var p questionAsked
		if err := json.Unmarshal(ev.Properties, &p); err != nil {
			return nil, err
		}
		if !c.owns(p.SessionID) {
			return nil, nil
		}
		return c.questionAsked(p, raw), nil
	case "question.replied", "question.rejected":
		var p replied
		if err := json.Unmarshal(ev.Properties, &p); err != nil {
			return nil, err
		}
		return c.questionSettled(p, ev.Type == "question.rejected", raw), nil
	}
	if silent[ev.Type] || strings.HasPrefix(ev.Type, "session.next.") {
		return nil, nil
	}
	return nil, fmt.Errorf("unknown event type")
}

// parentOf is the native id of the item a session's items hang under: the
// task call that started a child session, none for the session itself.
func (c *Converter) parentOf(sessionID string) *string {
	if sessionID == c.sessionID {
		return nil
	}
	if id, ok := c.taskBySession[sessionID]; ok {
		return schema.Ptr(id)
	}
	if n := len(c.taskCalls); n > 0 {
		c.taskBySession[sessionID] = c.taskCalls[n-1]
		return schema.Ptr(c.taskCalls[n-1])
	}
	return nil
}

// message notes a message's role (and an assistant's finish reason).
func (c *Converter) message(info messageInfo) {
	if !c.owns(info.SessionID) {
		return
	}
	c.roles[info.ID] = info.Role
	if info.Role == "assistant" && info.Finish != "" && info.SessionID == c.sessionID {
		c.finish = info.Finish
	}
}

// sessionMessage is one entry of GET /session/{id}/message.
type sessionMessage struct {
	Info  messageInfo       `json:"info"`
	Parts []json.RawMessage `json:"parts"`
}

// Reconcile catches up with the server's copy of the session's messages
// (GET /session/{id}/message) after the event stream was down: what the
// lost events said is drafted now, exactly once, since parts converge on
// their latest state (text streams only its missing suffix, a tool call
// or result is made once, counted parts are counted once). Only the
// messages from the newest user message on (the running turn) are read.
func (c *Converter) Reconcile(msgs []sessionMessage) []agent.Draft {
	c.mu.Lock()
	defer c.mu.Unlock()
	from := 0
	for i, m := range msgs {
		if m.Info.Role == "user" && m.Info.SessionID == c.sessionID {
			from = i
		}
	}
	var out []agent.Draft
	for _, m := range msgs[from:] {
		c.message(m.Info)
		for _, raw := range m.Parts {
			var p part
			if err := json.Unmarshal(raw, &p); err != nil {
				out = append(out, agent.Unparsed("opencode", "part: "+err.Error(), raw))
				continue
			}
			if p.SessionID == "" {
				p.SessionID = m.Info.SessionID
			}
			if p.MessageID == "" {
				p.MessageID = m.Info.ID
			}
			if !c.owns(p.SessionID) {
				continue
			}
			out = append(out, c.part(p, raw)...)
			if st := c.texts[p.ID]; st != nil && !st.done {
				c.resync[p.ID] = true
			}
		}
	}
	return out
}

func (c *Converter) part(p part, raw json.RawMessage) []agent.Draft {
	if c.roles[p.MessageID] == "user" {
		return c.userPart(p, raw)
	}
	switch p.Type {
	case "step-finish", "retry", "compaction", "subtask":
		if c.once[p.ID] {
			return nil // seen before a reconnect's catch-up
		}
		c.once[p.ID] = true
	}
	switch p.Type {
	case "text", "reasoning":
		return c.textPart(p, raw)
	case "tool":
		return c.toolPart(p, raw)
	case "step-finish":
		if p.SessionID == c.sessionID {
			c.addUsage(p)
		}
		return nil
	case "retry":
		msg := ""
		if p.Error != nil {
			msg = p.Error.Data.Message
		}
		return c.note("retry", fmt.Sprintf("attempt %d: %s", p.Attempt, msg), c.parentOf(p.SessionID), raw)
	case "compaction":
		return c.note("compaction", "", c.parentOf(p.SessionID), raw)
	case "subtask":
		return c.note("subtask", strings.TrimSpace(p.Agent+": "+p.Description), c.parentOf(p.SessionID), raw)
	case "step-start", "snapshot", "patch", "agent", "file":
		// Step boundaries and snapshots are bookkeeping; patch lists files
		// the tool calls already reported; agent and file parts of an
		// assistant message are references to what it used.
		return nil
	}
	return []agent.Draft{agent.Unparsed("opencode", "unknown part type "+p.Type, raw)}
}

// userPart echoes the user's own message: the server repeats what we sent.
func (c *Converter) userPart(p part, raw json.RawMessage) []agent.Draft {
	if c.users[p.ID] || p.Synthetic || p.Ignored {
		return nil
	}
	var content schema.ContentPart
	switch p.Type {
	case "text":
		content = schema.Text(p.Text)
	case "file":
		name := p.Filename
		if name == "" {
			name = p.URL
			if strings.HasPrefix(name, "data:") {
				name = "attachment"
			}
		}
		var mime *string
		if p.Mime != "" {
			mime = schema.Ptr(p.Mime)
		}
		if strings.HasPrefix(p.Mime, "image/") {
			content = schema.Image(name, mime)
		} else {
			content = schema.FileRef(name, schema.FileRead, nil)
		}
	case "agent", "subtask":
		return nil
	default:
		return nil
	}
	c.users[p.ID] = true
	it := agent.Message(p.ID, schema.RoleUser, content)
	it.ParentID = c.parentOf(p.SessionID)
	return []agent.Draft{agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw)}
}

func (c *Converter) textItem(id string, st *textState, status schema.ItemStatus) schema.Item {
	it := agent.Message(id, schema.RoleAssistant)
	it.ParentID = st.parent
	if st.reasoning {
		it.Content = []schema.ContentPart{schema.Reasoning(st.text.String(), schema.VisibilityPublic)}
	} else {
		it.Content = []schema.ContentPart{schema.Text(st.text.String())}
	}
	it.Status = status
	return it
}

func (c *Converter) startText(id, sessionID string, reasoning bool, raw json.RawMessage) (*textState, []agent.Draft) {
	st := &textState{reasoning: reasoning, parent: c.parentOf(sessionID)}
	c.texts[id] = st
	it := c.textItem(id, st, schema.StatusInProgress)
	it.Content = nil
	return st, []agent.Draft{agent.ItemStarted(it, raw)}
}

func (c *Converter) textPart(p part, raw json.RawMessage) []agent.Draft {
	st := c.texts[p.ID]
	var out []agent.Draft
	if st == nil {
		st, out = c.startText(p.ID, p.SessionID, p.Type == "reasoning", raw)
	}
	if st.done {
		return out
	}
	// The full text so far: stream what the deltas have not said yet.
	if have := st.text.String(); len(p.Text) > len(have) && strings.HasPrefix(p.Text, have) {
		d := p.Text[len(have):]
		st.text.WriteString(d)
		out = append(out, agent.Delta(p.ID, d, raw))
	}
	if p.Time != nil && p.Time.End != 0 {
		st.done = true
		if st.text.String() != p.Text {
			st.text.Reset()
			st.text.WriteString(p.Text)
		}
		out = append(out, agent.ItemCompleted(c.textItem(p.ID, st, schema.StatusCompleted), raw))
	}
	return out
}

func (c *Converter) delta(p partDelta, raw json.RawMessage) []agent.Draft {
	if p.Field != "text" || p.Delta == "" {
		return nil
	}
	if t := c.tools[p.PartID]; t != nil {
		return nil // streamed tool input; the call completes with it whole
	}
	if c.resync[p.PartID] {
		return nil // caught up by Reconcile: the part's next update says the rest
	}
	st := c.texts[p.PartID]
	var out []agent.Draft
	if st == nil {
		st, out = c.startText(p.PartID, p.SessionID, false, raw)
	}
	if st.done {
		return out
	}
	st.text.WriteString(p.Delta)
	return append(out, agent.Delta(p.PartID, p.Delta, raw))
}

func (c *Converter) toolPart(p part, raw json.RawMessage) []agent.Draft {
	if p.State == nil {
		return []agent.Draft{agent.Unparsed("opencode", "tool part without state", raw)}
	}
	t := c.tools[p.ID]
	var out []agent.Draft
	if t == nil {
		t = &toolTrack{name: p.Tool, callID: p.CallID, parent: c.parentOf(p.SessionID)}
		c.tools[p.ID] = t
		it := schema.Item{NativeItemID: schema.Ptr(p.ID), ParentID: t.parent, Kind: schema.KindToolCall,
			Role: schema.Ptr(schema.RoleAssistant), Content: []schema.ContentPart{schema.ToolCall(p.Tool, "{}", p.CallID)}}
		out = append(out, agent.ItemStarted(it, raw))
		if p.Tool == "task" {
			c.taskCalls = append(c.taskCalls, p.ID)
		}
	}
	st := p.State
	if p.Tool == "task" {
		var md struct {
			SessionID string `json:"sessionId"`
		}
		if json.Unmarshal(st.Metadata, &md) == nil && md.SessionID != "" {
			c.taskBySession[md.SessionID] = p.ID
			c.children[md.SessionID] = true
		}
	}
	if st.Status == "pending" {
		return out
	}
	if !t.callDone {
		t.callDone = true
		t.input = st.Input
		if len(t.input) == 0 || string(t.input) == "null" {
			t.input = json.RawMessage("{}")
		}
		it := schema.Item{NativeItemID: schema.Ptr(p.ID), ParentID: t.parent, Kind: schema.KindToolCall,
			Role: schema.Ptr(schema.RoleAssistant), Content: callParts(p.Tool, t.input, p.CallID)}
		out = append(out, agent.ItemCompleted(it, raw))
	}
	if t.resultDone || (st.Status != "completed" && st.Status != "error") {
		return out
	}
	t.resultDone = true
	c.taskDone(p.ID)
	output, status := st.Output, schema.StatusCompleted
	if st.Status == "error" {
		output, status = st.Error, schema.StatusFailed
	}
	content := append([]schema.ContentPart{schema.ToolResult(p.CallID, output)}, resultExtras(p.Tool, t.input, st)...)
	it := schema.Item{NativeItemID: schema.Ptr(p.ID + "_result"), ParentID: t.parent, Kind: schema.KindToolResult,
		Role: schema.Ptr(schema.RoleTool), Content: content, Status: status}
	return append(out, agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw))
}

func (c *Converter) taskDone(id string) {
	for i, t := range c.taskCalls {
		if t == id {
			c.taskCalls = append(c.taskCalls[:i], c.taskCalls[i+1:]...)
			return
		}
	}
}

func (c *Converter) note(label, detail string, parent *string, raw json.RawMessage) []agent.Draft {
	c.notes++
	var d *string
	if detail != "" {
		d = schema.Ptr(detail)
	}
	it := schema.Item{NativeItemID: schema.Ptr(fmt.Sprintf("status_%d", c.notes)), ParentID: parent,
		Kind: schema.KindStatus, Role: schema.Ptr(schema.RoleSystem), Content: []schema.ContentPart{schema.Status(label, d)}}
	return []agent.Draft{agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw)}
}

func (c *Converter) addUsage(p part) {
	var t struct {
		Total, Input, Output, Reasoning float64
		Cache                           struct{ Read, Write float64 }
	}
	if json.Unmarshal(p.Tokens, &t) == nil {
		c.usage.Total += t.Total
		c.usage.Input += t.Input
		c.usage.Output += t.Output
		c.usage.Reasoning += t.Reasoning
		c.usage.CacheRead += t.Cache.Read
		c.usage.CacheWrite += t.Cache.Write
	}
	c.usage.Cost += p.Cost
	c.usage.Steps++
	if p.Reason != "" {
		c.finish = p.Reason
	}
}

func (c *Converter) idle(raw json.RawMessage) []agent.Draft {
	if !c.sawBusy {
		return nil
	}
	return c.endTurn(raw)
}

// endTurn ends the running turn once: open text items complete (failed
// when the turn was interrupted), pending requests are the session's to
// settle.
func (c *Converter) endTurn(raw json.RawMessage) []agent.Draft {
	if !c.busy {
		return nil
	}
	var out []agent.Draft
	for id, st := range c.texts {
		if !st.done {
			st.done = true
			status := schema.StatusCompleted
			if c.interrupted {
				status = schema.StatusFailed
			}
			out = append(out, agent.ItemCompleted(c.textItem(id, st, status), nil))
		}
	}
	meta := map[string]any{
		"usage": map[string]float64{"inputTokens": c.usage.Input, "outputTokens": c.usage.Output,
			"reasoningTokens": c.usage.Reasoning, "cacheReadTokens": c.usage.CacheRead,
			"cacheWriteTokens": c.usage.CacheWrite, "totalTokens": c.usage.Total},
		"costUsd": c.usage.Cost,
		"steps":   c.usage.Steps,
	}
	switch {
	case c.interrupted:
		meta["reason"] = "interrupted"
	case c.turnError != "":
		meta["reason"] = "error"
		meta["error"] = c.turnError
	default:
		meta["reason"] = "completed"
	}
	if c.finish != "" {
		meta["finish"] = c.finish
	}
	b, _ := json.Marshal(meta)
	out = append(out, agent.TurnEnded(b, raw))
	c.busy, c.sawBusy, c.interrupted, c.usage, c.finish, c.turnError = false, false, false, usage{}, "", ""
	return out
}

// sessionError maps the server's error union to an error event.
func (c *Converter) sessionError(e *nativeError, raw json.RawMessage) []agent.Draft {
	if e.Name == "MessageAbortedError" {
		c.interrupted = true
		return nil
	}
	msg, code := e.Data.Message, errorCode(e)
	if msg == "" {
		msg = e.Name
	}
	c.turnError = msg
	details, _ := json.Marshal(map[string]any{"name": e.Name, "statusCode": e.Data.StatusCode,
		"providerID": e.Data.ProviderID, "responseBody": e.Data.ResponseBody, "isRetryable": e.Data.IsRetryable})
	return []agent.Draft{agent.ErrorEvent(msg, code, details, raw)}
}

func errorCode(e *nativeError) string {
	switch e.Name {
	case "ProviderAuthError":
		return "authentication_failed"
	case "MessageOutputLengthError":
		return "max_output_tokens"
	case "ContextOverflowError":
		return "context_overflow"
	case "ContentFilterError":
		return "content_filter"
	case "StructuredOutputError":
		return "structured_output"
	case "APIError":
		switch s := e.Data.StatusCode; {
		case s == 401 || s == 403:
			return "authentication_failed"
		case s == 429:
			return "rate_limit"
		case s == 529:
			return "overloaded"
		case s == 400 || s == 404 || s == 413 || s == 422:
			return "invalid_request"
		case s >= 500:
			return "server_error"
		}
		return "api_error"
	}
	return "unknown_error"
}
