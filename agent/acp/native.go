package acp

import "encoding/json"

// The Agent Client Protocol's wire types we use (protocol version 1). The
// schema they follow is testdata/acp-schema-v1.json, from the protocol's
// npm package; protocol_test.go checks what we send and receive against
// it. Unknown fields are ignored, optional ones are pointers or omitted.

// protocolVersion is the ACP major version this client speaks.
const protocolVersion = 1

type implementation struct {
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"`
	Version string `json:"version"`
}

type initializeParams struct {
	ProtocolVersion    int                `json:"protocolVersion"`
	ClientCapabilities clientCapabilities `json:"clientCapabilities"`
	ClientInfo         *implementation    `json:"clientInfo,omitempty"`
}

type clientCapabilities struct {
	FS       fsCapabilities `json:"fs"`
	Terminal bool           `json:"terminal"`
}

type fsCapabilities struct {
	ReadTextFile  bool `json:"readTextFile"`
	WriteTextFile bool `json:"writeTextFile"`
}

type initializeResult struct {
	ProtocolVersion   int               `json:"protocolVersion"`
	AgentCapabilities agentCapabilities `json:"agentCapabilities"`
	AgentInfo         *implementation   `json:"agentInfo"`
}

type agentCapabilities struct {
	LoadSession        bool `json:"loadSession"`
	PromptCapabilities struct {
		Image           bool `json:"image"`
		Audio           bool `json:"audio"`
		EmbeddedContext bool `json:"embeddedContext"`
	} `json:"promptCapabilities"`
	McpCapabilities struct {
		HTTP bool `json:"http"`
		SSE  bool `json:"sse"`
	} `json:"mcpCapabilities"`
}

// mcpServer is one MCP server for session/new: stdio (no type: command,
// args, env), or http / sse (type, url, headers).
type mcpServer struct {
	Type    string
	Name    string
	Command string
	Args    []string
	Env     []envVariable
	URL     string
	Headers []httpHeader
}

