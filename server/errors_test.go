package server_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/mock"
	"github.com/sandbox-agent/sandbox-agent/agent/pending"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/procs"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/server"
)

// raw performs a request with a raw body and returns status, headers, body.
func raw(t *testing.T, method, url, ctype, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

type problemDoc struct {
	Type    string         `json:"type"`
	Title   string         `json:"title"`
	Status  int            `json:"status"`
	Detail  string         `json:"detail"`
	Details map[string]any `json:"details"`
}

func decodeProblem(t *testing.T, status int, h http.Header, body string) problemDoc {
	t.Helper()
	var p problemDoc
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.Type == "" {
		t.Fatalf("not a problem document (%d): %s", status, body)
	}
	if h.Get("Content-Type") != "application/json" {
		t.Fatalf("problem content-type %q", h.Get("Content-Type"))
	}
	if p.Status != status {
		t.Fatalf("problem status %d != HTTP %d", p.Status, status)
	}
	return p
}

func TestMetaRoutes(t *testing.T) {
	e := startAPI(t, apiOpts{})
	st, h, body := raw(t, "GET", e.url+"/", "", "")
	// No inspector is built in here, so the banner must not point to one.
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || !strings.Contains(body, "Sandbox Agent") || strings.Contains(body, "/ui/") {
		t.Fatalf("banner: %d %s", st, body)
	}
	st, _, body = raw(t, "GET", e.url+"/nope", "", "")
	if st != 404 || !strings.HasPrefix(body, "404 Not Found\n\n") {
		t.Fatalf("unknown route: %d %q", st, body)
	}
	st, h, _ = raw(t, "PUT", e.url+"/v1/agents", "", "")
	if st != 405 || !strings.Contains(h.Get("Allow"), "GET") {
		t.Fatalf("wrong method: %d allow=%q", st, h.Get("Allow"))
	}
	st, _, body = raw(t, "GET", e.url+"/v1/health", "", "")
	if st != 200 || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Fatalf("health: %d %s", st, body)
	}
	agents, err := e.c.Agents(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range agents {
		ids = append(ids, a.ID)
	}
	if strings.Join(ids, ",") != "claude,codex,opencode,amp,mock" {
		t.Fatalf("agents = %v", ids)
	}
	m := agents[4]
	if !m.Installed || schema.Deref(m.Version) != "builtin" || !m.CredentialsAvailable || !m.Capabilities.Questions {
		t.Fatalf("mock info = %+v", m)
	}
	if agents[1].ServerStatus == nil || agents[1].ServerStatus.Status != "stopped" {
		t.Fatalf("codex serverStatus = %+v", agents[1].ServerStatus)
	}
	modes, _ := e.c.AgentModes(ctxT(t), "mock")
	if len(modes) != 2 || modes[0].ID != "build" || modes[1].ID != "plan" {
		t.Fatalf("modes = %+v", modes)
	}
	models, _ := e.c.AgentModels(ctxT(t), "mock")
	if len(models.Models) != 1 || models.Models[0].ID != "mock" || schema.Deref(models.DefaultModel) != "mock" {
		t.Fatalf("models = %+v", models)
	}
	if err := e.c.InstallAgent(ctxT(t), "mock", schema.AgentInstallRequest{}); err != nil {
		t.Fatalf("install mock: %v", err)
	}
	// The install body may be omitted entirely.
	if st, _, body := raw(t, "POST", e.url+"/v1/agents/mock/install", "", ""); st != 204 {
		t.Fatalf("install without body: %d %s", st, body)
	}
}

func TestAuth(t *testing.T) {
	e := startAPI(t, apiOpts{token: "s3cret"})
	if st, _, _ := raw(t, "GET", e.url+"/v1/health", "", ""); st != 200 {
		t.Fatalf("health needs no token, got %d", st)
	}
	want := `{"type":"urn:sandbox-agent:error:token_invalid","title":"Token Invalid","status":401,"detail":"token invalid","details":{"message":"missing or invalid token"}}`
	for _, hdr := range [][]string{nil, {"Authorization", "Bearer nope"}, {"Authorization", "s3cret"}} {
		st, h, body := raw(t, "GET", e.url+"/v1/agents", "", "", hdr...)
		if st != 401 || strings.TrimSpace(body) != want {
			t.Fatalf("%v → %d %s", hdr, st, body)
		}
		decodeProblem(t, st, h, body)
	}
	for _, v := range []string{"Bearer s3cret", "bearer s3cret", "Token s3cret",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("user:s3cret")),
		"Basic " + base64.RawURLEncoding.EncodeToString([]byte("s3cret"))} {
		if st, _, body := raw(t, "GET", e.url+"/v1/agents", "", "", "Authorization", v); st != 200 {
			t.Fatalf("%q → %d %s", v, st, body)
		}
	}
	if _, err := e.c.Agents(ctxT(t)); err != nil {
		t.Fatalf("client with token: %v", err)
	}
}

