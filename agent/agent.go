// Package agent is the contract between the session layer and one kind of
// coding agent. An Adapter knows how to find, describe and start its agent;
// a Conn is the native side of one of our sessions. Events leave an adapter
// only through its Sink, as Drafts: the session stamps them (sequence, ids,
// time), fills the gaps the schema promises and stores them, once, for every
// agent. Adapters know nothing of HTTP.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Info describes an agent kind.
type Info struct {
	ID           string
	Name         string
	Capabilities schema.AgentCapabilities
	// NativeTurns is true when the agent itself reports turn.started (with
	// its own turn id); otherwise the session emits turn.started when a
	// message is sent. turn.ended always comes from the adapter.
	NativeTurns bool
	// CredentialProviders lists the credential slots the agent can use
	// ("anthropic", "openai"); credentialsAvailable is true when any is set,
	// unless the adapter is a CredentialChecker.
	CredentialProviders []string
	// PermissionModes lists the permission modes the agent supports (default,
	// plan, bypass, acceptEdits). An unsupported acceptEdits falls back to
	// default; any other unsupported mode is refused with mode_not_supported.
	PermissionModes []string
}

// FullCapabilities is every capability of the schema, as a full adapter
// (claude, codex, opencode) has them; shared says whether one agent process
// serves all sessions.
func FullCapabilities(shared bool) schema.AgentCapabilities {
	return schema.AgentCapabilities{
		PlanMode: true, Permissions: true, Questions: true,
		ToolCalls: true, ToolResults: true, TextMessages: true,
		Images: true, FileAttachments: true, SessionLifecycle: true,
		ErrorEvents: true, Reasoning: true, Status: true,
		CommandExecution: true, FileChanges: true, McpTools: true,
		StreamingDeltas: true, ItemStarted: true, SharedProcess: shared,
	}
}

// AllPermissionModes is default, plan, bypass and acceptEdits: the modes an
// agent supports when it can ask, plan, skip asking and accept edits alone.
func AllPermissionModes() []string {
	return []string{schema.PermissionModeDefault, schema.PermissionModePlan,
		schema.PermissionModeBypass, schema.PermissionModeAcceptEdits}
}

// InstallStatus says whether and where an agent's binary is available.
type InstallStatus struct {
	Installed bool
	Version   string
	Path      string
	// Server is set for agents that share one process across sessions.
	Server *schema.ServerStatusInfo
}

// Mode is an agent mode (build, plan, ...).
type Mode = schema.AgentModeInfo

// ModelList is an agent's models and default.
type ModelList = schema.AgentModelsResponse

// Spec is what an adapter needs to open a session.
type Spec struct {
	SessionID      string
	AgentMode      string
	PermissionMode string
	Model          string
	Variant        string
	// Dir is the agent's working directory (absolute).
	Dir string
	// Env is added to the agent process's environment (KEY=VALUE).
	Env []string
	// NativeSessionID resumes an earlier native session when set.
	NativeSessionID string
	MCP             map[string]schema.McpServerConfig
}

// Prompt is one user message.
type Prompt struct {
	Text        string
	Attachments []schema.MessageAttachment
}

// ReplyKind says what a Reply answers.
type ReplyKind int

// Reply kinds.
const (
	ReplyPermission ReplyKind = iota + 1
	ReplyQuestion
)

// Reply answers a pending permission request or question, by its native id.
type Reply struct {
	Kind ReplyKind
	ID   string
	// Permission is set for permission replies.
	Permission schema.PermissionReply
	// Answers is set for answered questions; Reject for rejected ones.
	Answers [][]string
	Reject  bool
	// Permission and Question carry the request being answered.
	PermissionRequest *schema.PermissionEventData
	QuestionRequest   *schema.QuestionEventData
}

// CredentialChecker is implemented by an adapter whose credential is not
// one of the shared provider slots (Amp's own access token): GET /v1/agents
// reports credentialsAvailable from it instead of CredentialProviders.
type CredentialChecker interface {
	CredentialsAvailable() bool
}

