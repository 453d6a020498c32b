package claude

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// recorder is a Sink that keeps every draft.
type recorder struct {
	mu     sync.Mutex
	drafts []agent.Draft
	wake   chan struct{}
}

func newRecorder() *recorder { return &recorder{wake: make(chan struct{}, 1)} }

func (r *recorder) Emit(d agent.Draft) {
	r.mu.Lock()
	r.drafts = append(r.drafts, d)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []agent.Draft {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]agent.Draft(nil), r.drafts...)
}

// send starts a turn with text, failing the test when the adapter refuses it.
func send(t *testing.T, c agent.Conn, text string) {
	t.Helper()
	if err := c.Send(context.Background(), agent.Prompt{Text: text}); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until n drafts satisfy pred, and returns them.
func (r *recorder) waitFor(t *testing.T, n int, what string, pred func(agent.Draft) bool) []agent.Draft {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		var got []agent.Draft
		for _, d := range r.all() {
			if pred(d) {
				got = append(got, d)
			}
		}
		if len(got) >= n {
			return got
		}
		select {
		case <-r.wake:
		case <-deadline:
			t.Fatalf("timed out waiting for %d× %s; have %d", n, what, len(got))
		}
	}
}

func isType(t schema.EventType) func(agent.Draft) bool {
	return func(d agent.Draft) bool { return d.Type == t }
}

func newFakeAdapter(t *testing.T, opts Options) (*Adapter, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argsLog := filepath.Join(t.TempDir(), "args")
	opts.Binary = exe
	opts.Env = append(opts.Env, "FAKE_CLAUDE=1", "FAKE_CLAUDE_ARGS="+argsLog)
	return New(opts), argsLog
}

func openFake(t *testing.T, a *Adapter, spec agent.Spec) (*conn, *recorder) {
	t.Helper()
	rec := newRecorder()
	if spec.Dir == "" {
		spec.Dir = t.TempDir()
	}
	c, err := a.Open(context.Background(), spec, rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c.(*conn), rec
}

func pidOf(c *conn) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return 0
	}
	return c.cur.p.Pid()
}

// The CLI starts a turn by itself when a background sub-agent finishes
// (captured from 2.1.332 in claude-subagent-background): it gets its own
// turn.started, counts as running (Interrupt stops it) and ends with its
// result.
func TestTurnTheCLIStarts(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{InterruptGrace: 5 * time.Second})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s"})
	ctx := context.Background()
	send(t, c, "later")
	rec.waitFor(t, 1, "the CLI's own turn.started", isType(schema.EventTurnStarted))
	rec.waitFor(t, 1, "its message", func(d agent.Draft) bool {
		return d.Type == schema.EventItemCompleted && schema.Deref(d.Data.(*schema.ItemEventData).Item.NativeItemID) == "msg_report"
	})
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 2, "turn.ended", isType(schema.EventTurnEnded))
	var types []string
	for _, d := range rec.all() {
		switch d.Type {
		case schema.EventTurnStarted, schema.EventTurnEnded:
			types = append(types, string(d.Type))
			if d.Synthetic {
				t.Errorf("%s is synthetic", d.Type)
			}
		}
	}
	if got := strings.Join(types, " "); got != "turn.ended turn.started turn.ended" {
		t.Errorf("turn events %q; want the sent turn's end, then the CLI's own turn", got)
	}
	c.mu.Lock()
	pending := c.pending
	c.mu.Unlock()
	if pending != 0 {
		t.Errorf("%d turns pending after the CLI's own turn ended", pending)
	}
	send(t, c, "hello")
	rec.waitFor(t, 3, "turn.ended", isType(schema.EventTurnEnded))
	if n := len(filter(rec.all(), isType(schema.EventTurnStarted))); n != 1 {
		t.Errorf("%d turn.started drafts; a sent turn must not get one from the adapter", n)
	}
}

func filter(ds []agent.Draft, pred func(agent.Draft) bool) []agent.Draft {
	var out []agent.Draft
	for _, d := range ds {
		if pred(d) {
			out = append(out, d)
		}
	}
	return out
}

