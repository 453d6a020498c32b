package amp

import (
	"encoding/json"

	"github.com/sandbox-agent/sandbox-agent/agent/streamjson"
)

// Native records of the Amp CLI in execute mode with stream JSON:
//
//	amp [threads continue <thread>] --execute --stream-json [--stream-json-thinking] --stream-json-input
//
// Amp documents its output as "Claude Code-compatible stream JSON"
// (ampcode.com/news/streaming-json, `amp --help`); the records it prints
// are decoded by agent/streamjson. Where Amp differs from Claude Code, the
// difference is here:
//
//   - session_id is Amp's thread id (T-…), which `amp threads continue`
//     takes to go on with the conversation.
//   - system/init also names the agent_mode; its mcp_servers statuses are
//     Amp's (connected, connecting, connection-failed, …).
//   - assistant records carry no message id, one record per message, with
//     no partial (token) stream; stop_reason is tool_use or end_turn, or
//     null while the message was still streaming when it was printed.
//   - thinking and redacted_thinking blocks appear only with
//     --stream-json-thinking.
//   - user records carry the tool results of the top-level agent (a
//     rejected or cancelled tool is a tool_result with is_error and a
//     "Tool execution rejected by user: …" / "Tool execution cancelled: …"
//     text); sub-agent messages are not printed.
//   - the result record of a failed run has subtype error_during_execution,
//     is_error true and the message in "error" (not "result"). A tool that
//     needs approval, which stream JSON mode cannot give, fails the run
//     with "The following tools require user approval, which is not
//     supported in stream JSON mode: <tools>".
//   - the result is printed once, when the run ends: after stdin is closed
//     with --stream-json-input.

// initRecord is {"type":"system","subtype":"init"}.
type initRecord struct {
	streamjson.Init
	AgentMode string `json:"agent_mode"`
}

// mcpServer is one entry of init's mcp_servers.
type mcpServer struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// resultRecord is {"type":"result"}: Claude Code's shape plus Amp's error.
type resultRecord struct {
	streamjson.ResultRecord
	Error json.RawMessage `json:"error"`
}

// Lines we write to stdin with --stream-json-input.

// inputLine is a user message.
type inputLine struct {
	Type    string       `json:"type"` // "user"
	Message inputMessage `json:"message"`
}

type inputMessage struct {
	Role    string       `json:"role"` // "user"
	Content []inputBlock `json:"content"`
}

// inputBlock is a text block (Amp also takes base64 images, unused here).
type inputBlock struct {
	Type string `json:"type"` // "text"
	Text string `json:"text"`
}