// Adapter is one agent kind, registered at start-up.
type Adapter interface {
	Info() Info
	Status(ctx context.Context) (InstallStatus, error)
	Modes(ctx context.Context) ([]Mode, error)
	Models(ctx context.Context) (ModelList, error)
	// Open starts the native side of a session. It may emit drafts before it
	// returns; the session holds them until its own session.started is out.
	Open(ctx context.Context, spec Spec, sink Sink) (Conn, error)
}

// Conn is the native side of one session.
//
// Lifecycle contract (the session package relies on it; see its doc):
//   - The session calls Send one at a time and (unless Info.NativeTurns)
//     has already recorded the turn's turn.started (or queued it) when Send
//     runs. A Send that returns an error must not have started a turn in
//     the agent: the session records the error and closes or unqueues that
//     turn itself.
//   - Open that fails leaves no process behind; an agent that does not come
//     up within a bounded start timeout is a failed Open (with its stderr
//     in the error).
//   - Interrupt with no turn running in the agent is a no-op returning nil;
//     an Interrupt that arrives while Send is still delivering the message
//     is re-issued by the session once Send returned. An interrupted turn
//     should end with the agent's turn.ended; if the adapter returns without
//     one, the session ends the turn, and the adapter must not emit that
//     turn's turn.ended later (the agent's late end would close the next
//     turn; the Codex adapter drops it as abandoned). What the agent still
//     says of it is dropped by the session until the next turn starts.
//   - No write to an agent (stdin, socket) may block Interrupt or Close:
//     Close must return in bounded time (seconds) even when the agent stopped
//     reading, and kill what does not exit; Interrupt must give up on a
//     stuck write (killing the process if need be).
//   - After Close returned, no process of the session survives and Emit is
//     no longer called (drafts emitted while closing are dropped anyway).
type Conn interface {
	// Send starts a turn; it returns once the agent accepted the message.
	Send(ctx context.Context, p Prompt) error
	// Answer forwards a permission or question reply to the agent.
	Answer(ctx context.Context, r Reply) error
	// Interrupt stops the running turn and keeps the session.
	Interrupt(ctx context.Context) error
	// Close ends the session; no process of it survives. It is called once
	// and is bounded in time.
	Close(ctx context.Context) error
}

// Reissuer is implemented by a Conn that can take over permission and
// question requests a previous process of its session left pending: the
// server restarted (or crashed) while a human was being asked, and the
// session was reopened with Spec.NativeSessionID. The session calls
// Reissue once, right after that Open and before any Send, with the
// requests still pending in its log; it returns the ids the agent takes
// over. Those stay pending and their replies reach Answer as usual; the
// others are resolved by the session as rejected, with an "expired"
// reason, and the turn they were asked in is closed. A Conn that is not a
// Reissuer takes over none (the real agents do not re-ask a request of a
// process that died).
type Reissuer interface {
	Reissue(ctx context.Context, pending []Reply) []string
}

// Sink receives an adapter's events. Emit never blocks on a client.
//
// Human-in-the-loop: permission.requested and question.requested drafts
// become pending in the session, which validates replies and emits the
// resolved events after Conn.Answer succeeds. An adapter emits a resolved
// draft itself only when the agent settled a request on its own (withdrew
// it, timed it out); requests still pending when a turn ends are resolved
// as rejected by the session.
type Sink interface {
	Emit(d Draft)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Draft)

// Emit calls f(d).
func (f SinkFunc) Emit(d Draft) { f(d) }

// Draft is an event without identity. Items and deltas refer to items by
// their native ids (Item.NativeItemID, Item.ParentID as a native id,
// ItemDeltaData.NativeItemID); the session maps them to stable item ids.
type Draft struct {
	Type      schema.EventType
	Data      schema.EventData
	Raw       json.RawMessage
	Synthetic bool
	// NativeSessionID is adopted by the session when it has none yet.
	NativeSessionID string
}

// Error kinds an adapter may return; the server maps them to problem types.
var (
	ErrNotInstalled    = errors.New("agent not installed")
	ErrModeUnsupported = errors.New("mode not supported")
	ErrInvalidRequest  = errors.New("invalid request")
	ErrStream          = errors.New("stream error")
	ErrProcessExited   = errors.New("agent process exited")
)

// Errorf wraps kind with a message: errors.Is(err, kind) holds.
func Errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }
