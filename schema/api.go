package schema

import "encoding/json"

// HTTP bodies of the /v1 API (camelCase). Nullable-but-always-present keys
// have no omitempty; keys the reference omits when unset have omitempty.

// HealthResponse is the body of GET /v1/health.
type HealthResponse struct {
	Status string `json:"status" example:"ok"`
}

// AgentCapabilities says which parts of the universal schema an agent can
// produce. All keys are always present.
type AgentCapabilities struct {
	PlanMode         bool `json:"planMode"`
	Permissions      bool `json:"permissions"`
	Questions        bool `json:"questions"`
	ToolCalls        bool `json:"toolCalls"`
	ToolResults      bool `json:"toolResults"`
	TextMessages     bool `json:"textMessages"`
	Images           bool `json:"images"`
	FileAttachments  bool `json:"fileAttachments"`
	SessionLifecycle bool `json:"sessionLifecycle"`
	ErrorEvents      bool `json:"errorEvents"`
	Reasoning        bool `json:"reasoning"`
	Status           bool `json:"status"`
	CommandExecution bool `json:"commandExecution"`
	FileChanges      bool `json:"fileChanges"`
	McpTools         bool `json:"mcpTools"`
	StreamingDeltas  bool `json:"streamingDeltas"`
	ItemStarted      bool `json:"itemStarted"`
	SharedProcess    bool `json:"sharedProcess"`
}

// ServerStatus is the state of a shared agent server process.
type ServerStatus string

// Shared server states.
const (
	ServerRunning ServerStatus = "running"
	ServerStopped ServerStatus = "stopped"
	ServerError   ServerStatus = "error"
)

// ServerStatusInfo describes a shared agent server process.
type ServerStatusInfo struct {
	Status       ServerStatus `json:"status" enum:"running,stopped,error"`
	BaseURL      *string      `json:"baseUrl,omitempty"`
	UptimeMs     *uint64      `json:"uptimeMs,omitempty"`
	RestartCount uint64       `json:"restartCount"`
	LastError    *string      `json:"lastError,omitempty"`
}

// AgentInfo is one entry of GET /v1/agents.
type AgentInfo struct {
	ID                   string            `json:"id"`
	Installed            bool              `json:"installed"`
	CredentialsAvailable bool              `json:"credentialsAvailable"`
	Version              *string           `json:"version,omitempty"`
	Path                 *string           `json:"path,omitempty"`
	Capabilities         AgentCapabilities `json:"capabilities"`
	ServerStatus         *ServerStatusInfo `json:"serverStatus,omitempty"`
}

// AgentListResponse is the body of GET /v1/agents.
type AgentListResponse struct {
	Agents []AgentInfo `json:"agents"`
}

// AgentInstallRequest is the body of POST /v1/agents/{agent}/install.
type AgentInstallRequest struct {
	_            struct{} `additionalProperties:"true"` // unknown fields are ignored, as the reference does
	Reinstall    *bool    `json:"reinstall,omitempty" nullable:"true"`
	AgentVersion *string  `json:"agentVersion,omitempty" nullable:"true" doc:"Version to install; the newest when absent."`
}

// AgentModeInfo describes one agent mode.
type AgentModeInfo struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// AgentModesResponse is the body of GET /v1/agents/{agent}/modes.
type AgentModesResponse struct {
	Modes []AgentModeInfo `json:"modes"`
}

// AgentModelInfo describes one model.
type AgentModelInfo struct {
	ID             string   `json:"id"`
	Name           *string  `json:"name,omitempty"`
	Variants       []string `json:"variants,omitempty"`
	DefaultVariant *string  `json:"defaultVariant,omitempty"`
}

// AgentModelsResponse is the body of GET /v1/agents/{agent}/models.
type AgentModelsResponse struct {
	Models       []AgentModelInfo `json:"models"`
	DefaultModel *string          `json:"defaultModel,omitempty"`
}

