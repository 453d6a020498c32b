package server

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

type sessionPath struct {
	SessionID string `path:"session_id" maxLength:"128" pattern:"^[^\\x00-\\x1F\\x7F-\\x9F]+$" doc:"Client-chosen session id: 1 to 128 characters of UTF-8, no control characters."`
}

type createIn struct {
	SessionID string `path:"session_id" maxLength:"128" pattern:"^[^\\x00-\\x1F\\x7F-\\x9F]+$" doc:"Client-chosen session id: 1 to 128 characters of UTF-8, no control characters."`
	Body      schema.CreateSessionRequest
}
type createOut struct{ Body schema.CreateSessionResponse }
type sessionListOut struct{ Body schema.SessionListResponse }
type sessionOut struct{ Body schema.SessionInfo }
type messageIn struct {
	SessionID string `path:"session_id" maxLength:"128" pattern:"^[^\\x00-\\x1F\\x7F-\\x9F]+$" doc:"Client-chosen session id: 1 to 128 characters of UTF-8, no control characters."`
	Body      schema.MessageRequest
}

func (s *Server) registerSessions() {
	list := op("listSessions", http.MethodGet, "/v1/sessions", "List sessions, newest first", "sessions")
	list.Errors = []int{400}
	huma.Register(s.api, list,
		wrap(s, func(ctx context.Context, in *sessionListIn) (*sessionListOut, error) {
			res, err := pageSessions(s.cfg.Manager.List(), in)
			if err != nil {
				return nil, err
			}
			return &sessionListOut{Body: res}, nil
		}))

	create := op("createSession", http.MethodPost, "/v1/sessions/{session_id}", "Create a session with a client-chosen id", "sessions")
	create.Errors = []int{400, 404, 409, 500}
	huma.Register(s.api, create, wrap(s, func(ctx context.Context, in *createIn) (*createOut, error) {
		sess, err := s.cfg.Manager.Create(ctx, in.SessionID, in.Body)
		if err != nil {
			return nil, err
		}
		return &createOut{Body: schema.CreateSessionResponse{Healthy: true, NativeSessionID: sess.Info().NativeSessionID}}, nil
	}))

	get := op("getSession", http.MethodGet, "/v1/sessions/{session_id}", "Get one session", "sessions")
	get.Errors = []int{400, 404}
	huma.Register(s.api, get, wrap(s, func(ctx context.Context, in *sessionPath) (*sessionOut, error) {
		sess, err := s.cfg.Manager.Get(in.SessionID)
		if err != nil {
			return nil, err
		}
		return &sessionOut{Body: sess.Info()}, nil
	}))

	del := op("deleteSession", http.MethodDelete, "/v1/sessions/{session_id}", "Terminate a session and forget it and its events", "sessions")
	del.DefaultStatus = http.StatusNoContent
	del.Errors = []int{400, 404}
	huma.Register(s.api, del, wrap(s, func(ctx context.Context, in *sessionPath) (*struct{}, error) {
		return nil, s.cfg.Manager.Delete(ctx, in.SessionID)
	}))

	send := op("postMessage", http.MethodPost, "/v1/sessions/{session_id}/messages", "Send a message; the turn runs asynchronously", "sessions")
	send.DefaultStatus = http.StatusNoContent
	send.Errors = []int{400, 404, 500}
	huma.Register(s.api, send, wrap(s, func(ctx context.Context, in *messageIn) (*struct{}, error) {
		sess, err := s.cfg.Manager.Get(in.SessionID)
		if err != nil {
			return nil, err
		}
		return nil, sess.Send(context.WithoutCancel(ctx), agent.Prompt{Text: in.Body.Message, Attachments: in.Body.Attachments})
	}))

	term := op("terminateSession", http.MethodPost, "/v1/sessions/{session_id}/terminate", "Terminate a session: stop the turn and kill the agent's processes", "sessions")
	term.DefaultStatus = http.StatusNoContent
	term.Errors = []int{400, 404}
	huma.Register(s.api, term, wrap(s, func(ctx context.Context, in *sessionPath) (*struct{}, error) {
		sess, err := s.cfg.Manager.Get(in.SessionID)
		if err != nil {
			return nil, err
		}
		return nil, sess.Terminate(context.WithoutCancel(ctx))
	}))

	intr := op("interruptSession", http.MethodPost, "/v1/sessions/{session_id}/interrupt", "Stop the running turn and keep the session", "sessions")
	intr.DefaultStatus = http.StatusNoContent
	intr.Errors = []int{400, 404}
	huma.Register(s.api, intr, wrap(s, func(ctx context.Context, in *sessionPath) (*struct{}, error) {
		sess, err := s.cfg.Manager.Get(in.SessionID)
		if err != nil {
			return nil, err
		}
		return nil, sess.Interrupt(context.WithoutCancel(ctx))
	}))
}
