package claude

import (
	"encoding/json"

	"github.com/sandbox-agent/sandbox-agent/agent/streamjson"
)

// Native wire types of the Claude Code CLI (2.1.x) in bidirectional
// stream-json mode:
//
//	claude --input-format stream-json --output-format stream-json --verbose \
//	       --include-partial-messages --permission-prompt-tool stdio
//
// The CLI writes one JSON object per line on stdout and reads one per line on
// stdin. Only the fields the converter and the adapter use are modelled; the
// CLI adds fields between releases, so decoding never fails on unknown keys.
// Fields whose JSON type varies between releases (or that we only pass
// through) are json.RawMessage.

// The records Claude Code shares with Amp's stream JSON are decoded by
// agent/streamjson; these names keep the converter's code in its own terms.
type (
	envelope      = streamjson.Envelope
	apiMessage    = streamjson.Message
	contentBlock  = streamjson.ContentBlock
	assistantLine = streamjson.AssistantRecord
	userLine      = streamjson.UserRecord
	resultLine    = streamjson.ResultRecord
)

// systemInit is {"type":"system","subtype":"init"}: the session metadata the
// CLI prints at the start of every turn.
type systemInit struct {
	streamjson.Init
	Model             string          `json:"model"`
	PermissionMode    string          `json:"permissionMode"`
	APIKeySource      string          `json:"apiKeySource"`
	ClaudeCodeVersion string          `json:"claude_code_version"`
	OutputStyle       string          `json:"output_style"`
	Agents            json.RawMessage `json:"agents"`
	Skills            json.RawMessage `json:"skills"`
}

// systemAPIRetry is {"type":"system","subtype":"api_retry"}: an API call
// failed with a retryable error and will be retried.
type systemAPIRetry struct {
	Attempt      int             `json:"attempt"`
	MaxRetries   int             `json:"max_retries"`
	RetryDelayMs float64         `json:"retry_delay_ms"`
	ErrorStatus  *int            `json:"error_status"`
	Error        json.RawMessage `json:"error"`
}

// systemCompactBoundary is {"type":"system","subtype":"compact_boundary"}.
type systemCompactBoundary struct {
	CompactMetadata struct {
		Trigger   string `json:"trigger"`
		PreTokens *int   `json:"pre_tokens"`
	} `json:"compact_metadata"`
}

// systemInformational is {"type":"system","subtype":"informational"}: a
// notice the CLI shows the user.
type systemInformational struct {
	Content string `json:"content"`
	Level   string `json:"level"`
}

// streamEventLine is {"type":"stream_event"}: one raw Messages API SSE
// event, printed with --include-partial-messages.
type streamEventLine struct {
	Event           streamEvent `json:"event"`
	ParentToolUseID *string     `json:"parent_tool_use_id"`
	APIMessageID    string      `json:"api_message_id"`
	// AbandonedBlocks is set on the message_stop the CLI makes up for a
	// stream it cut (an interrupt): {"api_message_id", "from_block_index"}.
	AbandonedBlocks json.RawMessage `json:"abandoned_blocks"`
}

// streamEvent is a Messages API stream event: message_start,
// content_block_start, content_block_delta, content_block_stop,
// message_delta, message_stop, ping, error.
type streamEvent struct {
	Type         string        `json:"type"`
	Index        int           `json:"index"`
	Message      *apiMessage   `json:"message"`
	ContentBlock *contentBlock `json:"content_block"`
	Delta        *streamDelta  `json:"delta"`
}

// streamDelta is the delta of content_block_delta (text_delta,
// thinking_delta, input_json_delta, signature_delta, citations_delta) or of
// message_delta.
type streamDelta struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Thinking    string `json:"thinking"`
	PartialJSON string `json:"partial_json"`
}

// controlRequestLine is {"type":"control_request"} in either direction.
type controlRequestLine struct {
	RequestID string          `json:"request_id"`
	Request   json.RawMessage `json:"request"`
}