// Permission modes accepted on session creation.
const (
	PermissionModeDefault     = "default"
	PermissionModePlan        = "plan"
	PermissionModeBypass      = "bypass"
	PermissionModeAcceptEdits = "acceptEdits"
)

// CreateSessionRequest is the body of POST /v1/sessions/{id}.
type CreateSessionRequest struct {
	_              struct{}                   `additionalProperties:"true"` // unknown fields are ignored, as the reference does
	Agent          string                     `json:"agent" doc:"Agent id: claude, codex, opencode, amp, an ACP agent (opencode-acp, gemini, codex-acp, claude-acp) or mock."`
	AgentMode      *string                    `json:"agentMode,omitempty" nullable:"true"`
	PermissionMode *string                    `json:"permissionMode,omitempty" nullable:"true" doc:"default, plan, bypass or acceptEdits."`
	Model          *string                    `json:"model,omitempty" nullable:"true"`
	Variant        *string                    `json:"variant,omitempty" nullable:"true"`
	AgentVersion   *string                    `json:"agentVersion,omitempty" nullable:"true"`
	Directory      *string                    `json:"directory,omitempty" nullable:"true" doc:"Working directory of the agent; the server's when absent."`
	Title          *string                    `json:"title,omitempty" nullable:"true"`
	MCP            map[string]McpServerConfig `json:"mcp,omitempty"`
	Skills         *SkillsConfig              `json:"skills,omitempty"`
}

// AgentError is the error object of CreateSessionResponse (snake_case).
type AgentError struct {
	Type      string `json:"type"`
	Message   string `json:"message"`
	Agent     string `json:"agent,omitempty"`
	SessionID string `json:"session_id,omitempty"`
	Details   any    `json:"details,omitempty"`
}

// CreateSessionResponse is the body of a successful session creation.
type CreateSessionResponse struct {
	Healthy         bool        `json:"healthy"`
	Error           *AgentError `json:"error,omitempty"`
	NativeSessionID *string     `json:"nativeSessionId,omitempty"`
}

// SessionInfo describes a session. model, variant, nativeSessionId,
// directory and title are always present (null when unset).
type SessionInfo struct {
	SessionID       string                     `json:"sessionId"`
	Agent           string                     `json:"agent"`
	AgentMode       string                     `json:"agentMode"`
	PermissionMode  string                     `json:"permissionMode"`
	Model           *string                    `json:"model"`
	Variant         *string                    `json:"variant"`
	NativeSessionID *string                    `json:"nativeSessionId"`
	Ended           bool                       `json:"ended"`
	EventCount      uint64                     `json:"eventCount"`
	CreatedAt       int64                      `json:"createdAt" doc:"Unix epoch milliseconds."`
	UpdatedAt       int64                      `json:"updatedAt" doc:"Unix epoch milliseconds."`
	Directory       *string                    `json:"directory"`
	Title           *string                    `json:"title"`
	MCP             map[string]McpServerConfig `json:"mcp,omitempty"`
	Skills          *SkillsConfig              `json:"skills,omitempty"`
	// AgentMetadata is our extension: what the agent reported about itself
	// when its native session started (model, tools, modes, version ...).
	AgentMetadata json.RawMessage `json:"agentMetadata,omitempty"`
	// Detached is our extension: the session was reloaded from the store
	// after a server restart and its agent process is gone. Its events are
	// readable and streamable; the next message (or reply) resumes it.
	Detached bool `json:"detached,omitempty"`
}

// SessionListResponse is the body of GET /v1/sessions.
type SessionListResponse struct {
	Sessions []SessionInfo `json:"sessions"`
	// NextCursor is our extension: set when a limit cut the list; pass it
	// as cursor to get the next page.
	NextCursor *string `json:"nextCursor,omitempty"`
}

