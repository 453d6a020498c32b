package fakellm

import (
	"net/http"
	"strings"
	"time"
)

// API identifies the wire format of a request.
type API string

// The wire formats the server speaks.
const (
	APIAnthropic API = "anthropic"        // Anthropic Messages (Claude Code)
	APIResponses API = "openai-responses" // OpenAI Responses (Codex)
	APIChat      API = "openai-chat"      // OpenAI Chat Completions (OpenCode)
	APIGemini    API = "gemini"           // Gemini generateContent (Gemini CLI)
)

// Served says how the server answered a request.
type Served string

// How a request was answered.
const (
	ServedStep     Served = "step"     // consumed scenario step Request.Step
	ServedSide     Served = "side"     // matched a side rule; consumed nothing
	ServedFallback Served = "fallback" // the script was exhausted
	ServedOther    Served = "other"    // not a model turn: models, count_tokens, unknown paths
)

// Request is one recorded HTTP request. Treat it as read-only: the slices and
// maps are shared with the server's log.
type Request struct {
	// Seq numbers requests from 0 in arrival order.
	Seq    int
	Time   time.Time
	Method string
	// Path is the URL path, without the query.
	Path string
	// Query is the raw query string, e.g. "beta=true".
	Query  string
	Header http.Header
	// Body is the request body (decompressed when it was gzip-encoded).
	Body []byte
	// JSON is Body parsed as a JSON object; nil when it is not one.
	JSON map[string]any
	// API is the wire format of a model request or of a models listing;
	// empty for anything else.
	API API
	// Endpoint is "messages", "count_tokens", "responses",
	// "chat_completions", "generate_content", "models" or "" (unknown
	// path).
	Endpoint string
	// Served says how the request was answered.
	Served Served
	// Step is the index of the scenario step it consumed, or -1.
	Step int

	messages []Message
	tools    []ToolSpec
}

// Message is one entry of a request's conversation, normalized across APIs.
type Message struct {
	// Role is "system" (system prompts and OpenAI developer messages),
	// "user", "assistant" or "tool" (OpenAI tool outputs; Anthropic tool
	// results stay in their user message).
	Role string
	// Text joins the message's text parts with newlines.
	Text string
	// ToolCalls are the tool calls of an assistant message.
	ToolCalls []ToolUse
	// ToolResults are the tool results the message carries.
	ToolResults []ToolResult
}

// ToolUse is a tool call the agent sent back as conversation history.
type ToolUse struct {
	ID   string
	Name string
	// Input is the JSON arguments, or the raw input of a custom tool.
	Input string
}

// ToolResult is a tool output the agent sent to the model.
type ToolResult struct {
	// CallID is the tool_use_id / call_id / tool_call_id it answers.
	CallID string
	// Output joins the result's text.
	Output  string
	IsError bool
}

// ToolSpec is one tool the agent offered.
type ToolSpec struct {
	Name string
	// Type is "function" for ordinary (JSON-argument) tools, "custom" for
	// OpenAI freeform tools, or the provider's type of a built-in tool
	// (e.g. "web_search").
	Type string
	// Schema is the JSON schema of the arguments, when there is one.
	Schema map[string]any
}

// Model returns the requested model (for Gemini, the one in the path).
func (r Request) Model() string {
	if r.API == APIGemini {
		return geminiModel(r.Path)
	}
	s, _ := r.JSON["model"].(string)
	return s
}

// Stream reports whether the request asked for a streamed reply (for
// Gemini, :streamGenerateContent).
func (r Request) Stream() bool {
	if r.API == APIGemini {
		return strings.HasSuffix(r.Path, ":streamGenerateContent")
	}
	b, _ := r.JSON["stream"].(bool)
	return b
}

// Tools returns the names of the offered tools.
func (r Request) Tools() []string {
	names := make([]string, 0, len(r.tools))
	for _, t := range r.tools {
		names = append(names, t.Name)
	}
	return names
}

// ToolSpecs returns the offered tools.
func (r Request) ToolSpecs() []ToolSpec { return r.tools }