func TestMultiTurnInOneProcess(t *testing.T) {
	a, argsLog := newFakeAdapter(t, Options{})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s", Model: "sonnet", PermissionMode: schema.PermissionModeAcceptEdits})
	pid := pidOf(c)
	send(t, c, "one")
	rec.waitFor(t, 1, "turn.ended", isType(schema.EventTurnEnded))
	send(t, c, "two")
	rec.waitFor(t, 2, "turn.ended", isType(schema.EventTurnEnded))
	if got := pidOf(c); got != pid {
		t.Errorf("pid changed from %d to %d between turns", pid, got)
	}
	// Order of the first turn: user item, session.started, the reply.
	var types []string
	for _, d := range rec.all() {
		types = append(types, string(d.Type))
		if d.Type == schema.EventTurnEnded {
			break
		}
	}
	want := "item.started item.completed session.started item.started item.delta item.completed turn.ended"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("first turn:\n got %s\nwant %s", got, want)
	}
	if c.conv.SessionID() != "fake-session-1" {
		t.Errorf("native session id = %q", c.conv.SessionID())
	}
	args, _ := os.ReadFile(argsLog)
	for _, want := range []string{"--input-format stream-json", "--output-format stream-json", "--verbose",
		"--include-partial-messages", "--permission-prompt-tool stdio", "--model sonnet", "--permission-mode acceptEdits"} {
		if !strings.Contains(string(args), want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
}

func TestPermissionRoundTrip(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s"})
	ctx := context.Background()
	send(t, c, "perm")
	req := rec.waitFor(t, 1, "permission.requested", isType(schema.EventPermissionRequested))[0]
	pd := req.Data.(*schema.PermissionEventData)
	if err := c.Answer(ctx, agent.Reply{Kind: agent.ReplyPermission, ID: pd.PermissionID, Permission: schema.ReplyReject, PermissionRequest: pd}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 1, "turn.ended", isType(schema.EventTurnEnded))
	res := rec.waitFor(t, 1, "tool result", func(d agent.Draft) bool {
		it, ok := d.Data.(*schema.ItemEventData)
		return ok && d.Type == schema.EventItemCompleted && it.Item.Kind == schema.KindToolResult
	})[0].Data.(*schema.ItemEventData).Item
	if res.Status != schema.StatusFailed || res.Content[0].Output != "Permission denied by the user." {
		t.Errorf("denied tool result = %+v", res)
	}
}

func TestQuestionRoundTrip(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s"})
	ctx := context.Background()
	send(t, c, "ask")
	q := rec.waitFor(t, 1, "question.requested", isType(schema.EventQuestionRequested))[0].Data.(*schema.QuestionEventData)
	if q.Prompt != "Color?" || strings.Join(q.Options, ",") != "Red,Blue" {
		t.Errorf("question = %+v", q)
	}
	if err := c.Answer(ctx, agent.Reply{Kind: agent.ReplyQuestion, ID: q.QuestionID, Answers: [][]string{{"Blue"}}, QuestionRequest: q}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 1, "turn.ended", isType(schema.EventTurnEnded))
	results := 0
	for _, d := range rec.all() {
		if d.Type == schema.EventPermissionRequested {
			t.Errorf("AskUserQuestion surfaced a permission: %+v", d.Data)
		}
		if it, ok := d.Data.(*schema.ItemEventData); ok && it.Item.Kind == schema.KindToolResult && d.Type == schema.EventItemCompleted {
			results++
			if got := it.Item.Content[0].Output; got != `answers {"Color?":"Blue"}` {
				t.Errorf("tool result = %q", got)
			}
		}
	}
	if results != 1 {
		t.Errorf("%d tool results, want 1", results)
	}
}

func TestResumeAfterDeathBetweenTurns(t *testing.T) {
	a, argsLog := newFakeAdapter(t, Options{})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s"})
	send(t, c, "bye")
	rec.waitFor(t, 1, "turn.ended", isType(schema.EventTurnEnded))
	c.mu.Lock()
	p := c.cur
	c.mu.Unlock()
	if p != nil {
		<-p.done // the fake exits after its reply
	}
	send(t, c, "again")
	rec.waitFor(t, 2, "turn.ended", isType(schema.EventTurnEnded))
	for _, d := range rec.all() {
		if d.Type == schema.EventError || d.Type == schema.EventSessionEnded {
			t.Errorf("unexpected %s: %+v", d.Type, d.Data)
		}
	}
	args, _ := os.ReadFile(argsLog)
	lines := strings.Split(strings.TrimSpace(string(args)), "\n")
	if len(lines) != 2 || strings.Contains(lines[0], "--resume") || !strings.Contains(lines[1], "--resume fake-session-1") {
		t.Errorf("starts:\n%s", args)
	}
}

func TestCrashDuringTurnThenResume(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s"})
	send(t, c, "crash")
	rec.waitFor(t, 1, "turn.ended", isType(schema.EventTurnEnded))
	errs := rec.waitFor(t, 1, "error", isType(schema.EventError))
	e := errs[0].Data.(*schema.ErrorData)
	if schema.Deref(e.Code) != "process_exit" || !strings.Contains(string(e.Details), "the fake crashed") {
		t.Errorf("error = %+v %s", e, e.Details)
	}
	// The native id was known (init came first), so the session goes on.
	send(t, c, "after")
	rec.waitFor(t, 2, "turn.ended", isType(schema.EventTurnEnded))
	for _, d := range rec.all() {
		if d.Type == schema.EventSessionEnded {
			t.Error("session ended after a resumable crash")
		}
	}
}

func TestInterrupt(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s"})
	ctx := context.Background()
	send(t, c, "hang")
	rec.waitFor(t, 1, "delta", isType(schema.EventItemDelta))
	pid := pidOf(c)
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	ended := rec.waitFor(t, 1, "turn.ended", isType(schema.EventTurnEnded))[0].Data.(*schema.TurnEventData)
	if !strings.Contains(string(ended.Metadata), `"interrupted":true`) {
		t.Errorf("turn.ended metadata = %s", ended.Metadata)
	}
	for _, d := range rec.all() {
		if d.Type == schema.EventError {
			t.Errorf("interrupt produced an error: %+v", d.Data)
		}
	}
	if pidOf(c) != pid {
		t.Error("a cooperative interrupt replaced the process")
	}
}

func TestInterruptKillsAStubbornProcess(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{InterruptGrace: 300 * time.Millisecond})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s"})
	ctx := context.Background()
	send(t, c, "stubborn")
	rec.waitFor(t, 1, "delta", isType(schema.EventItemDelta))
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	ended := rec.waitFor(t, 1, "turn.ended", isType(schema.EventTurnEnded))[0].Data.(*schema.TurnEventData)
	if !strings.Contains(string(ended.Metadata), `"interrupted":true`) {
		t.Errorf("turn.ended metadata = %s", ended.Metadata)
	}
	if pidOf(c) != 0 {
		t.Error("the stubborn process is still current")
	}
	send(t, c, "next")
	rec.waitFor(t, 2, "turn.ended", isType(schema.EventTurnEnded))
}

