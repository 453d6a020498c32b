package server

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

type questionPath struct {
	SessionID  string `path:"session_id" maxLength:"128" pattern:"^[^\\x00-\\x1F\\x7F-\\x9F]+$" doc:"Client-chosen session id: 1 to 128 characters of UTF-8, no control characters."`
	QuestionID string `path:"question_id"`
}
type questionReplyIn struct {
	SessionID  string `path:"session_id" maxLength:"128" pattern:"^[^\\x00-\\x1F\\x7F-\\x9F]+$" doc:"Client-chosen session id: 1 to 128 characters of UTF-8, no control characters."`
	QuestionID string `path:"question_id"`
	Body       schema.QuestionReplyRequest
}
type permissionReplyIn struct {
	SessionID    string `path:"session_id" maxLength:"128" pattern:"^[^\\x00-\\x1F\\x7F-\\x9F]+$" doc:"Client-chosen session id: 1 to 128 characters of UTF-8, no control characters."`
	PermissionID string `path:"permission_id"`
	Body         schema.PermissionReplyRequest
}

func (s *Server) registerHITL() {
	reply := op("replyQuestion", http.MethodPost, "/v1/sessions/{session_id}/questions/{question_id}/reply", "Answer a pending question", "human-in-the-loop")
	reply.DefaultStatus = http.StatusNoContent
	reply.Errors = []int{400, 404}
	huma.Register(s.api, reply, wrap(s, func(ctx context.Context, in *questionReplyIn) (*struct{}, error) {
		sess, err := s.cfg.Manager.Get(in.SessionID)
		if err != nil {
			return nil, err
		}
		answers := in.Body.Answers
		if answers == nil {
			answers = [][]string{}
		}
		return nil, sess.ReplyQuestion(context.WithoutCancel(ctx), in.QuestionID, answers, false)
	}))

	reject := op("rejectQuestion", http.MethodPost, "/v1/sessions/{session_id}/questions/{question_id}/reject", "Reject a pending question", "human-in-the-loop")
	reject.DefaultStatus = http.StatusNoContent
	reject.Errors = []int{400, 404}
	huma.Register(s.api, reject, wrap(s, func(ctx context.Context, in *questionPath) (*struct{}, error) {
		sess, err := s.cfg.Manager.Get(in.SessionID)
		if err != nil {
			return nil, err
		}
		return nil, sess.ReplyQuestion(context.WithoutCancel(ctx), in.QuestionID, nil, true)
	}))

	perm := op("replyPermission", http.MethodPost, "/v1/sessions/{session_id}/permissions/{permission_id}/reply", "Answer a pending permission request", "human-in-the-loop")
	perm.DefaultStatus = http.StatusNoContent
	perm.Errors = []int{400, 404}
	huma.Register(s.api, perm, wrap(s, func(ctx context.Context, in *permissionReplyIn) (*struct{}, error) {
		sess, err := s.cfg.Manager.Get(in.SessionID)
		if err != nil {
			return nil, err
		}
		return nil, sess.ReplyPermission(context.WithoutCancel(ctx), in.PermissionID, in.Body.Reply)
	}))
}