// MarshalJSON writes the fields of the server's transport, all of them
// (the schema requires the lists even when empty).
func (m mcpServer) MarshalJSON() ([]byte, error) {
	if m.Type == "" {
		return json.Marshal(struct {
			Name    string        `json:"name"`
			Command string        `json:"command"`
			Args    []string      `json:"args"`
			Env     []envVariable `json:"env"`
		}{m.Name, m.Command, nonNil(m.Args), nonNil(m.Env)})
	}
	return json.Marshal(struct {
		Type    string       `json:"type"`
		Name    string       `json:"name"`
		URL     string       `json:"url"`
		Headers []httpHeader `json:"headers"`
	}{m.Type, m.Name, m.URL, nonNil(m.Headers)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type envVariable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type httpHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type newSessionParams struct {
	Cwd        string      `json:"cwd"`
	McpServers []mcpServer `json:"mcpServers"`
}

type loadSessionParams struct {
	SessionID  string      `json:"sessionId"`
	Cwd        string      `json:"cwd"`
	McpServers []mcpServer `json:"mcpServers"`
}

type newSessionResult struct {
	SessionID     string         `json:"sessionId"`
	Modes         *modeState     `json:"modes"`
	ConfigOptions []configOption `json:"configOptions"`
}

type loadSessionResult struct {
	Modes         *modeState     `json:"modes"`
	ConfigOptions []configOption `json:"configOptions"`
}

type modeState struct {
	CurrentModeID  string        `json:"currentModeId"`
	AvailableModes []sessionMode `json:"availableModes"`
}

type sessionMode struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// configOption is a session configuration option (model, mode, ...).
// Options are a flat list or groups of lists.
type configOption struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Category     string          `json:"category"`
	Type         string          `json:"type"`
	CurrentValue json.RawMessage `json:"currentValue"`
	Options      json.RawMessage `json:"options"`
}

type configValue struct {
	Value       string `json:"value"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// values flattens the option's choices (grouped or not).
func (o configOption) values() []configValue {
	var flat []configValue
	if json.Unmarshal(o.Options, &flat) == nil && (len(flat) == 0 || flat[0].Value != "") {
		return flat
	}
	var groups []struct {
		Options []configValue `json:"options"`
	}
	_ = json.Unmarshal(o.Options, &groups)
	flat = nil
	for _, g := range groups {
		flat = append(flat, g.Options...)
	}
	return flat
}

type setModeParams struct {
	SessionID string `json:"sessionId"`
	ModeID    string `json:"modeId"`
}

type setConfigOptionParams struct {
	SessionID string `json:"sessionId"`
	ConfigID  string `json:"configId"`
	Value     string `json:"value"`
}

type promptParams struct {
	SessionID string         `json:"sessionId"`
	Prompt    []contentBlock `json:"prompt"`
}

// contentBlock is text, image, audio, resource_link or resource.
type contentBlock struct {
	Type     string          `json:"type"`
	Text     string          `json:"text,omitempty"`
	Data     string          `json:"data,omitempty"`
	MimeType string          `json:"mimeType,omitempty"`
	URI      string          `json:"uri,omitempty"`
	Name     string          `json:"name,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
}

type promptResult struct {
	StopReason string          `json:"stopReason"`
	Usage      json.RawMessage `json:"usage,omitempty"`
}

type cancelParams struct {
	SessionID string `json:"sessionId"`
}

type sessionNotification struct {
	SessionID string          `json:"sessionId"`
	Update    json.RawMessage `json:"update"`
}

// update is one session/update; which fields are set depends on its kind.
// Content is a content block for message chunks and a list of tool call
// contents for tool calls.
type update struct {
	SessionUpdate string          `json:"sessionUpdate"`
	Content       json.RawMessage `json:"content"`
	MessageID     string          `json:"messageId"`

	ToolCallID string             `json:"toolCallId"`
	Title      *string            `json:"title"`
	Kind       *string            `json:"kind"`
	Status     *string            `json:"status"`
	Locations  []toolCallLocation `json:"locations"`
	RawInput   json.RawMessage    `json:"rawInput"`
	RawOutput  json.RawMessage    `json:"rawOutput"`

	Entries           json.RawMessage `json:"entries"`
	AvailableCommands json.RawMessage `json:"availableCommands"`
	CurrentModeID     string          `json:"currentModeId"`
	ConfigOptions     json.RawMessage `json:"configOptions"`

	Used *float64   `json:"used"`
	Size *float64   `json:"size"`
	Cost *usageCost `json:"cost"`
}

type usageCost struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
}

type toolCallLocation struct {
	Path string `json:"path"`
	Line *int   `json:"line,omitempty"`
}

// toolCallContent is content, diff or terminal.
type toolCallContent struct {
	Type       string          `json:"type"`
	Content    json.RawMessage `json:"content"`
	Path       string          `json:"path"`
	OldText    *string         `json:"oldText"`
	NewText    string          `json:"newText"`
	TerminalID string          `json:"terminalId"`
}

type permissionParams struct {
	SessionID string             `json:"sessionId"`
	ToolCall  json.RawMessage    `json:"toolCall"`
	Options   []permissionOption `json:"options"`
}

type permissionOption struct {
	OptionID string `json:"optionId"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
}

type permissionResult struct {
	Outcome permissionOutcome `json:"outcome"`
}

type permissionOutcome struct {
	Outcome  string `json:"outcome"`
	OptionID string `json:"optionId,omitempty"`
}

type readTextFileParams struct {
	SessionID string `json:"sessionId"`
	Path      string `json:"path"`
	Line      *int   `json:"line"`
	Limit     *int   `json:"limit"`
}

type readTextFileResult struct {
	Content string `json:"content"`
}

type writeTextFileParams struct {
	SessionID string `json:"sessionId"`
	Path      string `json:"path"`
	Content   string `json:"content"`
}

type createTerminalParams struct {
	SessionID       string        `json:"sessionId"`
	Command         string        `json:"command"`
	Args            []string      `json:"args"`
	Env             []envVariable `json:"env"`
	Cwd             *string       `json:"cwd"`
	OutputByteLimit *int64        `json:"outputByteLimit"`
}

type createTerminalResult struct {
	TerminalID string `json:"terminalId"`
}

type terminalParams struct {
	SessionID  string `json:"sessionId"`
	TerminalID string `json:"terminalId"`
}

type terminalExitStatus struct {
	ExitCode *int    `json:"exitCode"`
	Signal   *string `json:"signal"`
}

type terminalOutputResult struct {
	Output     string              `json:"output"`
	Truncated  bool                `json:"truncated"`
	ExitStatus *terminalExitStatus `json:"exitStatus,omitempty"`
}

// empty is the result of methods that return nothing ({}).
type empty struct{}
