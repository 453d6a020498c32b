// Package streamjson decodes the "stream JSON" records that Claude Code
// (--output-format stream-json) and Amp (--stream-json, "Claude
// Code-compatible") print, one JSON object per line: the record envelope,
// assistant and user records with their Anthropic-style content blocks,
// and result records. Only what both CLIs share lives here; each adapter
// keeps its own differences (Claude's stream events and control protocol,
// Amp's error field on result records) next to its converter.
//
// Decoding never fails on unknown keys: the CLIs add fields between
// releases. Fields whose JSON type varies (or that are only passed
// through) are json.RawMessage.
package streamjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Envelope is what every record has in common.
type Envelope struct {
	Type            string  `json:"type"`
	Subtype         string  `json:"subtype"`
	SessionID       string  `json:"session_id"`
	UUID            string  `json:"uuid"`
	ParentToolUseID *string `json:"parent_tool_use_id"`
}

// Init is the part of {"type":"system","subtype":"init"} both CLIs print:
// the session (Claude) or thread (Amp) id, working directory, tool names
// and MCP servers.
type Init struct {
	Cwd        string          `json:"cwd"`
	SessionID  string          `json:"session_id"`
	Tools      []string        `json:"tools"`
	MCPServers json.RawMessage `json:"mcp_servers"`
}

// Message is an Anthropic Messages API message as the CLIs wrap it.
// Amp's messages carry no id.
type Message struct {
	ID      string          `json:"id"`
	Model   string          `json:"model"`
	Content json.RawMessage `json:"content"`
}

// ContentBlock is one block of a message's content (any block type).
type ContentBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
}

// Block is a content block with its source.
type Block struct {
	ContentBlock
	Raw json.RawMessage
}

// AssistantRecord is {"type":"assistant"}. Claude prints one per completed
// content block (all with the same message.id) and reports API failures as
// synthetic assistant records with error set; Amp prints one per message.
type AssistantRecord struct {
	Message           Message         `json:"message"`
	ParentToolUseID   *string         `json:"parent_tool_use_id"`
	Error             json.RawMessage `json:"error"`
	IsAPIErrorMessage bool            `json:"isApiErrorMessage"`
	APIErrorStatus    *int            `json:"apiErrorStatus"`
}

// UserRecord is {"type":"user"}: tool results, echoed prompts, replays.
type UserRecord struct {
	Message struct {
		Content json.RawMessage `json:"content"`
	} `json:"message"`
	ParentToolUseID *string         `json:"parent_tool_use_id"`
	ToolUseResult   json.RawMessage `json:"tool_use_result"`
}

// ResultRecord is {"type":"result"}: the end of a turn (Claude) or of the
// run (Amp). subtype is success or error_*; is_error may be true with
// subtype success (Claude API errors).
type ResultRecord struct {
	Subtype           string          `json:"subtype"`
	IsError           bool            `json:"is_error"`
	Result            string          `json:"result"`
	Errors            []string        `json:"errors"`
	APIErrorStatus    *int            `json:"api_error_status"`
	TerminalReason    string          `json:"terminal_reason"`
	DurationMs        json.RawMessage `json:"duration_ms"`
	DurationAPIMs     json.RawMessage `json:"duration_api_ms"`
	NumTurns          json.RawMessage `json:"num_turns"`
	TotalCostUSD      json.RawMessage `json:"total_cost_usd"`
	Usage             json.RawMessage `json:"usage"`
	ModelUsage        json.RawMessage `json:"modelUsage"`
	StopReason        json.RawMessage `json:"stop_reason"`
	PermissionDenials json.RawMessage `json:"permission_denials"`
}

// Blocks decodes message content: a string is one text block.
func Blocks(content json.RawMessage) ([]Block, error) {
	if IsNull(content) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(content, &s) == nil {
		return []Block{{ContentBlock: ContentBlock{Type: "text", Text: s}, Raw: MustJSON(map[string]string{"type": "text", "text": s})}}, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(content, &raws); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	out := make([]Block, 0, len(raws))
	for _, r := range raws {
		var b ContentBlock
		if err := json.Unmarshal(r, &b); err != nil {
			return nil, fmt.Errorf("content block: %w", err)
		}
		out = append(out, Block{b, r})
	}
	return out, nil
}

// BlocksText joins the non-empty text blocks with newlines.
func BlocksText(blocks []Block) string {
	var parts []string
	for _, b := range blocks {
		if b.Type == "text" && b.Text != "" {
			parts = append(parts, b.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// IsToolUse reports whether a block type is a tool call.
func IsToolUse(t string) bool {
	return t == "tool_use" || t == "server_tool_use" || t == "mcp_tool_use"
}

// IsToolResult reports whether a block type is a tool result.
func IsToolResult(t string) bool {
	return t == "tool_result" || strings.HasSuffix(t, "_tool_result")
}

// ResultText is the text of a tool result's content: a string as is, the
// text blocks of a block list joined by newlines (images as "[image]",
// tool_reference blocks as the tool's name, other blocks as JSON).
func ResultText(content json.RawMessage) string {
	if IsNull(content) {
		return ""
	}
	var s string
	if json.Unmarshal(content, &s) == nil {
		return s
	}
	var blocks []json.RawMessage
	if json.Unmarshal(content, &blocks) != nil {
		return string(CompactJSON(content))
	}
	parts := make([]string, 0, len(blocks))
	for _, raw := range blocks {
		var b struct {
			Type     string  `json:"type"`
			Text     *string `json:"text"`
			ToolName string  `json:"tool_name"`
		}
		switch {
		case json.Unmarshal(raw, &b) != nil:
			parts = append(parts, string(CompactJSON(raw)))
		case b.Text != nil && (b.Type == "text" || b.Type == ""):
			parts = append(parts, *b.Text)
		case b.Type == "image":
			parts = append(parts, "[image]")
		case b.Type == "tool_reference" && b.ToolName != "":
			parts = append(parts, b.ToolName)
		default:
			parts = append(parts, string(CompactJSON(raw)))
		}
	}
	return strings.Join(parts, "\n")
}

// IsNull reports whether a JSON value is absent or null.
func IsNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// CompactJSON returns raw without insignificant spaces; "{}" when absent
// or invalid.
func CompactJSON(raw json.RawMessage) json.RawMessage {
	if IsNull(raw) {
		return json.RawMessage("{}")
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return json.RawMessage("{}")
	}
	return b.Bytes()
}

// MustJSON marshals v; "null" if it cannot be.
func MustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// RawOr returns raw, or def when raw is absent.
func RawOr(raw json.RawMessage, def string) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage(def)
	}
	return raw
}

// JSONString is b as a JSON string (the raw payload of a line that is not
// JSON).
func JSONString(b []byte) json.RawMessage {
	s, _ := json.Marshal(string(b))
	return s
}

// OrEmpty returns s, or an empty (non-nil) slice.
func OrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
