// Package problem is the one error type of sandbox-agent: an error carrying a
// kind. The HTTP layer turns a kind into a status code and an RFC 9457
// problem document whose type is urn:sandbox-agent:error:<kind>.
package problem

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Kind names a class of error; it is the suffix of the problem type URN.
type Kind string

// The kinds of the reference API, plus those we added.
const (
	InvalidRequest       Kind = "invalid_request"
	UnsupportedAgent     Kind = "unsupported_agent"
	AgentNotInstalled    Kind = "agent_not_installed"
	InstallFailed        Kind = "install_failed"
	AgentProcessExited   Kind = "agent_process_exited"
	TokenInvalid         Kind = "token_invalid"
	PermissionDenied     Kind = "permission_denied"
	SessionNotFound      Kind = "session_not_found"
	SessionAlreadyExists Kind = "session_already_exists"
	ModeNotSupported     Kind = "mode_not_supported"
	StreamError          Kind = "stream_error"
	Timeout              Kind = "timeout"
	// NotFound is a path or resource other than a session that does not exist.
	NotFound Kind = "not_found"
	// PayloadTooLarge is an upload over the configured limit.
	PayloadTooLarge Kind = "payload_too_large"
	// Internal is a bug: it should never be seen.
	Internal Kind = "internal"
)

// Kinds lists every kind, in the order of the reference plus our additions.
var Kinds = []Kind{
	InvalidRequest, UnsupportedAgent, AgentNotInstalled, InstallFailed, AgentProcessExited,
	TokenInvalid, PermissionDenied, SessionNotFound, SessionAlreadyExists, ModeNotSupported,
	StreamError, Timeout, NotFound, PayloadTooLarge, Internal,
}

var statuses = map[Kind]int{
	InvalidRequest:       http.StatusBadRequest,
	UnsupportedAgent:     http.StatusBadRequest,
	AgentNotInstalled:    http.StatusNotFound,
	InstallFailed:        http.StatusInternalServerError,
	AgentProcessExited:   http.StatusInternalServerError,
	TokenInvalid:         http.StatusUnauthorized,
	PermissionDenied:     http.StatusForbidden,
	SessionNotFound:      http.StatusNotFound,
	SessionAlreadyExists: http.StatusConflict,
	ModeNotSupported:     http.StatusBadRequest,
	StreamError:          http.StatusBadGateway,
	Timeout:              http.StatusGatewayTimeout,
	NotFound:             http.StatusNotFound,
	PayloadTooLarge:      http.StatusRequestEntityTooLarge,
	Internal:             http.StatusInternalServerError,
}

// Status is the HTTP status of a kind.
func (k Kind) Status() int {
	if s, ok := statuses[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Title is the human title of a kind ("Session Not Found").
func (k Kind) Title() string {
	words := strings.Split(string(k), "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// Type is the problem type URN of a kind.
func (k Kind) Type() string { return "urn:sandbox-agent:error:" + string(k) }

// Error is an error with a kind and the problem document's extensions.
type Error struct {
	Kind Kind
	// Detail is the whole human-readable text ("session not found: s1").
	Detail    string
	Agent     string
	SessionID string
	Details   map[string]any
	// Status overrides the kind's status when non-zero (e.g. 422, 415).
	Status int
	Err    error
}

func (e *Error) Error() string { return e.Detail }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus is the status the error is served with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Kind.Status()
}

// New returns an error of kind with a formatted detail.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// With sets a details entry and returns e.
func (e *Error) With(key string, v any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = v
	return e
}

// As finds an *Error in err's chain.
func As(err error) (*Error, bool) {
	var pe *Error
	if errors.As(err, &pe) {
		return pe, true
	}
	return nil, false
}

// Invalid is an invalid_request error: "invalid request: <msg>".
func Invalid(format string, args ...any) *Error {
	return New(InvalidRequest, "invalid request: "+format, args...)
}

// InstallFailure is install_failed for an agent, with the cause as
// details.stderr (the reference's shape). A cause that already is a problem
// is returned as is.
func InstallFailure(agentID string, cause error) *Error {
	if pe, ok := As(cause); ok {
		return pe
	}
	e := New(InstallFailed, "install failed: %s", agentID).With("stderr", cause.Error())
	e.Agent, e.Err = agentID, cause
	return e
}

// SessionMissing is session_not_found for id.
func SessionMissing(id string) *Error {
	e := New(SessionNotFound, "session not found: %s", id)
	e.SessionID = id
	return e
}

// Unsupported is unsupported_agent for id.
func Unsupported(id string) *Error {
	e := New(UnsupportedAgent, "unsupported agent: %s", id)
	e.Agent = id
	return e
}
