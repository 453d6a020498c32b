package server_test

import (
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// TestProblemEchoCapped (issue 8, bug 9): a huge offending value is quoted
// back only in part, with a marker, wherever it appears in the problem.
func TestProblemEchoCapped(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("s", schema.CreateSessionRequest{Agent: "mock"})
	huge := strings.Repeat("x", 200<<10)
	for name, req := range map[string]struct{ method, path, body, header string }{
		"agent (unsupported_agent)": {"POST", "/v1/sessions/t", `{"agent":"` + huge + `"}`, ""},
		"enum value (422)":          {"POST", "/v1/sessions/s/permissions/p/reply", `{"reply":"` + huge + `"}`, ""},
		"fs path":                   {"GET", "/v1/fs/stat?path=/nonexistent/" + huge, "", ""},
		"Last-Event-ID":             {"GET", "/v1/sessions/s/events/sse", "", huge[:60<<10]},
	} {
		var hdr []string
		if req.header != "" {
			hdr = []string{"Last-Event-ID", req.header}
		}
		st, h, body := raw(t, req.method, e.url+req.path, "application/json", req.body, hdr...)
		decodeProblem(t, st, h, body)
		if st < 400 || st >= 500 || len(body) > 4<<10 || !strings.Contains(body, "…[cut ") {
			t.Errorf("%s: %d, %d bytes: %.300s", name, st, len(body), body)
		}
	}
}