// canUseTool is the request of a can_use_tool control request: the CLI asks
// whether a tool call may run (--permission-prompt-tool stdio).
type canUseTool struct {
	Subtype               string          `json:"subtype"`
	ToolName              string          `json:"tool_name"`
	DisplayName           string          `json:"display_name"`
	Input                 json.RawMessage `json:"input"`
	Description           string          `json:"description"`
	PermissionSuggestions json.RawMessage `json:"permission_suggestions"`
	BlockedPath           *string         `json:"blocked_path"`
	ToolUseID             string          `json:"tool_use_id"`
	DecisionReason        json.RawMessage `json:"decision_reason"`
}

// controlResponseLine is {"type":"control_response"}: the CLI's answer to
// one of our control requests (initialize, interrupt). Only a failure
// matters; what a success carries (the initialize answer's models and
// commands) is not used.
type controlResponseLine struct {
	Response struct {
		Subtype   string `json:"subtype"`
		RequestID string `json:"request_id"`
		Error     string `json:"error"`
	} `json:"response"`
}

// controlCancelLine is {"type":"control_cancel_request"}: the CLI withdrew
// one of its own control requests (e.g. a permission prompt after an
// interrupt).
type controlCancelLine struct {
	RequestID string `json:"request_id"`
}

// askInput is the input of the AskUserQuestion tool.
type askInput struct {
	Questions []askQuestion `json:"questions"`
	// Question and Options are an older single-question shape.
	Question string   `json:"question"`
	Options  []string `json:"options"`
}

// askQuestion is one question of AskUserQuestion.
type askQuestion struct {
	Question string `json:"question"`
	Header   string `json:"header"`
	Options  []struct {
		Label       string `json:"label"`
		Description string `json:"description"`
	} `json:"options"`
	MultiSelect bool `json:"multiSelect"`
}

// Lines we write to the CLI's stdin.

// userInput is a user turn.
type userInput struct {
	Type            string           `json:"type"` // "user"
	Message         userInputMessage `json:"message"`
	ParentToolUseID *string          `json:"parent_tool_use_id"`
	SessionID       string           `json:"session_id"`
}

// userInputMessage's content is a string (text only) or []inputBlock.
type userInputMessage struct {
	Role    string `json:"role"` // "user"
	Content any    `json:"content"`
}

// inputBlock is a user content block: text, image or document.
type inputBlock struct {
	Type   string       `json:"type"`
	Text   string       `json:"text,omitempty"`
	Source *inputSource `json:"source,omitempty"`
	Title  string       `json:"title,omitempty"`
}

// inputSource is the source of an image or document block: base64, url or
// (documents only) text.
type inputSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

// controlRequest is a control request we send (initialize, interrupt,
// set_permission_mode).
type controlRequest struct {
	Type      string `json:"type"` // "control_request"
	RequestID string `json:"request_id"`
	Request   any    `json:"request"`
}

type initializeRequest struct {
	Subtype string          `json:"subtype"` // "initialize"
	Hooks   json.RawMessage `json:"hooks"`
}

type interruptRequest struct {
	Subtype string `json:"subtype"` // "interrupt"
}

type setPermissionModeRequest struct {
	Subtype string `json:"subtype"` // "set_permission_mode"
	Mode    string `json:"mode"`
}

// controlResponse answers one of the CLI's control requests.
type controlResponse struct {
	Type     string              `json:"type"` // "control_response"
	Response controlResponseBody `json:"response"`
}

type controlResponseBody struct {
	Subtype   string `json:"subtype"` // "success" or "error"
	RequestID string `json:"request_id"`
	Response  any    `json:"response,omitempty"`
	Error     string `json:"error,omitempty"`
}

// permissionResult is the response to can_use_tool.
type permissionResult struct {
	Behavior           string            `json:"behavior"` // "allow" or "deny"
	UpdatedInput       json.RawMessage   `json:"updatedInput,omitempty"`
	UpdatedPermissions []json.RawMessage `json:"updatedPermissions,omitempty"`
	Message            string            `json:"message,omitempty"`
	Interrupt          bool              `json:"interrupt,omitempty"`
}