func TestCloseStopsTheProcess(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s"})
	if err := c.Send(context.Background(), agent.Prompt{Text: "stubborn"}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 1, "delta", isType(schema.EventItemDelta))
	c.mu.Lock()
	p := c.cur
	c.mu.Unlock()
	start := time.Now()
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.p.Done():
	default:
		t.Fatal("process still running after Close")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Close took %v", time.Since(start))
	}
	if err := c.Send(context.Background(), agent.Prompt{Text: "x"}); !errors.Is(err, agent.ErrProcessExited) {
		t.Errorf("Send after Close: %v", err)
	}
}

func TestOpenRefusesUnknownModes(t *testing.T) {
	a, _ := newFakeAdapter(t, Options{})
	if _, err := a.Open(context.Background(), agent.Spec{AgentMode: "code"}, newRecorder()); !errors.Is(err, agent.ErrModeUnsupported) {
		t.Errorf("agent mode: %v", err)
	}
	if _, err := a.Open(context.Background(), agent.Spec{PermissionMode: "yolo"}, newRecorder()); !errors.Is(err, agent.ErrInvalidRequest) {
		t.Errorf("permission mode: %v", err)
	}
	missing := New(Options{Binary: "definitely-not-claude-xyz"})
	if _, err := missing.Open(context.Background(), agent.Spec{}, newRecorder()); !errors.Is(err, agent.ErrNotInstalled) {
		t.Errorf("missing binary: %v", err)
	}
}