func TestCORS(t *testing.T) {
	e := startAPI(t, apiOpts{cors: server.CORS{AllowOrigins: []string{"http://example.com"},
		AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"content-type", "authorization"}}})
	st, h, _ := raw(t, "OPTIONS", e.url+"/v1/agents", "", "", "Origin", "http://example.com",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if st != 200 || h.Get("Access-Control-Allow-Origin") != "http://example.com" ||
		h.Get("Access-Control-Allow-Methods") != "GET,POST" || h.Get("Access-Control-Allow-Headers") != "content-type,authorization" ||
		h.Get("Vary") != "origin, access-control-request-method, access-control-request-headers" {
		t.Fatalf("preflight: %d %v", st, h)
	}
	st, h, _ = raw(t, "GET", e.url+"/v1/health", "", "", "Origin", "http://example.com")
	if st != 200 || h.Get("Access-Control-Allow-Origin") != "http://example.com" {
		t.Fatalf("simple: %d %v", st, h)
	}
	_, h, _ = raw(t, "GET", e.url+"/v1/health", "", "", "Origin", "http://evil.example")
	if h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("foreign origin allowed")
	}
}

// TestErrorKinds drives every error kind the API produces through real HTTP.
func TestErrorKinds(t *testing.T) {
	dir := t.TempDir()
	script := newScriptAdapter(dir)
	e := startAPI(t, apiOpts{installer: failingInstaller{}, adapters: []agent.Adapter{
		pending.New("claude"), mock.New(mock.Options{Interval: -1}), script}})
	e.create("dup", schema.CreateSessionRequest{Agent: "mock"})
	e.create("sc", schema.CreateSessionRequest{Agent: "script"})
	post := func(path, body string) (int, http.Header, string) {
		return raw(t, "POST", e.url+path, "application/json", body)
	}
	cases := []struct {
		name, kind string
		status     int
		do         func() (int, http.Header, string)
		detail     string
	}{
		{"unsupported agent", "unsupported_agent", 400, func() (int, http.Header, string) { return post("/v1/sessions/x", `{"agent":"nope"}`) }, "unsupported agent: nope"},
		{"unsupported agent on path", "unsupported_agent", 400, func() (int, http.Header, string) { return raw(t, "GET", e.url+"/v1/agents/nope/models", "", "") }, "unsupported agent: nope"},
		{"not installed", "agent_not_installed", 404, func() (int, http.Header, string) { return post("/v1/sessions/x", `{"agent":"claude"}`) }, "agent not installed: claude"},
		{"install failed", "install_failed", 500, func() (int, http.Header, string) { return post("/v1/agents/claude/install", `{}`) }, "install failed: claude"},
		{"already exists", "session_already_exists", 409, func() (int, http.Header, string) { return post("/v1/sessions/dup", `{"agent":"mock"}`) }, "session already exists: dup"},
		{"session not found", "session_not_found", 404, func() (int, http.Header, string) { return post("/v1/sessions/zz/messages", `{"message":"hi"}`) }, "session not found: zz"},
		{"mode not supported", "mode_not_supported", 400, func() (int, http.Header, string) {
			return post("/v1/sessions/x", `{"agent":"mock","agentMode":"code"}`)
		}, "mode not supported: mock code"},
		{"permission mode invalid", "invalid_request", 400, func() (int, http.Header, string) {
			return post("/v1/sessions/x", `{"agent":"mock","permissionMode":"yolo"}`)
		}, "invalid request: invalid permission mode: yolo"},
		{"stream error", "stream_error", 502, func() (int, http.Header, string) { return post("/v1/sessions/sc/messages", `{"message":"fail"}`) }, "stream error: upstream exploded"},
		{"timeout", "timeout", 504, func() (int, http.Header, string) { return post("/v1/sessions/sc/messages", `{"message":"slow"}`) }, "timeout"},
		{"permission denied", "permission_denied", 403, func() (int, http.Header, string) {
			return raw(t, "DELETE", e.url+"/v1/fs/entry?path=/proc/version", "", "")
		}, "permission denied: /proc/version"},
		{"malformed json", "invalid_request", 400, func() (int, http.Header, string) { return post("/v1/sessions/x", `{"agent":`) }, ""},
		{"missing field", "invalid_request", 422, func() (int, http.Header, string) { return post("/v1/sessions/x", `{}`) }, ""},
		{"wrong type", "invalid_request", 422, func() (int, http.Header, string) { return post("/v1/sessions/x", `{"agent":5}`) }, ""},
		{"bad enum", "invalid_request", 422, func() (int, http.Header, string) {
			return post("/v1/sessions/dup/permissions/p/reply", `{"reply":"maybe"}`)
		}, ""},
		{"wrong content type", "invalid_request", 415, func() (int, http.Header, string) {
			return raw(t, "POST", e.url+"/v1/sessions/x", "text/plain", `{"agent":"mock"}`)
		}, ""},
		{"bad query integer", "invalid_request", 400, func() (int, http.Header, string) {
			return raw(t, "GET", e.url+"/v1/sessions/dup/events?limit=abc", "", "")
		}, ""},
		{"bad query bool", "invalid_request", 400, func() (int, http.Header, string) {
			return raw(t, "GET", e.url+"/v1/sessions/dup/events?include_raw=yes", "", "")
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, h, body := c.do()
			p := decodeProblem(t, st, h, body)
			if st != c.status || p.Type != "urn:sandbox-agent:error:"+c.kind {
				t.Fatalf("got %d %s: %s", st, p.Type, body)
			}
			if c.detail != "" && p.Detail != c.detail {
				t.Fatalf("detail %q, want %q", p.Detail, c.detail)
			}
			if c.detail == "" {
				// Framework-level rejections must still say what is wrong where.
				if p.Details == nil || (p.Details["field"] == nil && p.Details["errors"] == nil) {
					t.Fatalf("problem does not name the field: %s", body)
				}
			}
		})
	}
	// agent_process_exited: the agent died; further messages say so.
	if st, _, body := post("/v1/sessions/sc/messages", `{"message":"crash"}`); st != 204 {
		t.Fatalf("crash send: %d %s", st, body)
	}
	evs := e.waitFor("sc", 0, isType(schema.EventSessionEnded))
	_, ended := lastOf[schema.SessionEndedData](t, evs, schema.EventSessionEnded)
	if ended.Reason != schema.EndError || ended.Stderr == nil || !strings.Contains(schema.Deref(ended.Stderr.Head), "started") {
		t.Fatalf("ended = %+v", ended)
	}
	st, h, body := post("/v1/sessions/sc/messages", `{"message":"again"}`)
	if p := decodeProblem(t, st, h, body); st != 500 || p.Type != "urn:sandbox-agent:error:agent_process_exited" {
		t.Fatalf("send to crashed session: %d %s", st, body)
	}
}

