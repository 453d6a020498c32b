package codex

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Converter turns one thread's app-server notifications into drafts. It is
// pure apart from its own state (the open tool results, the turn's token
// usage and diff), so it is tested by feeding it captured lines.
type Converter struct {
	threadID string
	// results whose item.started is out (a command's output streamed).
	results map[string]bool
	// changes are the paths of file changes in progress, for approvals.
	changes map[string][]string
	usage   json.RawMessage
	diff    string
	plans   int
	// failed is set when an error notification already reported the
	// turn's failure, so turn/completed does not report it again.
	failed bool
}

// NewConverter returns a converter for the thread.
func NewConverter(threadID string) *Converter {
	return &Converter{threadID: threadID, results: map[string]bool{}, changes: map[string][]string{}}
}

// quiet are notifications that carry nothing for the transcript: thread
// bookkeeping, account and UI state. They are known, so not unparsed.
var quiet = map[string]bool{
	"thread/started": true, "thread/status/changed": true, "thread/readState/changed": true,
	"thread/name/updated": true, "thread/settings/updated": true, "thread/archived": true,
	"thread/unarchived": true, "thread/closed": true, "thread/queue/changed": true,
	"thread/environment/connected": true, "thread/environment/disconnected": true,
	"thread/goal/updated": true, "thread/goal/cleared": true, "thread/prediction/updated": true,
	"thread/section/changed": true, "thread/attachment/updated": true, "thread/project/updated": true,
	"turn/started": true, "serverRequest/resolved": true, "account/rateLimits/updated": true,
	"account/updated": true, "remoteControl/status/changed": true, "skills/changed": true,
	"app/list/updated": true, "fs/changed": true,
	"item/reasoning/summaryPartAdded": true, "item/commandExecution/terminalInteraction": true,
	"item/fileChange/patchUpdated": true, "item/autoApprovalReview/started": true,
	"item/autoApprovalReview/completed": true, "hook/started": true, "hook/completed": true,
	"turn/moderationMetadata": true, "model/safetyBuffering/updated": true, "model/verification": true,
	"mcpServer/event/stream/notification": true, "item/mcpToolCall/progress": true,
}

// Notification converts one notification; raw is the whole line.
func (c *Converter) Notification(method string, params, raw json.RawMessage) []agent.Draft {
	out, err := c.notification(method, params, raw)
	if err != nil {
		out = append(out, agent.Unparsed(method, err.Error(), raw))
	}
	for i := range out {
		out[i].NativeSessionID = c.threadID
	}
	return out
}

