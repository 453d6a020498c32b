package amp

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/problem"
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

func (r *recorder) count(typ schema.EventType) int {
	n := 0
	for _, d := range r.all() {
		if d.Type == typ {
			n++
		}
	}
	return n
}

// waitFor waits until n drafts of typ were emitted.
func (r *recorder) waitFor(t *testing.T, typ schema.EventType, n int) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for r.count(typ) < n {
		select {
		case <-r.wake:
		case <-deadline:
			t.Fatalf("timed out waiting for %d %s; got %+v", n, typ, r.all())
		}
	}
}

func (r *recorder) errors() []string {
	var out []string
	for _, d := range r.all() {
		if e, ok := d.Data.(*schema.ErrorData); ok {
			out = append(out, e.Message)
		}
	}
	return out
}

// fakeAdapter is the adapter running this test binary as amp.
func fakeAdapter(t *testing.T, key bool) (*Adapter, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := []string{"FAKE_AMP=1", "FAKE_AMP_ARGS=" + filepath.Join(dir, "args"), "FAKE_AMP_SETTINGS=" + filepath.Join(dir, "settings.json")}
	a := New(Options{Binary: self, Env: env, LookupEnv: func(k string) (string, bool) {
		if k == "AMP_API_KEY" && key {
			return "test", true
		}
		return "", false
	}})
	t.Setenv("FAKE_AMP", "1") // `amp --help` runs with the server's environment
	return a, dir
}