// TestTerminateKillsProcessGroup: terminating a session kills the agent's
// whole process group, grandchildren included.
func TestTerminateKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	script := newScriptAdapter(dir)
	e := startAPI(t, apiOpts{adapters: []agent.Adapter{script}})
	e.create("kill", schema.CreateSessionRequest{Agent: "script"})
	b, err := os.ReadFile(filepath.Join(dir, "kill.grandchild"))
	if err != nil {
		t.Fatal(err)
	}
	grandchild, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	script.mu.Lock()
	leader := script.procs["kill"].Pid()
	script.mu.Unlock()
	for _, pid := range []int{leader, grandchild} {
		if !procs.Alive(pid) {
			t.Fatalf("pid %d not running before terminate", pid)
		}
	}
	e.send("kill", "hello")
	if err := e.c.Terminate(ctxT(t), "kill"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for procs.Alive(leader) || procs.Alive(grandchild) {
		if time.Now().After(deadline) {
			t.Fatalf("processes survived terminate: leader %v grandchild %v", procs.Alive(leader), procs.Alive(grandchild))
		}
		time.Sleep(20 * time.Millisecond)
	}
	evs := e.waitFor("kill", 0, isType(schema.EventSessionEnded))
	if got := skeleton(evs); got[len(got)-1] != "session.ended" {
		t.Fatalf("events = %v", got)
	}
}