// HasTool reports whether a tool with that exact name was offered.
func (r Request) HasTool(name string) bool {
	_, ok := r.Tool(name)
	return ok
}

// Tool returns the offered tool with that exact name.
func (r Request) Tool(name string) (ToolSpec, bool) {
	for _, t := range r.tools {
		if t.Name == name {
			return t, true
		}
	}
	return ToolSpec{}, false
}

// Messages returns the conversation, normalized across APIs.
func (r Request) Messages() []Message { return r.messages }

// SystemText joins the system prompt (Anthropic system, Responses
// instructions, system and developer messages).
func (r Request) SystemText() string {
	var parts []string
	for _, m := range r.messages {
		if m.Role == "system" && m.Text != "" {
			parts = append(parts, m.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// HasSystemPrompt reports whether the request carries a system prompt.
func (r Request) HasSystemPrompt() bool { return r.SystemText() != "" }

// LastUserText returns the text of the newest user message that has text.
// Tool results are not user text.
func (r Request) LastUserText() string {
	for i := len(r.messages) - 1; i >= 0; i-- {
		if m := r.messages[i]; m.Role == "user" && m.Text != "" {
			return m.Text
		}
	}
	return ""
}

// ToolResults returns every tool result in the conversation, oldest first.
func (r Request) ToolResults() []ToolResult {
	var out []ToolResult
	for _, m := range r.messages {
		out = append(out, m.ToolResults...)
	}
	return out
}

// LatestToolResults returns the tool results sent since the model's last
// reply: non-empty exactly when this request continues a turn after tools
// ran.
func (r Request) LatestToolResults() []ToolResult {
	var out []ToolResult
	for i := len(r.messages) - 1; i >= 0 && r.messages[i].Role != "assistant"; i-- {
		out = append(append([]ToolResult(nil), r.messages[i].ToolResults...), out...)
	}
	return out
}

// parse fills the normalized views from JSON.
func (r *Request) parse() {
	if r.JSON == nil {
		return
	}
	switch r.API {
	case APIAnthropic:
		r.tools = anthropicTools(r.JSON)
		r.messages = anthropicMessages(r.JSON)
	case APIResponses:
		r.tools = responsesTools(r.JSON)
		r.messages = responsesMessages(r.JSON)
	case APIChat:
		r.tools = chatTools(r.JSON)
		r.messages = chatMessages(r.JSON)
	case APIGemini:
		r.tools = geminiTools(r.JSON)
		r.messages = geminiMessages(r.JSON)
	}
}

func anthropicTools(body map[string]any) []ToolSpec {
	var out []ToolSpec
	for _, t := range asSlice(body["tools"]) {
		m := asMap(t)
		spec := ToolSpec{Name: str(m["name"]), Type: "function", Schema: asMap(m["input_schema"])}
		// Server tools (web_search_…, bash_…) carry a versioned type and no
		// input_schema; "custom" is Anthropic's spelling of an ordinary tool.
		if typ := str(m["type"]); typ != "" && typ != "custom" && spec.Schema == nil {
			spec.Type = typ
		}
		out = append(out, spec)
	}
	return out
}

func anthropicMessages(body map[string]any) []Message {
	var out []Message
	if sys := textOf(body["system"]); sys != "" {
		out = append(out, Message{Role: "system", Text: sys})
	}
	for _, raw := range asSlice(body["messages"]) {
		m := asMap(raw)
		msg := Message{Role: str(m["role"]), Text: textOf(m["content"])}
		for _, b := range asSlice(m["content"]) {
			block := asMap(b)
			switch str(block["type"]) {
			case "tool_use", "server_tool_use":
				msg.ToolCalls = append(msg.ToolCalls, ToolUse{ID: str(block["id"]), Name: str(block["name"]), Input: compactJSON(block["input"])})
			case "tool_result":
				isErr, _ := block["is_error"].(bool)
				msg.ToolResults = append(msg.ToolResults, ToolResult{CallID: str(block["tool_use_id"]), Output: textOf(block["content"]), IsError: isErr})
			}
		}
		out = append(out, msg)
	}
	return out
}

func responsesTools(body map[string]any) []ToolSpec {
	var out []ToolSpec
	for _, t := range asSlice(body["tools"]) {
		m := asMap(t)
		typ := str(m["type"])
		name := str(m["name"])
		if name == "" {
			name = typ // built-ins such as web_search have no name
		}
		out = append(out, ToolSpec{Name: name, Type: typ, Schema: asMap(m["parameters"])})
	}
	return out
}

func responsesMessages(body map[string]any) []Message {
	var out []Message
	if ins := textOf(body["instructions"]); ins != "" {
		out = append(out, Message{Role: "system", Text: ins})
	}
	if s, ok := body["input"].(string); ok {
		return append(out, Message{Role: "user", Text: s})
	}
	for _, raw := range asSlice(body["input"]) {
		item := asMap(raw)
		switch typ := str(item["type"]); typ {
		case "", "message":
			out = append(out, Message{Role: normRole(str(item["role"])), Text: textOf(item["content"])})
		case "function_call":
			out = append(out, Message{Role: "assistant", ToolCalls: []ToolUse{{ID: str(item["call_id"]), Name: str(item["name"]), Input: str(item["arguments"])}}})
		case "custom_tool_call":
			out = append(out, Message{Role: "assistant", ToolCalls: []ToolUse{{ID: str(item["call_id"]), Name: str(item["name"]), Input: str(item["input"])}}})
		case "function_call_output", "custom_tool_call_output":
			out = append(out, Message{Role: "tool", ToolResults: []ToolResult{{CallID: str(item["call_id"]), Output: textOf(item["output"])}}})
		case "reasoning":
			// Reasoning the agent echoes back belongs to the model's turn.
			out = append(out, Message{Role: "assistant"})
		}
	}
	return out
}

func chatTools(body map[string]any) []ToolSpec {
	var out []ToolSpec
	for _, t := range asSlice(body["tools"]) {
		m := asMap(t)
		typ := str(m["type"])
		switch typ {
		case "function":
			fn := asMap(m["function"])
			out = append(out, ToolSpec{Name: str(fn["name"]), Type: typ, Schema: asMap(fn["parameters"])})
		case "custom":
			out = append(out, ToolSpec{Name: str(asMap(m["custom"])["name"]), Type: typ})
		default:
			out = append(out, ToolSpec{Name: typ, Type: typ})
		}
	}
	return out
}

func chatMessages(body map[string]any) []Message {
	var out []Message
	for _, raw := range asSlice(body["messages"]) {
		m := asMap(raw)
		role := normRole(str(m["role"]))
		msg := Message{Role: role}
		if role == "tool" {
			msg.ToolResults = []ToolResult{{CallID: str(m["tool_call_id"]), Output: textOf(m["content"])}}
		} else {
			msg.Text = textOf(m["content"])
		}
		for _, tc := range asSlice(m["tool_calls"]) {
			call := asMap(tc)
			fn := asMap(call["function"])
			msg.ToolCalls = append(msg.ToolCalls, ToolUse{ID: str(call["id"]), Name: str(fn["name"]), Input: str(fn["arguments"])})
		}
		out = append(out, msg)
	}
	return out
}

func normRole(role string) string {
	if role == "developer" {
		return "system"
	}
	return role
}

// textOf extracts the text of a content value: a string, or a list of parts
// whose text-like parts are joined with newlines. Tool calls, tool results and
// images are not text.
func textOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	var parts []string
	for _, p := range asSlice(v) {
		if s, ok := p.(string); ok {
			parts = append(parts, s)
			continue
		}
		m := asMap(p)
		switch str(m["type"]) {
		case "text", "input_text", "output_text", "":
			if t := str(m["text"]); t != "" {
				parts = append(parts, t)
			}
		}
	}
	return strings.Join(parts, "\n")
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asSlice(v any) []any        { s, _ := v.([]any); return s }
func str(v any) string           { s, _ := v.(string); return s }
func compactJSON(v any) string   { return string(marshal(v)) }
func boolOf(v any) bool          { b, _ := v.(bool); return b }
func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
