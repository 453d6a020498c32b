package fakellm

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// maxBody bounds a request body. Agents resend the whole conversation on
// every turn, so this is generous.
const maxBody = 64 << 20

// DefaultModels are listed by GET /v1/models unless WithModels says
// otherwise.
var DefaultModels = []string{"fake-model", "claude-opus-5-5", "claude-sonnet-4-6", "gpt-5.5"}

// Server is a scripted fake model server on a loopback port. Its methods are
// safe for concurrent use.
type Server struct {
	url    string
	srv    *http.Server
	models []string
	logf   func(format string, args ...any)
	onReq  func(Request)
	extra  map[string]http.Handler
	ids    atomic.Int64

	mu       sync.Mutex
	scenario Scenario
	cursor   int
	reqs     []Request
	changed  chan struct{} // closed and replaced whenever reqs grows
	closed   bool
	inflight sync.WaitGroup

	done      chan struct{}
	closeOnce sync.Once
}

// Option configures a Server.
type Option func(*config)

type config struct {
	addr     string
	scenario Scenario
	models   []string
	logf     func(format string, args ...any)
	onReq    func(Request)
	extra    map[string]http.Handler
}

// WithAddr sets the listen address (default "127.0.0.1:0", a random port).
// Only loopback addresses are accepted.
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithScenario sets the initial scenario.
func WithScenario(sc Scenario) Option { return func(c *config) { c.scenario = sc } }

// WithModels sets the model ids that GET /v1/models lists.
func WithModels(ids ...string) Option { return func(c *config) { c.models = ids } }

// WithLogf logs one line per request through f (e.g. t.Logf or log.Printf).
func WithLogf(f func(format string, args ...any)) Option { return func(c *config) { c.logf = f } }

// WithOnRequest calls f with every request as it is recorded, before it is
// answered. f runs on the request's goroutine and must not block.
func WithOnRequest(f func(Request)) Option { return func(c *config) { c.onReq = f } }

// WithHandler serves path (exact match, no query) with h instead of the
// built-in routes, e.g. to stub a vendor's private API. Requests to it are
// still recorded, with Served = ServedOther.
func WithHandler(path string, h http.Handler) Option {
	return func(c *config) {
		if c.extra == nil {
			c.extra = map[string]http.Handler{}
		}
		c.extra[path] = h
	}
}

// New starts a Server for one test and closes it when the test ends. When
// the test fails, the requests the server saw are logged.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := Start(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.Close()
		if tb.Failed() {
			for _, r := range s.Requests() {
				tb.Logf("fakellm request %s", r.summary())
			}
		}
	})
	return s
}

// Start starts a Server outside a test. Close it when done.
func Start(opts ...Option) (*Server, error) {
	cfg := config{addr: "127.0.0.1:0", models: DefaultModels}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.scenario.Validate(); err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("fakellm: listen address %q: %w", cfg.addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("fakellm: listen address %q is not loopback", cfg.addr)
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("fakellm: %w", err)
	}
	s := &Server{
		url:      "http://" + ln.Addr().String(),
		models:   cfg.models,
		logf:     cfg.logf,
		onReq:    cfg.onReq,
		extra:    cfg.extra,
		scenario: cfg.scenario,
		changed:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.handle), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL returns the server's base URL, "http://127.0.0.1:<port>", without a
// path. It is the value for ANTHROPIC_BASE_URL.
func (s *Server) URL() string { return s.url }

// OpenAIBaseURL returns URL()+"/v1", the base URL OpenAI clients expect
// (Codex base_url, OpenCode baseURL).
func (s *Server) OpenAIBaseURL() string { return s.url + "/v1" }

// Close stops the server: it drops open connections, ends pending delays and
// waits for in-flight handlers. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.done)
		_ = s.srv.Close()
		s.inflight.Wait()
	})
}

