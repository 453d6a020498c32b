package server

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sandbox-agent/sandbox-agent/problem"
)

// MaxSessionIDLength is the longest session id the API accepts, in
// characters (Unicode code points). The path parameters' maxLength and
// pattern in the OpenAPI document say the same.
const MaxSessionIDLength = 128

// checkSessionID refuses ids that could never be addressed again or that
// would corrupt logs and listings: not valid UTF-8 (they would be listed
// with U+FFFD), control characters, empty or longer than
// MaxSessionIDLength.
func checkSessionID(id string) error {
	bad := func(why string) error {
		return problem.Invalid("session_id %s", why).With("field", "session_id")
	}
	switch {
	case id == "":
		return bad("must not be empty")
	case !utf8.ValidString(id):
		return bad("must be valid UTF-8")
	case utf8.RuneCountInString(id) > MaxSessionIDLength:
		return bad("must be at most 128 characters")
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return bad("must not contain control characters")
	}
	return nil
}

// sessionIDs checks the {session_id} of every /v1/sessions/{session_id}…
// route before it is routed, so that no operation, present or future, can
// create or look up a session under an id checkSessionID refuses.
func sessionIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/v1/sessions/")
		if ok {
			seg, _, _ := strings.Cut(rest, "/")
			// An undecodable segment matches no route; the mux answers it.
			if id, err := url.PathUnescape(seg); err == nil {
				if err := checkSessionID(id); err != nil {
					writeProblem(w, problemFrom(err))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
