package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Health calls GET /v1/health.
func (c *Client) Health(ctx context.Context) (schema.HealthResponse, error) {
	var out schema.HealthResponse
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/health"}, &out)
	return out, err
}

// Agents lists the agents.
func (c *Client) Agents(ctx context.Context) ([]schema.AgentInfo, error) {
	var out schema.AgentListResponse
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/agents"}, &out)
	return out.Agents, err
}

// InstallAgent installs (or reinstalls) an agent.
func (c *Client) InstallAgent(ctx context.Context, agentID string, req schema.AgentInstallRequest) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/v1/agents/" + seg(agentID) + "/install", body: req}, nil)
}

// AgentModes lists an agent's modes.
func (c *Client) AgentModes(ctx context.Context, agentID string) ([]schema.AgentModeInfo, error) {
	var out schema.AgentModesResponse
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/agents/" + seg(agentID) + "/modes"}, &out)
	return out.Modes, err
}

// AgentModels lists an agent's models.
func (c *Client) AgentModels(ctx context.Context, agentID string) (schema.AgentModelsResponse, error) {
	var out schema.AgentModelsResponse
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/agents/" + seg(agentID) + "/models"}, &out)
	return out, err
}

// Sessions lists sessions, newest first.
func (c *Client) Sessions(ctx context.Context) ([]schema.SessionInfo, error) {
	var out schema.SessionListResponse
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/sessions"}, &out)
	return out.Sessions, err
}

// SessionsQuery pages and filters a session list (zero values: all).
type SessionsQuery struct {
	Agent string
	// Status is live, detached or ended.
	Status string
	// Since keeps sessions updated at or after this time (Unix ms).
	Since  int64
	Limit  int
	Cursor string
}

// SessionsPage lists one page of sessions; NextCursor continues it.
func (c *Client) SessionsPage(ctx context.Context, q SessionsQuery) (schema.SessionListResponse, error) {
	v := url.Values{}
	for k, val := range map[string]string{"agent": q.Agent, "status": q.Status, "cursor": q.Cursor} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if q.Since > 0 {
		v.Set("since", strconv.FormatInt(q.Since, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out schema.SessionListResponse
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/sessions", query: v}, &out)
	return out, err
}

// CreateSession creates a session with the given id.
func (c *Client) CreateSession(ctx context.Context, id string, req schema.CreateSessionRequest) (schema.CreateSessionResponse, error) {
	var out schema.CreateSessionResponse
	err := c.do(ctx, request{method: http.MethodPost, path: "/v1/sessions/" + seg(id), body: req}, &out)
	return out, err
}

// Session returns one session.
func (c *Client) Session(ctx context.Context, id string) (schema.SessionInfo, error) {
	var out schema.SessionInfo
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/sessions/" + seg(id)}, &out)
	return out, err
}

// DeleteSession terminates a session and forgets it.
func (c *Client) DeleteSession(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/sessions/" + seg(id)}, nil)
}

// SendMessage sends a message; the turn runs asynchronously.
func (c *Client) SendMessage(ctx context.Context, id string, req schema.MessageRequest) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/v1/sessions/" + seg(id) + "/messages", body: req}, nil)
}

// Terminate ends a session and kills its agent processes.
func (c *Client) Terminate(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/v1/sessions/" + seg(id) + "/terminate"}, nil)
}

// Interrupt stops the running turn and keeps the session.
func (c *Client) Interrupt(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/v1/sessions/" + seg(id) + "/interrupt"}, nil)
}

// EventsQuery selects a page of events.
type EventsQuery struct {
	// Offset returns events with sequence > Offset.
	Offset uint64
	// Limit caps the page when non-nil.
	Limit      *uint64
	IncludeRaw bool
}

func (q EventsQuery) values() url.Values {
	v := url.Values{}
	if q.Offset > 0 {
		v.Set("offset", strconv.FormatUint(q.Offset, 10))
	}
	if q.Limit != nil {
		v.Set("limit", strconv.FormatUint(*q.Limit, 10))
	}
	if q.IncludeRaw {
		v.Set("include_raw", "true")
	}
	return v
}

// Events returns a page of a session's events.
func (c *Client) Events(ctx context.Context, id string, q EventsQuery) (schema.EventsResponse, error) {
	var out schema.EventsResponse
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/sessions/" + seg(id) + "/events", query: q.values()}, &out)
	return out, err
}

// ReplyQuestion answers a question.
func (c *Client) ReplyQuestion(ctx context.Context, sessionID, questionID string, answers [][]string) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/v1/sessions/" + seg(sessionID) + "/questions/" + seg(questionID) + "/reply",
		body: schema.QuestionReplyRequest{Answers: answers}}, nil)
}

// RejectQuestion rejects a question.
func (c *Client) RejectQuestion(ctx context.Context, sessionID, questionID string) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/v1/sessions/" + seg(sessionID) + "/questions/" + seg(questionID) + "/reject"}, nil)
}

// ReplyPermission answers a permission request with once, always or reject.
func (c *Client) ReplyPermission(ctx context.Context, sessionID, permissionID string, reply schema.PermissionReply) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/v1/sessions/" + seg(sessionID) + "/permissions/" + seg(permissionID) + "/reply",
		body: schema.PermissionReplyRequest{Reply: reply}}, nil)
}
