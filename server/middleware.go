package server

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sandbox-agent/sandbox-agent/problem"
)

// auth requires the token on /v1 (and /opencode) routes, except health.
func (s *Server) auth(next http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return next
	}
	want := []byte(s.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		protected := (strings.HasPrefix(p, "/v1/") || p == "/v1" || strings.HasPrefix(p, "/opencode")) && p != "/v1/health"
		if protected && r.Method != http.MethodOptions {
			got, ok := tokenFrom(r.Header.Get("Authorization"))
			if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
				writeProblem(w, &Problem{Type: problem.TokenInvalid.Type(), Title: problem.TokenInvalid.Title(),
					Status: http.StatusUnauthorized, Detail: "token invalid",
					Details: map[string]any{"message": "missing or invalid token"}})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// tokenFrom reads a token from an Authorization header: Bearer/Token <t>,
// or Basic with the token as password (or as the whole decoded value).
func tokenFrom(h string) (string, bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		return rest, rest != ""
	case "basic":
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(rest); err == nil {
				dec := string(b)
				if _, pw, found := strings.Cut(dec, ":"); found {
					return pw, true
				}
				return dec, true
			}
		}
	}
	return "", false
}

// cors implements the reference's CORS layer: exact origins, any or listed
// methods and headers, optional credentials.
func (s *Server) cors(next http.Handler) http.Handler {
	c := s.cfg.CORS
	if len(c.AllowOrigins) == 0 {
		return next
	}
	const vary = "origin, access-control-request-method, access-control-request-headers"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := origin != "" && slices.Contains(c.AllowOrigins, origin)
		w.Header().Add("Vary", vary)
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			if c.AllowCredentials {
				w.Header().Set("Access-Control-Allow-Credentials", "true")
			}
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if allowed {
				methods := strings.Join(c.AllowMethods, ",")
				if methods == "" {
					// "Any" method: echo the one asked for, which also stays
					// valid with credentials (a literal * would not).
					methods = r.Header.Get("Access-Control-Request-Method")
				}
				w.Header().Set("Access-Control-Allow-Methods", methods)
				headers := strings.Join(c.AllowHeaders, ",")
				if headers == "" {
					headers = r.Header.Get("Access-Control-Request-Headers")
				}
				if headers != "" {
					w.Header().Set("Access-Control-Allow-Headers", headers)
				}
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusRecorder notes the status sent, for the access log, and makes sure
// only one final status is ever sent. huma sets a second status (499) when
// the client leaves while it writes a JSON body, after the 200 and part of
// the body went out; net/http would log that as a superfluous WriteHeader.
// A late status is only recorded (the log shows 499), never sent.
type statusRecorder struct {
	http.ResponseWriter
	status int  // the status sent, or a late one that could not be
	wrote  bool // a final status (or body) has been sent
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.wrote {
		r.status = code
		return
	}
	r.status = code
	if code >= 200 || code == http.StatusSwitchingProtocols {
		r.wrote = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.wrote = true
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush forwards to the underlying writer (SSE needs it).
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			// huma panics when it cannot finish a response body (the
			// client left, a write failed). With the status already sent
			// nothing can be said any more: abort the response quietly.
			if v := recover(); v != nil {
				if !rec.wrote || v == http.ErrAbortHandler {
					panic(v)
				}
				s.cfg.Logger.Debug("http", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start), "aborted", v)
				panic(http.ErrAbortHandler)
			}
		}()
		next.ServeHTTP(rec, r)
		s.cfg.Logger.Debug("http", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
	})
}
