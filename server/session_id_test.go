package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// TestSessionIDRefused (issue 8, bug 8): ids that are not valid UTF-8, hold
// control characters or exceed the documented length are refused on every
// route with a 400 naming session_id, so no session can exist that could
// never be addressed again. Good ids, Unicode included, still work.
func TestSessionIDRefused(t *testing.T) {
	e := startAPI(t, apiOpts{})
	bad := map[string]string{
		"not UTF-8":       "%FF%FEab",
		"NUL":             "a%00b",
		"newline":         "a%0Ab",
		"DEL":             "a%7Fb",
		"C1 control":      "a%C2%85b",
		"129 characters":  strings.Repeat("é", 129),
		"129 ASCII bytes": strings.Repeat("x", 129),
	}
	routes := []struct{ method, suffix, body string }{
		{"POST", "", `{"agent":"mock"}`},
		{"GET", "", ""},
		{"DELETE", "", ""},
		{"POST", "/messages", `{"message":"hi"}`},
		{"GET", "/events", ""},
		{"POST", "/permissions/p/reply", `{"reply":"once"}`},
	}
	for name, id := range bad {
		for _, r := range routes {
			st, h, body := raw(t, r.method, e.url+"/v1/sessions/"+id+r.suffix, "application/json", r.body)
			p := decodeProblem(t, st, h, body)
			if st != http.StatusBadRequest || p.Type != "urn:sandbox-agent:error:invalid_request" || p.Details["field"] != "session_id" {
				t.Errorf("%s, %s %s: %d %s", name, r.method, r.suffix, st, body)
			}
		}
	}
	list, err := e.c.Sessions(ctxT(t))
	if err != nil || len(list) != 0 {
		t.Fatalf("sessions after refused creates: %+v %v", list, err)
	}

	for _, id := range []string{strings.Repeat("é", 128), "日本語-id", "with space", "a.b_c~d"} {
		e.create(id, schema.CreateSessionRequest{Agent: "mock"})
		st, _, body := raw(t, "GET", e.url+"/v1/sessions/"+url.PathEscape(id), "", "")
		if st != http.StatusOK || !strings.Contains(body, id) {
			t.Errorf("good id %q (%d runes): %d %s", id, utf8.RuneCountInString(id), st, body)
		}
	}
}
