// Package server is the HTTP face of sandbox-agent: the /v1 API (huma
// operations on a stdlib ServeMux), auth and CORS middleware, SSE, problem
// documents, and the OpenAPI document generated from the same Go types.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/sandbox-agent/sandbox-agent/session"
)

// Installer installs agents for POST /v1/agents/{agent}/install.
type Installer interface {
	Install(ctx context.Context, agent, version string, reinstall bool) error
}

// CORS configures cross-origin access; no origins means CORS is off.
type CORS struct {
	AllowOrigins     []string
	AllowMethods     []string // empty: any
	AllowHeaders     []string // empty: any
	AllowCredentials bool
}

// Config configures a Server.
type Config struct {
	Manager   *session.Manager
	Installer Installer
	// Token, when set, is required on every /v1 route but /v1/health.
	Token string
	CORS  CORS
	// MaxUploadBytes caps fs uploads; 0 means no cap.
	MaxUploadBytes int64
	// HomeDir resolves relative fs paths given without a session (the
	// FSRoot's directory when that is set and HomeDir is not).
	HomeDir string
	// FSRoot, when set, confines every fs route to one directory: paths
	// outside it, and symlinks leading out of it, are refused with 403.
	FSRoot *FSRoot
	// Credentials reports whether a provider's credentials are available.
	Credentials func(provider string) bool
	// UI serves the inspector under /ui/; nil answers 404 with a hint.
	UI      http.Handler
	Logger  *slog.Logger
	Version string
	// KeepAlive is the SSE keep-alive comment interval (default 15s).
	KeepAlive time.Duration
	// WriteTimeout bounds each write of an event stream (default 30s): a
	// reader that takes nothing for that long is disconnected.
	WriteTimeout time.Duration
}

// Server is the HTTP handler.
type Server struct {
	cfg     Config
	fs      fileSystem
	mux     *http.ServeMux
	api     huma.API
	handler http.Handler
}

// New builds the server and registers every route.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), fs: hostFS{}}
	if cfg.FSRoot != nil {
		s.fs = cfg.FSRoot
		if s.cfg.HomeDir == "" {
			s.cfg.HomeDir = cfg.FSRoot.Dir()
		}
	}
	s.api = newAPI(s.mux, cfg.Version)
	s.registerMeta()
	s.registerAgents()
	s.registerSessions()
	s.registerEvents()
	s.registerHITL()
	s.registerFS()
	patchSchemas(s.api)
	s.mux.Handle("/ui/", s.ui())
	s.mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))
	s.mux.HandleFunc("/", s.fallback)
	var h http.Handler = s.mux
	h = sessionIDs(h)
	h = s.auth(h)
	h = s.cors(h)
	h = s.accessLog(h)
	s.handler = h
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// OpenAPI returns the generated OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// newAPI configures huma the way the reference wire format needs: no
// $schema links in bodies, plain JSON problem documents, our error kinds.
func newAPI(mux *http.ServeMux, version string) huma.API {
	huma.NewError = humaError
	cfg := huma.DefaultConfig("Sandbox Agent API", version)
	// Name schemas as the reference spec does, so generated SDKs keep
	// their type names (UniversalEvent, UniversalItem, ProblemDetails).
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", func(t reflect.Type, hint string) string {
		name := huma.DefaultSchemaNamer(t, hint)
		if alias, ok := schemaNames[name]; ok {
			return alias
		}
		return name
	})
	cfg.CreateHooks = nil
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.OpenAPIPath = "/openapi"
	cfg.Info.Description = "Run coding agents (Claude Code, Codex, OpenCode, Amp) inside a sandbox and control them over HTTP + SSE. Wire-compatible superset of the sandbox-agent 0.1.11 API."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "The server's --token, as `Authorization: Bearer <token>` (or `Token <t>`, or Basic with the token as password)."},
	}
	api := humago.New(mux, cfg)
	return api
}

var schemaNames = map[string]string{"Event": "UniversalEvent", "Item": "UniversalItem", "Problem": "ProblemDetails"}

const jsonBodyLimit = 16 << 20

// op fills the defaults every operation shares.
func op(id, method, path, summary string, tags ...string) huma.Operation {
	return huma.Operation{
		OperationID:  id,
		Method:       method,
		Path:         path,
		Summary:      summary,
		Tags:         tags,
		MaxBodyBytes: jsonBodyLimit,
		Security:     []map[string][]string{{"bearer": {}}},
	}
}

// wrap converts handler errors into problem documents.
func wrap[I, O any](s *Server, fn func(context.Context, *I) (*O, error)) func(context.Context, *I) (*O, error) {
	return func(ctx context.Context, in *I) (*O, error) {
		out, err := fn(ctx, in)
		if err != nil {
			p := problemFrom(err)
			if p.Status >= 500 {
				s.cfg.Logger.Error("request failed", "err", err, "status", p.Status)
			}
			return nil, p
		}
		return out, nil
	}
}

// fallback answers the root banner, 405 for a known path with the wrong
// method, and 404 for everything else.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		// A browser is sent to the inspector; curl and scripts get the banner.
		if s.cfg.UI != nil && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, "/ui/", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(s.banner()))
		return
	}
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("404 Not Found\n\n" + s.banner()))
}

// ui serves the embedded inspector, or explains its absence.
func (s *Server) ui() http.Handler {
	if s.cfg.UI != nil {
		return http.StripPrefix("/ui", s.cfg.UI)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("The inspector UI is not built into this binary.\n\nThe HTTP API is fully available under /v1; see /openapi.json.\n"))
	})
}

// banner is the root page. It lists the inspector only when this binary
// serves one.
func (s *Server) banner() string {
	ui := ""
	if s.cfg.UI != nil {
		ui = "  - GET /ui/           inspector UI\n"
	}
	return `This is a Sandbox Agent server.

It runs coding agents inside this sandbox and exposes them over HTTP.

Available endpoints:
  - GET /              this page
  - GET /v1/health     health check
` + ui + `  - GET /openapi.json  OpenAPI document

See https://sandboxagent.dev for documentation.
`
}