func (c *Converter) notification(method string, params, raw json.RawMessage) ([]agent.Draft, error) {
	switch method {
	case "item/started", "item/completed":
		var n itemNotification
		if err := json.Unmarshal(params, &n); err != nil {
			return nil, err
		}
		var it threadItem
		if err := json.Unmarshal(n.Item, &it); err != nil {
			return nil, err
		}
		if it.ID == "" || it.Type == "" {
			return nil, fmt.Errorf("item without id or type")
		}
		return c.item(method == "item/completed", it, n.Item, raw), nil
	case "item/agentMessage/delta", "item/reasoning/textDelta", "item/reasoning/summaryTextDelta", "item/plan/delta":
		var d deltaNotification
		if err := json.Unmarshal(params, &d); err != nil || d.ItemID == "" {
			return nil, orMissing(err, "itemId")
		}
		return []agent.Draft{agent.Delta(d.ItemID, d.Delta, raw)}, nil
	case "item/commandExecution/outputDelta", "item/fileChange/outputDelta":
		var d deltaNotification
		if err := json.Unmarshal(params, &d); err != nil || d.ItemID == "" {
			return nil, orMissing(err, "itemId")
		}
		var out []agent.Draft
		id := resultID(d.ItemID)
		if !c.results[id] {
			c.results[id] = true
			out = append(out, agent.ItemStarted(resultItem(d.ItemID, "", nil), raw))
		}
		return append(out, agent.Delta(id, d.Delta, raw)), nil
	case "turn/completed":
		var n turnNotification
		if err := json.Unmarshal(params, &n); err != nil {
			return nil, err
		}
		return c.turnCompleted(n.Turn, raw), nil
	case "error":
		var n errorNotification
		if err := json.Unmarshal(params, &n); err != nil {
			return nil, err
		}
		if n.WillRetry {
			return []agent.Draft{statusDraft("retry:"+n.TurnID, "codex.retry", n.Error.Message, raw)}, nil
		}
		c.failed = true
		return []agent.Draft{errorDraft(n.Error, params, raw)}, nil
	case "warning", "configWarning", "deprecationNotice", "guardianWarning", "windows/worldWritableWarning":
		var w struct {
			Message string `json:"message"`
			Summary string `json:"summary"`
		}
		if err := json.Unmarshal(params, &w); err != nil {
			return nil, err
		}
		text := w.Message
		if text == "" {
			text = w.Summary
		}
		return []agent.Draft{statusDraft(fmt.Sprintf("warning:%x", hash(raw)), "warning", text, raw)}, nil
	case "thread/tokenUsage/updated":
		var n tokenUsageNotification
		if err := json.Unmarshal(params, &n); err != nil {
			return nil, err
		}
		c.usage = n.TokenUsage
		return nil, nil
	case "turn/diff/updated":
		var n diffNotification
		if err := json.Unmarshal(params, &n); err != nil {
			return nil, err
		}
		c.diff = n.Diff
		return nil, nil
	case "turn/plan/updated":
		var n planNotification
		if err := json.Unmarshal(params, &n); err != nil {
			return nil, err
		}
		c.plans++
		var env envelope
		_ = json.Unmarshal(params, &env)
		it := schema.Item{
			NativeItemID: schema.Ptr(fmt.Sprintf("plan:%s:%d", env.TurnID, c.plans)),
			Kind:         schema.KindStatus, Role: schema.Ptr(schema.RoleSystem),
			Content: []schema.ContentPart{schema.Status("turn.plan", n.Explanation), schema.JSONPart(n.Plan)},
		}
		return []agent.Draft{agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw)}, nil
	case "mcpServer/startupStatus/updated":
		var n struct {
			Name   string  `json:"name"`
			Status string  `json:"status"`
			Error  *string `json:"error"`
		}
		if err := json.Unmarshal(params, &n); err != nil {
			return nil, err
		}
		if n.Status == "starting" {
			return nil, nil // the outcome follows
		}
		detail := n.Name
		if e := schema.Deref(n.Error); e != "" {
			detail += ": " + e
		}
		return []agent.Draft{statusDraft("mcp:"+n.Name+":"+n.Status, "mcp_server_"+n.Status, detail, raw)}, nil
	case "thread/compacted", "model/rerouted":
		return []agent.Draft{statusDraft(fmt.Sprintf("%s:%x", method, hash(raw)), strings.ReplaceAll(method, "/", "."), string(params), raw)}, nil
	}
	if quiet[method] {
		return nil, nil
	}
	return nil, fmt.Errorf("unknown notification %q", method)
}