func TestArgsAndEnv(t *testing.T) {
	a := New(Options{ExtraArgs: []string{"--x"}})
	spec := agent.Spec{AgentMode: "plan", PermissionMode: schema.PermissionModeBypass, Model: "opus", Variant: "high",
		MCP: map[string]schema.McpServerConfig{"fs": {Type: schema.McpLocal, Command: []string{"npx", "-y"}, Args: []string{"srv"}}}}
	args := strings.Join(a.args(spec, "sid"), " ")
	for _, want := range []string{"--resume sid", "--model opus", "--permission-mode plan", `--mcp-config {"mcpServers":{"fs":{"args":["-y","srv"],"command":"npx"}}}`, "--x"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	if afterPlanMode(spec) != "bypassPermissions" {
		t.Errorf("after plan: %s", afterPlanMode(spec))
	}
	spec.AgentMode = "build"
	if args := strings.Join(a.args(spec, ""), " "); !strings.Contains(args, "--dangerously-skip-permissions") || strings.Contains(args, "--resume") {
		t.Errorf("bypass args %q", args)
	}
	if env := strings.Join(a.env(spec), " "); !strings.Contains(env, "CLAUDE_CODE_EFFORT_LEVEL=high") {
		t.Errorf("env %q", env)
	}
	if args := strings.Join(a.args(agent.Spec{Model: "default"}, ""), " "); strings.Contains(args, "--model") || strings.Contains(args, "--permission-mode") {
		t.Errorf("default args %q", args)
	}
}

func TestMCPConfigRemote(t *testing.T) {
	cfg := mcpConfig(map[string]schema.McpServerConfig{
		"api": {Type: schema.McpRemote, URL: "https://mcp.example/x", Transport: schema.Ptr("sse"),
			Headers: map[string]string{"X-A": "1"}, BearerTokenEnvVar: schema.Ptr("TOKEN"), EnvHeaders: map[string]string{"X-B": "B_VAR"}},
		"off": {Type: schema.McpLocal, Command: []string{"x"}, Enabled: schema.Ptr(false)},
	})
	want := `{"mcpServers":{"api":{"headers":{"Authorization":"Bearer ${TOKEN}","X-A":"1","X-B":"${B_VAR}"},"type":"sse","url":"https://mcp.example/x"}}}`
	if cfg != want {
		t.Errorf("mcp config\n got %s\nwant %s", cfg, want)
	}
}

func TestStatusAndVersion(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "claude")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho '2.1.332 (Claude Code)'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := ResolveBinary
	ResolveBinary = func(name string) (string, bool) { return filepath.Join(dir, name), name == "claude" }
	t.Cleanup(func() { ResolveBinary = old })
	st, err := New(Options{}).Status(context.Background())
	if err != nil || !st.Installed || st.Path != bin || st.Version != "2.1.332" {
		t.Errorf("status = %+v, %v", st, err)
	}
	ResolveBinary = func(string) (string, bool) { return "", false }
	if st, _ := New(Options{}).Status(context.Background()); st.Installed {
		t.Errorf("status without binary = %+v", st)
	}
}

func TestModels(t *testing.T) {
	var gotKey string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey = r.Header.Get("x-api-key")
		if r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": []map[string]any{
			{"id": "claude-sonnet-5-5", "display_name": "Sonnet 5.5", "created_at": "2026-09-01T00:00:00Z"},
			{"id": "claude-opus-5-5", "display_name": "Opus 5.5", "created_at": "2026-10-01T00:00:00Z"},
		}})
	}))
	defer srv.Close()
	a := New(Options{Models: ModelsOptions{BaseURL: srv.URL, Credential: func() (string, bool) { return "k", false }}})
	ml, err := a.Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if gotKey != "k" || len(ml.Models) != 2 || ml.Models[0].ID != "claude-opus-5-5" || schema.Deref(ml.DefaultModel) != "claude-opus-5-5" {
		t.Errorf("models = %+v (key %q)", ml, gotKey)
	}
	none := New(Options{Models: ModelsOptions{BaseURL: srv.URL, Credential: func() (string, bool) { return "", false }}})
	if ml, _ := none.Models(context.Background()); schema.Deref(ml.DefaultModel) != "default" || len(ml.Models) != 4 {
		t.Errorf("fallback = %+v", ml)
	}
}

func TestResumeFailureStartsFresh(t *testing.T) {
	a, argsLog := newFakeAdapter(t, Options{Env: []string{"FAKE_CLAUDE_FAIL_RESUME=1"}})
	c, rec := openFake(t, a, agent.Spec{SessionID: "s", NativeSessionID: "lost-session"})
	e := rec.waitFor(t, 1, "error", isType(schema.EventError))[0].Data.(*schema.ErrorData)
	if schema.Deref(e.Code) != "resume_failed" || !strings.Contains(e.Message, "No conversation found") {
		t.Errorf("error = %+v", e)
	}
	if err := c.Send(context.Background(), agent.Prompt{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 1, "turn.ended", isType(schema.EventTurnEnded))
	if c.conv.SessionID() != "fake-session-1" {
		t.Errorf("native session id = %q", c.conv.SessionID())
	}
	args, _ := os.ReadFile(argsLog)
	if lines := strings.Split(strings.TrimSpace(string(args)), "\n"); len(lines) != 1 || strings.Contains(lines[0], "--resume") {
		t.Errorf("starts:\n%s", args)
	}
}
