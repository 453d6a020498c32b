package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sandbox-agent/sandbox-agent/problem"
)

// Problem is an RFC 9457 problem document as the reference writes it: plain
// application/json, extension members flattened at the top level.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Agent     string         `json:"agent,omitempty"`
	SessionID string         `json:"sessionId,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

// Error implements error.
func (p *Problem) Error() string { return p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType keeps the reference's plain application/json.
func (p *Problem) ContentType(string) string { return "application/json" }

// problemFrom converts any error into a problem document. Errors without a
// kind are bugs: they become "internal" and are logged by the caller.
func problemFrom(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p.capped()
	}
	if pe, ok := problem.As(err); ok {
		return (&Problem{Type: pe.Kind.Type(), Title: pe.Kind.Title(), Status: pe.HTTPStatus(), Detail: pe.Detail,
			Agent: pe.Agent, SessionID: pe.SessionID, Details: pe.Details}).capped()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Problem{Type: problem.Timeout.Type(), Title: problem.Timeout.Title(), Status: http.StatusGatewayTimeout,
			Detail: "timeout", Details: map[string]any{"message": err.Error()}}
	}
	return (&Problem{Type: problem.Internal.Type(), Title: problem.Internal.Title(), Status: http.StatusInternalServerError,
		Detail: "internal error: " + err.Error()}).capped()
}

// humaError replaces huma.NewError so that huma's own failures (bad JSON,
// failed validation, wrong content type, oversized bodies) are problem
// documents of our kinds that name the offending field.
func humaError(status int, msg string, errs ...error) huma.StatusError {
	kind := problem.InvalidRequest
	switch {
	case status == http.StatusUnauthorized:
		kind = problem.TokenInvalid
	case status == http.StatusNotFound:
		kind = problem.NotFound
	case status == http.StatusRequestEntityTooLarge:
		kind = problem.PayloadTooLarge
	case status >= 500:
		kind = problem.Internal
	}
	var list []map[string]any
	var parts []string
	field := ""
	for _, e := range errs {
		if e == nil {
			continue
		}
		var ed *huma.ErrorDetail
		if errors.As(e, &ed) {
			item := map[string]any{"message": ed.Message}
			if ed.Location != "" {
				item["location"] = ed.Location
				if field == "" {
					field = ed.Location
				}
				parts = append(parts, ed.Location+": "+ed.Message)
				if strings.HasPrefix(ed.Location, "query.") || strings.HasPrefix(ed.Location, "path.") {
					status = http.StatusBadRequest
				}
			} else {
				parts = append(parts, ed.Message)
			}
			if ed.Value != nil {
				item["value"] = ed.Value
			}
			list = append(list, item)
			continue
		}
		parts = append(parts, e.Error())
		list = append(list, map[string]any{"message": e.Error()})
	}
	detail := msg
	if len(parts) > 0 {
		detail = msg + ": " + strings.Join(parts, "; ")
	}
	if kind == problem.InvalidRequest {
		detail = "invalid request: " + detail
	}
	p := &Problem{Type: kind.Type(), Title: kind.Title(), Status: status, Detail: detail}
	if len(list) > 0 || field != "" {
		p.Details = map[string]any{}
		if len(list) > 0 {
			p.Details["errors"] = list
		}
		if field != "" {
			p.Details["field"] = field
		}
	}
	return p.capped()
}

// writeProblem writes a problem document outside huma (middleware, fallbacks).
func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p.capped())
}