// item converts item/started and item/completed.
func (c *Converter) item(done bool, it threadItem, native, raw json.RawMessage) []agent.Draft {
	emit := func(item schema.Item) agent.Draft {
		if done {
			return agent.ItemCompleted(item, raw)
		}
		return agent.ItemStarted(item, raw)
	}
	switch it.Type {
	case "userMessage":
		// The session records the user's message when it is sent.
		return nil
	case "agentMessage", "plan":
		var parts []schema.ContentPart
		if done || it.Text != "" {
			parts = []schema.ContentPart{schema.Text(it.Text)}
		}
		return []agent.Draft{emit(agent.Message(it.ID, schema.RoleAssistant, parts...))}
	case "reasoning":
		var parts []schema.ContentPart
		for _, s := range it.Summary {
			parts = append(parts, schema.Reasoning(s, schema.VisibilityPublic))
		}
		var content []string
		_ = json.Unmarshal(it.Content, &content)
		for _, s := range content {
			parts = append(parts, schema.Reasoning(s, schema.VisibilityPrivate))
		}
		return []agent.Draft{emit(agent.Message(it.ID, schema.RoleAssistant, parts...))}
	case "commandExecution":
		args := mustJSON(map[string]any{"command": it.Command, "cwd": it.Cwd})
		call := toolCall(it.ID, "commandExecution", args)
		if !done {
			return []agent.Draft{agent.ItemStarted(call, raw)}
		}
		out := []agent.Draft{agent.ItemCompleted(call, raw)}
		output := schema.Deref(it.AggregatedOutput)
		if it.Status == "declined" && output == "" {
			output = "declined by the user"
		}
		extra := schema.JSONPart(map[string]any{"exitCode": it.ExitCode, "durationMs": it.DurationMs, "status": it.Status})
		return append(out, c.result(it.ID, output, it.Status, raw, extra)...)
	case "fileChange":
		var paths []string
		for _, ch := range it.Changes {
			paths = append(paths, ch.Path)
		}
		call := toolCall(it.ID, "fileChange", mustJSON(map[string]any{"paths": paths}))
		if !done {
			c.changes[it.ID] = paths
			return []agent.Draft{agent.ItemStarted(call, raw)}
		}
		delete(c.changes, it.ID)
		out := []agent.Draft{agent.ItemCompleted(call, raw)}
		var extra []schema.ContentPart
		for _, ch := range it.Changes {
			action := schema.FilePatch
			if ch.Kind.Type == "add" {
				action = schema.FileWrite
			}
			extra = append(extra, schema.FileRef(ch.Path, action, schema.Ptr(ch.Diff)))
		}
		summary := it.Status
		if len(paths) > 0 {
			summary = it.Status + ": " + strings.Join(paths, ", ")
		}
		return append(out, c.result(it.ID, summary, it.Status, raw, extra...)...)
	case "mcpToolCall", "dynamicToolCall":
		name := it.Tool
		if it.Server != "" {
			name = it.Server + "." + it.Tool
		}
		call := toolCall(it.ID, name, argString(it.Arguments))
		if !done {
			return []agent.Draft{agent.ItemStarted(call, raw)}
		}
		output := string(it.Result)
		if it.Error != nil {
			output = it.Error.Message
		}
		if output == "null" {
			output = ""
		}
		return append([]agent.Draft{agent.ItemCompleted(call, raw)}, c.result(it.ID, output, it.Status, raw)...)
	case "collabAgentToolCall":
		call := toolCall(it.ID, it.Tool, mustJSON(map[string]any{"prompt": it.Prompt}))
		if !done {
			return []agent.Draft{agent.ItemStarted(call, raw)}
		}
		return append([]agent.Draft{agent.ItemCompleted(call, raw)}, c.result(it.ID, "", it.Status, raw, schema.JSONPart(native))...)
	case "webSearch":
		call := toolCall(it.ID, "web_search", mustJSON(map[string]any{"query": it.Query}))
		if !done {
			return []agent.Draft{agent.ItemStarted(call, raw)}
		}
		return append([]agent.Draft{agent.ItemCompleted(call, raw)}, c.result(it.ID, it.Query, "completed", raw, schema.JSONPart(native))...)
	case "imageView":
		return []agent.Draft{emit(agent.Message(it.ID, schema.RoleAssistant, schema.Image(it.Path, nil)))}
	}
	// Review mode, compaction, hooks, sleeps, generated images, sub-agent
	// activity: shown as status items carrying the native item.
	item := schema.Item{
		NativeItemID: schema.Ptr(it.ID), Kind: schema.KindStatus, Role: schema.Ptr(schema.RoleSystem),
		Content: []schema.ContentPart{schema.Status("codex."+it.Type, nil), schema.JSONPart(native)},
	}
	return []agent.Draft{emit(item)}
}

// changePaths returns the paths a file change in progress touches.
func (c *Converter) changePaths(itemID string) []string { return c.changes[itemID] }

// result completes a tool's result item (starting it unless its output was
// streamed).
func (c *Converter) result(callID, output, status string, raw json.RawMessage, extra ...schema.ContentPart) []agent.Draft {
	id := resultID(callID)
	it := resultItem(callID, output, extra)
	switch status {
	case "failed", "declined":
		it.Status = schema.StatusFailed
	}
	var out []agent.Draft
	if !c.results[id] {
		out = append(out, agent.ItemStarted(resultItem(callID, "", nil), raw))
	}
	delete(c.results, id)
	return append(out, agent.ItemCompleted(it, raw))
}