// MessageAttachment names a file sent along with a message.
type MessageAttachment struct {
	_        struct{} `additionalProperties:"true"` // unknown fields are ignored, as the reference does
	Path     string   `json:"path"`
	MIME     *string  `json:"mime,omitempty" nullable:"true"`
	Filename *string  `json:"filename,omitempty" nullable:"true"`
}

// MessageRequest is the body of POST /v1/sessions/{id}/messages.
type MessageRequest struct {
	_           struct{}            `additionalProperties:"true"` // unknown fields are ignored, as the reference does
	Message     string              `json:"message"`
	Attachments []MessageAttachment `json:"attachments,omitempty"`
}

// EventsResponse is the body of GET /v1/sessions/{id}/events.
type EventsResponse struct {
	Events  []Event `json:"events"`
	HasMore bool    `json:"hasMore"`
}

// QuestionReplyRequest answers a question: one list of selected labels per
// question.
type QuestionReplyRequest struct {
	_       struct{}   `additionalProperties:"true"` // unknown fields are ignored, as the reference does
	Answers [][]string `json:"answers"`
}

// PermissionReply is the answer to a permission request.
type PermissionReply string

// Permission replies.
const (
	ReplyOnce   PermissionReply = "once"
	ReplyAlways PermissionReply = "always"
	ReplyReject PermissionReply = "reject"
)

// PermissionReplyRequest is the body of a permission reply.
type PermissionReplyRequest struct {
	_     struct{}        `additionalProperties:"true"` // unknown fields are ignored, as the reference does
	Reply PermissionReply `json:"reply" enum:"once,always,reject"`
}

// FsEntryType is file or directory.
type FsEntryType string

// File system entry types.
const (
	EntryFile      FsEntryType = "file"
	EntryDirectory FsEntryType = "directory"
)

// FsEntry is one directory entry.
type FsEntry struct {
	Name      string      `json:"name"`
	Path      string      `json:"path"`
	EntryType FsEntryType `json:"entryType" enum:"file,directory"`
	Size      uint64      `json:"size"`
	Modified  *string     `json:"modified,omitempty"`
}

// FsStat describes one path.
type FsStat struct {
	Path      string      `json:"path"`
	EntryType FsEntryType `json:"entryType" enum:"file,directory"`
	Size      uint64      `json:"size"`
	Modified  *string     `json:"modified,omitempty"`
}

// FsWriteResponse is the body of PUT /v1/fs/file.
type FsWriteResponse struct {
	Path         string `json:"path"`
	BytesWritten uint64 `json:"bytesWritten"`
}

// FsActionResponse names the path an action applied to.
type FsActionResponse struct {
	Path string `json:"path"`
}

// FsMoveRequest is the body of POST /v1/fs/move.
type FsMoveRequest struct {
	_         struct{} `additionalProperties:"true"` // unknown fields are ignored, as the reference does
	From      string   `json:"from"`
	To        string   `json:"to"`
	Overwrite *bool    `json:"overwrite,omitempty" nullable:"true"`
}

// FsMoveResponse is the body of a successful move.
type FsMoveResponse struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// FsUploadBatchResponse lists the first 1024 extracted paths.
type FsUploadBatchResponse struct {
	Paths     []string `json:"paths"`
	Truncated bool     `json:"truncated"`
}

// SkillSource is where skills come from.
type SkillSource struct {
	_       struct{} `additionalProperties:"true"` // unknown fields are ignored, as the reference does
	Type    string   `json:"type" doc:"github, git or local"`
	Source  string   `json:"source"`
	Skills  []string `json:"skills,omitempty"`
	Ref     *string  `json:"ref,omitempty" nullable:"true"`
	Subpath *string  `json:"subpath,omitempty" nullable:"true"`
}

// SkillsConfig lists skill sources.
type SkillsConfig struct {
	_       struct{}      `additionalProperties:"true"` // unknown fields are ignored, as the reference does
	Sources []SkillSource `json:"sources"`
}