func argLines(t *testing.T, dir string) []string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(dir, "args"))
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestOpenWithoutKeyNamesAMPAPIKey(t *testing.T) {
	a, _ := fakeAdapter(t, false)
	_, err := a.Open(context.Background(), agent.Spec{SessionID: "s", Dir: t.TempDir()}, newRecorder())
	pe, ok := problem.As(err)
	if !ok || pe.HTTPStatus() != 400 || pe.Details["field"] != "AMP_API_KEY" || !strings.Contains(pe.Detail, "AMP_API_KEY") {
		t.Fatalf("got %v (%+v)", err, pe)
	}
	// A key saved by `amp login` does too.
	data := t.TempDir()
	a.opts.LookupEnv = func(k string) (string, bool) {
		return map[string]string{"XDG_DATA_HOME": data}[k], k == "XDG_DATA_HOME"
	}
	if _, err := a.Open(context.Background(), agent.Spec{SessionID: "s"}, newRecorder()); err == nil {
		t.Fatal("an empty data dir counted as logged in")
	}
	if err := os.MkdirAll(filepath.Join(data, "amp"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "amp", "secrets.json"), []byte(`{"apiKey@https://ampcode.com/":"sgamp_x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := a.Open(context.Background(), agent.Spec{SessionID: "s", Dir: t.TempDir()}, newRecorder())
	if err != nil {
		t.Fatalf("logged in with amp login: %v", err)
	}
	_ = c.Close(context.Background())
	a.opts.LookupEnv = func(string) (string, bool) { return "", false }
	// The session's own environment may carry it too.
	c, err = a.Open(context.Background(), agent.Spec{SessionID: "s", Dir: t.TempDir(), Env: []string{"AMP_API_KEY=k"}}, newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close(context.Background())
}

func TestOpenRefusesWhatAmpCannotDo(t *testing.T) {
	a, _ := fakeAdapter(t, true)
	for _, tc := range []struct {
		spec  agent.Spec
		field string
		kind  error
	}{
		{spec: agent.Spec{Model: "claude-sonnet-4"}, field: "model"},
		{spec: agent.Spec{PermissionMode: schema.PermissionModePlan}, kind: agent.ErrModeUnsupported},
		{spec: agent.Spec{AgentMode: "turbo"}, kind: agent.ErrModeUnsupported},
	} {
		_, err := a.Open(context.Background(), tc.spec, newRecorder())
		if pe, ok := problem.As(err); tc.field != "" && (!ok || pe.Details["field"] != tc.field) {
			t.Errorf("%+v: got %v", tc.spec, err)
		}
		if tc.kind != nil && (err == nil || !strings.Contains(err.Error(), "not support")) {
			t.Errorf("%+v: got %v", tc.spec, err)
		}
	}
	c, err := a.Open(context.Background(), agent.Spec{Model: legacyModel, AgentMode: "high", PermissionMode: schema.PermissionModeBypass}, newRecorder())
	if err != nil {
		t.Fatalf("0.1.11's amp-default with a listed mode: %v", err)
	}
	_ = c.Close(context.Background())
}

func TestModesFromHelpProbedOnce(t *testing.T) {
	a, _ := fakeAdapter(t, true)
	before := helpRuns.Load()
	var ids []string
	for range 3 {
		modes, err := a.Modes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ids = ids[:0]
		for _, m := range modes {
			ids = append(ids, m.ID)
		}
	}
	if strings.Join(ids, ",") != "build,low,medium,high,ultra" {
		t.Errorf("modes %v", ids)
	}
	if n := helpRuns.Load() - before; n != 1 {
		t.Errorf("amp --help ran %d times", n)
	}
}

func TestTurnsContinueTheThread(t *testing.T) {
	a, dir := fakeAdapter(t, true)
	rec := newRecorder()
	c, err := a.Open(context.Background(), agent.Spec{SessionID: "s", Dir: t.TempDir(), AgentMode: "high", PermissionMode: schema.PermissionModeBypass}, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if err := c.Send(context.Background(), agent.Prompt{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, schema.EventTurnEnded, 1)
	if err := c.Send(context.Background(), agent.Prompt{Text: "hello again"}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, schema.EventTurnEnded, 2)
	args := argLines(t, dir)
	if len(args) != 2 || args[0] != "--execute --stream-json --stream-json-input --stream-json-thinking --mode high" ||
		args[1] != "threads continue T-fake-1 --execute --stream-json --stream-json-input --stream-json-thinking --mode high" {
		t.Errorf("args %q", args)
	}
	var settings map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "settings.json"))
	if json.Unmarshal(b, &settings) != nil || settings["amp.dangerouslyAllowAll"] != true {
		t.Errorf("bypass settings %s", b)
	}
	if n := rec.count(schema.EventSessionStarted); n != 1 {
		t.Errorf("%d session.started for one thread", n)
	}
	if errs := rec.errors(); len(errs) != 0 {
		t.Errorf("errors %v", errs)
	}
	if rec.all()[0].Type != schema.EventItemStarted || rec.all()[0].Data.(*schema.ItemEventData).Item.Kind != schema.KindMessage {
		t.Errorf("the turn does not start with the user's item: %+v", rec.all()[0])
	}
}

func TestServiceRefusingEndsTurnAndSession(t *testing.T) {
	a, _ := fakeAdapter(t, true)
	rec := newRecorder()
	c, err := a.Open(context.Background(), agent.Spec{SessionID: "s", Dir: t.TempDir()}, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if err := c.Send(context.Background(), agent.Prompt{Text: "refuse"}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, schema.EventSessionEnded, 1)
	if errs := rec.errors(); len(errs) != 1 || errs[0] != "API request for getUserInfo failed: 404" {
		t.Errorf("errors %q", errs)
	}
	if rec.count(schema.EventTurnEnded) != 1 {
		t.Error("the turn did not end")
	}
	if err := c.Send(context.Background(), agent.Prompt{Text: "hello"}); err == nil {
		t.Error("a send after the session ended was taken")
	}
}

func TestInterruptStopsTheTurn(t *testing.T) {
	a, _ := fakeAdapter(t, true)
	rec := newRecorder()
	c, err := a.Open(context.Background(), agent.Spec{SessionID: "s", Dir: t.TempDir()}, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	live := process.Live()
	if err := c.Send(context.Background(), agent.Prompt{Text: "hang"}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, schema.EventSessionStarted, 1)
	if err := c.Interrupt(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, schema.EventTurnEnded, 1)
	if errs := rec.errors(); len(errs) != 0 {
		t.Errorf("an interrupt reported errors %v", errs)
	}
	var meta string
	for _, d := range rec.all() {
		if d.Type == schema.EventTurnEnded {
			meta = string(d.Data.(*schema.TurnEventData).Metadata)
		}
	}
	if !strings.Contains(meta, `"interrupted":true`) {
		t.Errorf("turn.ended metadata %s", meta)
	}
	if process.Live() > live {
		t.Error("the turn's process survived the interrupt")
	}
	// The session goes on.
	if err := c.Send(context.Background(), agent.Prompt{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, schema.EventTurnEnded, 2)
}

func TestQueuedMessageRunsAfterTheTurn(t *testing.T) {
	a, _ := fakeAdapter(t, true)
	rec := newRecorder()
	c, err := a.Open(context.Background(), agent.Spec{SessionID: "s", Dir: t.TempDir()}, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if err := c.Send(context.Background(), agent.Prompt{Text: "slow"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), agent.Prompt{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, schema.EventTurnEnded, 2)
	var texts []string
	for _, d := range rec.all() {
		if d.Type == schema.EventItemCompleted {
			if it := d.Data.(*schema.ItemEventData).Item; it.Kind == schema.KindMessage && len(it.Content) > 0 {
				texts = append(texts, it.Content[0].Text)
			}
		}
	}
	if strings.Join(texts, "|") != "slow|slow reply|hello|hello back" {
		t.Errorf("messages %q", texts)
	}
}

func TestCloseKillsTheTurnAndRemovesSettings(t *testing.T) {
	a, _ := fakeAdapter(t, true)
	rec := newRecorder()
	ci, err := a.Open(context.Background(), agent.Spec{SessionID: "s", Dir: t.TempDir()}, rec)
	if err != nil {
		t.Fatal(err)
	}
	c := ci.(*conn)
	live := process.Live()
	if err := c.Send(context.Background(), agent.Prompt{Text: "hang"}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, schema.EventSessionStarted, 1)
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if process.Live() >= live+1 {
		t.Error("the turn's process survived Close")
	}
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Errorf("settings dir %s left behind: %v", c.dir, err)
	}
}

func TestParseHelpOlderFlags(t *testing.T) {
	p := parseHelp("--execute\n--stream-json\n--dangerously-allow-all\n")
	if p.streamJSONInput || p.streamJSONThinking || !p.allowAllFlag || len(p.modes) != 0 {
		t.Errorf("%+v", p)
	}
	c := &conn{probe: p, conv: NewConverter(), spec: agent.Spec{PermissionMode: schema.PermissionModeBypass}}
	if got := strings.Join(c.args("hi there"), " "); got != "--execute hi there --stream-json --dangerously-allow-all" {
		t.Errorf("args %q", got)
	}
}

func TestSettingsFileCarriesMCPServers(t *testing.T) {
	on, off := true, false
	dir, err := writeSettings(agent.Spec{MCP: map[string]schema.McpServerConfig{
		"local":  {Type: schema.McpLocal, Command: []string{"node", "server.js"}, Args: []string{"--x"}, Env: map[string]string{"K": "V"}},
		"remote": {Type: schema.McpRemote, URL: "http://127.0.0.1:9/mcp", Headers: map[string]string{"Authorization": "Bearer t"}, Enabled: &on},
		"off":    {Type: schema.McpLocal, Command: []string{"nope"}, Enabled: &off},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	b, err := os.ReadFile(filepath.Join(dir, settingsFile))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		AllowAll bool                      `json:"amp.dangerouslyAllowAll"`
		Updates  string                    `json:"amp.updates.mode"`
		MCP      map[string]map[string]any `json:"amp.mcpServers"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.AllowAll || s.Updates != "disabled" || len(s.MCP) != 2 {
		t.Fatalf("settings %s", b)
	}
	if got, _ := json.Marshal(s.MCP["local"]); string(got) != `{"args":["server.js","--x"],"command":"node","env":{"K":"V"}}` {
		t.Errorf("local %s", got)
	}
	if got, _ := json.Marshal(s.MCP["remote"]); string(got) != `{"headers":{"Authorization":"Bearer t"},"url":"http://127.0.0.1:9/mcp"}` {
		t.Errorf("remote %s", got)
	}
}

// An interrupt that comes after the turn's result (its process still
// exiting) must not mark the next turn interrupted, which would swallow
// that turn's error.
func TestInterruptAfterResultDoesNotCarryOver(t *testing.T) {
	c := &conn{conv: NewConverter(), sink: newRecorder()}
	r := &run{ended: true}
	c.cur = r
	if err := c.Interrupt(context.Background()); err != nil || c.conv.Interrupted() {
		t.Fatalf("interrupt of an ended turn: %v, interrupted=%v", err, c.conv.Interrupted())
	}
	// The race the guard cannot see: noted just before the result was.
	r.stopping = true
	c.conv.NoteInterrupt()
	c.exited(r)
	if c.conv.Interrupted() {
		t.Error("the interrupt outlived its process")
	}
}

// GET /v1/agents reports Amp's own key, not the Anthropic one 0.1.11
// looked at: a session would be refused without it.
func TestCredentialsAvailableIsAmpsKey(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	var _ agent.CredentialChecker = (*Adapter)(nil)
	without, _ := fakeAdapter(t, false)
	if without.CredentialsAvailable() {
		t.Fatal("credentials available without AMP_API_KEY or amp login")
	}
	with, _ := fakeAdapter(t, true)
	if !with.CredentialsAvailable() {
		t.Fatal("AMP_API_KEY set, credentials not available")
	}
	if len(with.Info().CredentialProviders) != 0 {
		t.Fatalf("amp lists provider slots %v", with.Info().CredentialProviders)
	}
}