func (c *Converter) turnCompleted(t nativeTurn, raw json.RawMessage) []agent.Draft {
	var out []agent.Draft
	if c.diff != "" {
		it := schema.Item{
			NativeItemID: schema.Ptr("diff:" + t.ID), Kind: schema.KindStatus, Role: schema.Ptr(schema.RoleSystem),
			Content: []schema.ContentPart{schema.Status("turn.diff", schema.Ptr(c.diff))},
		}
		out = append(out, agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw))
	}
	if t.Status == "failed" && t.Error != nil && !c.failed {
		out = append(out, errorDraft(*t.Error, mustJSON(t), raw))
	}
	md := map[string]any{"turnId": t.ID, "status": t.Status}
	if t.DurationMs != nil {
		md["durationMs"] = *t.DurationMs
	}
	if c.usage != nil {
		md["usage"] = c.usage
	}
	if t.Error != nil {
		md["error"] = t.Error
	}
	out = append(out, agent.TurnEnded(mustJSON(md), raw))
	c.usage, c.diff, c.failed = nil, "", false
	return out
}

// errorCode is the error's codexErrorInfo as a code: the string
// ("rateLimitExceeded"), or for the transport kinds that carry the
// provider's HTTP status, the kind that status means (401 and 403
// unauthorized, 429 rateLimitExceeded), else the variant's key
// ("httpConnectionFailed").
func errorCode(info json.RawMessage) string {
	var s string
	if json.Unmarshal(info, &s) == nil {
		return s
	}
	var m map[string]struct {
		HTTPStatusCode *int `json:"httpStatusCode"`
	}
	if json.Unmarshal(info, &m) != nil {
		return ""
	}
	for k, v := range m {
		switch schema.Deref(v.HTTPStatusCode) {
		case 401, 403:
			return "unauthorized"
		case 429:
			return "rateLimitExceeded"
		}
		return k
	}
	return ""
}

func errorDraft(e turnError, details, raw json.RawMessage) agent.Draft {
	code := errorCode(e.CodexErrorInfo)
	if code == "" {
		code = "agent_error"
	}
	msg := e.Message
	if d := schema.Deref(e.AdditionalDetails); d != "" {
		msg += ": " + d
	}
	return agent.ErrorEvent(msg, code, details, raw)
}

func statusDraft(id, label, detail string, raw json.RawMessage) agent.Draft {
	it := schema.Item{
		NativeItemID: schema.Ptr(id), Kind: schema.KindStatus, Role: schema.Ptr(schema.RoleSystem),
		Content: []schema.ContentPart{schema.Status(label, schema.Ptr(detail))},
		Status:  schema.StatusCompleted,
	}
	return agent.ItemCompleted(it, raw)
}

func toolCall[A ~string | ~[]byte](id, name string, args A) schema.Item {
	return schema.Item{
		NativeItemID: schema.Ptr(id), Kind: schema.KindToolCall, Role: schema.Ptr(schema.RoleAssistant),
		Content: []schema.ContentPart{schema.ToolCall(name, string(args), id)},
	}
}

func resultID(callID string) string { return callID + "_result" }

func resultItem(callID, output string, extra []schema.ContentPart) schema.Item {
	return schema.Item{
		NativeItemID: schema.Ptr(resultID(callID)), ParentID: schema.Ptr(callID),
		Kind: schema.KindToolResult, Role: schema.Ptr(schema.RoleTool),
		Content: append([]schema.ContentPart{schema.ToolResult(callID, output)}, extra...),
	}
}

// argString renders tool arguments as the JSON-encoded string tool_call
// parts carry.
func argString(a json.RawMessage) string {
	if len(a) == 0 {
		return "{}"
	}
	return string(a)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

func orMissing(err error, field string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("missing %s", field)
}

// hash gives notifications without an id of their own a stable native id.
func hash(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}
