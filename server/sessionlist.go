package server

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// sessionListIn are the paging and filters of GET /v1/sessions (our
// extension; without any, every session is listed as the reference does).
type sessionListIn struct {
	Agent  string `query:"agent" doc:"Only sessions of this agent."`
	Status string `query:"status" enum:"live,detached,ended" doc:"Only sessions in this state: live (its agent runs or can be sent to), detached (reloaded after a restart; the next message resumes it), ended."`
	Since  int64  `query:"since" minimum:"0" doc:"Only sessions updated at or after this time (Unix epoch milliseconds)."`
	Limit  int    `query:"limit" minimum:"0" maximum:"1000" doc:"Return at most this many sessions; nextCursor continues the list. 0 or absent: all."`
	Cursor string `query:"cursor" doc:"Continue a list after the page that returned this nextCursor."`
}

// sessionStatus is what the status filter compares.
func sessionStatus(s schema.SessionInfo) string {
	switch {
	case s.Ended:
		return "ended"
	case s.Detached:
		return "detached"
	}
	return "live"
}

// cursorOf is the opaque position after a session in the list's order
// (newest first: createdAt, then session id, both descending).
func cursorOf(s schema.SessionInfo) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(s.CreatedAt, 10) + "\x00" + s.SessionID))
}

func parseCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	created, id, ok := strings.Cut(string(b), "\x00")
	n, perr := strconv.ParseInt(created, 10, 64)
	if err != nil || !ok || perr != nil {
		return 0, "", problem.Invalid("invalid cursor: pass a nextCursor returned by this endpoint").With("field", "cursor")
	}
	return n, id, nil
}

// after reports whether s comes after the cursor position in list order.
func after(s schema.SessionInfo, created int64, id string) bool {
	return s.CreatedAt < created || (s.CreatedAt == created && s.SessionID < id)
}

// pageSessions filters and pages a list in list order.
func pageSessions(all []schema.SessionInfo, in *sessionListIn) (schema.SessionListResponse, error) {
	var created int64
	var id string
	if in.Cursor != "" {
		var err error
		if created, id, err = parseCursor(in.Cursor); err != nil {
			return schema.SessionListResponse{}, err
		}
	}
	out := make([]schema.SessionInfo, 0, len(all))
	for _, s := range all {
		switch {
		case in.Cursor != "" && !after(s, created, id):
		case in.Agent != "" && s.Agent != in.Agent:
		case in.Status != "" && sessionStatus(s) != in.Status:
		case in.Since > 0 && s.UpdatedAt < in.Since:
		default:
			out = append(out, s)
		}
	}
	res := schema.SessionListResponse{Sessions: out}
	if in.Limit > 0 && len(out) > in.Limit {
		res.Sessions = out[:in.Limit]
		res.NextCursor = schema.Ptr(cursorOf(out[in.Limit-1]))
	}
	return res, nil
}