// id returns a fresh identifier like "toolu_00000000002a".
func (s *Server) id(prefix string) string {
	return fmt.Sprintf("%s_%012x", prefix, s.ids.Add(1))
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "fakellm: closed", http.StatusServiceUnavailable)
		return
	}
	s.inflight.Add(1)
	s.mu.Unlock()
	defer s.inflight.Done()

	req := &Request{
		Time:   time.Now(),
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.RawQuery,
		Header: r.Header.Clone(),
		Step:   -1,
		Served: ServedOther,
	}
	body, err := readBody(r)
	req.Body = body
	if len(body) > 0 {
		_ = json.Unmarshal(body, &req.JSON)
	}
	req.Endpoint, req.API = route(r.Method, r.URL.Path, r.Header)
	req.parse()

	if h := s.extra[r.URL.Path]; h != nil {
		s.record(req)
		h.ServeHTTP(w, r)
		return
	}
	if err != nil {
		s.record(req)
		s.writeError(w, req.API, APIError{Status: http.StatusBadRequest, Message: "fakellm: reading body: " + err.Error()})
		return
	}
	switch req.Endpoint {
	case "messages", "responses", "chat_completions", "generate_content":
		s.serveModel(w, r, req)
	case "count_tokens":
		s.record(req)
		if req.API == APIGemini {
			writeJSON(w, http.StatusOK, map[string]any{"totalTokens": max(1, len(body)/4)}, 0)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"input_tokens": max(1, len(body)/4)}, 0)
	case "models":
		s.record(req)
		s.serveModels(w, req)
	default:
		s.record(req)
		if r.URL.Path == "/" && (r.Method == http.MethodHead || r.Method == http.MethodGet) {
			w.WriteHeader(http.StatusOK) // connection probes (Claude Code sends HEAD /)
			return
		}
		api := APIChat
		if isAnthropic(r.Header) {
			api = APIAnthropic
		}
		s.writeError(w, api, APIError{Status: http.StatusNotFound, Message: "fakellm: no route for " + r.Method + " " + r.URL.Path})
	}
}

// route classifies a request by the end of its path, so that any base URL
// prefix works ("/v1/responses", "/responses", "/openai/v1/responses").
func route(method, path string, h http.Header) (endpoint string, api API) {
	p := strings.TrimSuffix(path, "/")
	switch {
	case method == http.MethodPost && strings.HasSuffix(p, "/messages/count_tokens"):
		return "count_tokens", APIAnthropic
	case method == http.MethodPost && strings.HasSuffix(p, "/messages"):
		return "messages", APIAnthropic
	case method == http.MethodPost && strings.HasSuffix(p, "/responses"):
		return "responses", APIResponses
	case method == http.MethodPost && strings.HasSuffix(p, "/chat/completions"):
		return "chat_completions", APIChat
	case method == http.MethodPost && strings.Contains(p, "/models/") &&
		(strings.HasSuffix(p, ":generateContent") || strings.HasSuffix(p, ":streamGenerateContent")):
		return "generate_content", APIGemini
	case method == http.MethodPost && strings.Contains(p, "/models/") && strings.HasSuffix(p, ":countTokens"):
		return "count_tokens", APIGemini
	case method == http.MethodGet && (strings.HasSuffix(p, "/models") || strings.Contains(p, "/models/")):
		if isAnthropic(h) {
			return "models", APIAnthropic
		}
		return "models", APIChat
	}
	return "", ""
}

// isAnthropic reports whether headers look like an Anthropic client's.
func isAnthropic(h http.Header) bool {
	return h.Get("anthropic-version") != "" || h.Get("x-api-key") != ""
}

func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = io.LimitReader(r.Body, maxBody)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = io.LimitReader(zr, maxBody)
	}
	return io.ReadAll(rd)
}

func (s *Server) serveModel(w http.ResponseWriter, r *http.Request, req *Request) {
	if req.JSON == nil {
		s.record(req)
		s.writeError(w, req.API, APIError{Status: http.StatusBadRequest, Message: "fakellm: the body must be a JSON object"})
		return
	}
	step := resolveStep(s.take(req), req)
	if err := sleep(r.Context(), s.done, time.Duration(step.Delay)); err != nil {
		panic(http.ErrAbortHandler) // no reply at all, not an empty 200
	}
	if step.Error != nil && !step.Error.InStream {
		s.writeError(w, req.API, *step.Error)
		return
	}
	rp := plan(step, req)
	switch req.API {
	case APIAnthropic:
		s.serveAnthropic(w, r, req, rp)
	case APIResponses:
		s.serveResponses(w, r, req, rp)
	case APIChat:
		s.serveChat(w, r, req, rp)
	case APIGemini:
		s.serveGemini(w, r, req, rp)
	}
}

// resolveStep evaluates Func and Markers steps until a plain Step remains.
func resolveStep(step Step, req *Request) Step {
	for range 8 {
		switch {
		case step.Func != nil:
			step = step.Func(req)
		case step.Markers:
			outer := step
			step = markersReply(req)
			// The marker step's pacing and failure options still apply.
			step.Delay, step.EventDelay, step.CutAfter = outer.Delay, outer.EventDelay, outer.CutAfter
			if outer.Usage != nil {
				step.Usage = outer.Usage
			}
		default:
			return step
		}
	}
	return Text("fakellm: Func steps nested too deeply")
}

func (s Step) isZero() bool {
	return s.Thinking == "" && s.Text == "" && len(s.Chunks) == 0 && len(s.Calls) == 0 &&
		s.Error == nil && s.StopReason == "" && s.Usage == nil && s.Delay == 0 &&
		s.EventDelay == 0 && s.CutAfter == 0 && !s.Markers && s.Func == nil
}
