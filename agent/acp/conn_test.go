package acp

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/acp/registry"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/procs"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// recorder is a Sink that keeps every draft and lets a test wait for one.
type recorder struct {
	mu      sync.Mutex
	drafts  []agent.Draft
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) Emit(d agent.Draft) {
	r.mu.Lock()
	r.drafts = append(r.drafts, d)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// wait returns the index of the first draft from index from on that
// matches, failing the test after 20s.
func (r *recorder) wait(t *testing.T, from int, what string, match func(agent.Draft) bool) int {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		for i := from; i < len(r.drafts); i++ {
			if match(r.drafts[i]) {
				r.mu.Unlock()
				return i
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no %s within 20s; drafts: %s", what, r.dump())
		}
	}
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.drafts)
}

func (r *recorder) since(i int) []agent.Draft {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]agent.Draft(nil), r.drafts[i:]...)
}

func (r *recorder) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, d := range r.drafts {
		j, _ := json.Marshal(d.Data)
		b.WriteString("\n  " + string(d.Type) + " " + string(j))
	}
	return b.String()
}

func isType(t schema.EventType) func(agent.Draft) bool {
	return func(d agent.Draft) bool { return d.Type == t }
}

// fixture is one session with the fake agent.
type fixture struct {
	t    *testing.T
	dir  string
	log  string
	rec  *recorder
	conn *conn
	a    *Adapter
}

func fakeEntry() registry.Entry {
	return registry.Entry{ID: "fake-acp", Name: "Fake ACP", Bin: "fake-acp"}
}

func open(t *testing.T, spec agent.Spec) *fixture {
	t.Helper()
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: work, log: filepath.Join(dir, "wire.log"), rec: newRecorder()}
	f.a = New(fakeEntry(), Options{Binary: os.Args[0], Env: []string{envFake + "=1", envFakeLog + "=" + f.log}, InterruptGrace: 5 * time.Second})
	spec.Dir = work
	if spec.SessionID == "" {
		spec.SessionID = "s1"
	}
	c, err := f.a.Open(context.Background(), spec, f.rec)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	f.conn = c.(*conn)
	t.Cleanup(func() {
		_ = f.conn.Close(context.Background())
		f.checkWire()
	})
	return f
}

// turn sends text and returns the drafts of the turn it starts.
func (f *fixture) turn(text string) []agent.Draft {
	f.t.Helper()
	mark := f.rec.len()
	if err := f.conn.Send(context.Background(), agent.Prompt{Text: text}); err != nil {
		f.t.Fatalf("send %q: %v", text, err)
	}
	end := f.rec.wait(f.t, mark, "turn.ended", isType(schema.EventTurnEnded))
	return f.rec.since(mark)[:end-mark+1]
}

// checkWire validates everything the client and the agent said.
func (f *fixture) checkWire() {
	fh, err := os.Open(f.log)
	if err != nil {
		f.t.Errorf("no wire log: %v", err)
		return
	}
	defer fh.Close()
	var lines []wireLine
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		dir, body, _ := strings.Cut(sc.Text(), " ")
		lines = append(lines, wireLine{fromClient: dir == ">", raw: []byte(body)})
	}
	if n := schemaProtocol(f.t).check(f.t, lines); n < 4 {
		f.t.Errorf("only %d messages checked against the schema", n)
	}
}

func text(ds []agent.Draft, role schema.ItemRole, part schema.PartType) string {
	var out []string
	for _, d := range ds {
		if d.Type != schema.EventItemCompleted {
			continue
		}
		it := d.Data.(*schema.ItemEventData).Item
		if it.Role == nil || *it.Role != role {
			continue
		}
		for _, p := range it.Content {
			if p.Type == part {
				out = append(out, p.Text+p.Output)
			}
		}
	}
	return strings.Join(out, "|")
}

func parts(ds []agent.Draft, typ schema.PartType) []schema.ContentPart {
	var out []schema.ContentPart
	for _, d := range ds {
		if d.Type == schema.EventItemCompleted {
			for _, p := range d.Data.(*schema.ItemEventData).Item.Content {
				if p.Type == typ {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

func TestTextTurn(t *testing.T) {
	f := open(t, agent.Spec{})
	first := f.rec.since(0)
	if len(first) == 0 || first[0].NativeSessionID != "fake-session-1" {
		t.Fatalf("the session's first draft does not carry the agent's session id: %s", f.rec.dump())
	}
	ds := f.turn("Say hello.")
	if got := text(ds, schema.RoleAssistant, schema.PartText); got != "Hello from fake ACP." {
		t.Errorf("assistant text %q", got)
	}
	if got := text(ds, schema.RoleAssistant, schema.PartReasoning); got != "Let me answer." {
		t.Errorf("reasoning %q", got)
	}
	if got := text(ds, schema.RoleUser, schema.PartText); got != "Say hello." {
		t.Errorf("user message %q", got)
	}
	var deltas []string
	for _, d := range ds {
		if d.Type == schema.EventItemDelta {
			deltas = append(deltas, d.Data.(*schema.ItemDeltaData).Delta)
		}
	}
	if strings.Join(deltas, "") != "Let me answer.Hello from fake ACP." || len(deltas) != 3 {
		t.Errorf("deltas %q", deltas)
	}
	end := ds[len(ds)-1].Data.(*schema.TurnEventData)
	if !strings.Contains(string(end.Metadata), `"stopReason":"end_turn"`) || !strings.Contains(string(end.Metadata), `"totalTokens":10`) {
		t.Errorf("turn.ended metadata %s", end.Metadata)
	}
	modes, _ := f.a.Modes(context.Background())
	if len(modes) != 3 || modes[0].ID != "build" || modes[2].ID != "architect" {
		t.Errorf("modes %+v, want build then the agent's code and architect", modes)
	}
	ml, _ := f.a.Models(context.Background())
	if len(ml.Models) != 2 || schema.Deref(ml.DefaultModel) != "fake-small" {
		t.Errorf("models %+v", ml)
	}
}

// permissionTurn sends the tool prompt and answers its permission request.
func permissionTurn(t *testing.T, f *fixture, reply schema.PermissionReply) []agent.Draft {
	t.Helper()
	mark := f.rec.len()
	if err := f.conn.Send(context.Background(), agent.Prompt{Text: "Use the tool."}); err != nil {
		t.Fatal(err)
	}
	i := f.rec.wait(t, mark, "permission.requested", isType(schema.EventPermissionRequested))
	p := f.rec.since(i)[0].Data.(*schema.PermissionEventData)
	if p.Action != "execute" || !strings.Contains(string(p.Metadata), `"toolCallId":"call_1"`) {
		t.Errorf("permission %+v %s", p, p.Metadata)
	}
	if err := f.conn.Answer(context.Background(), agent.Reply{Kind: agent.ReplyPermission, ID: p.PermissionID, Permission: reply}); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if err := f.conn.Answer(context.Background(), agent.Reply{Kind: agent.ReplyPermission, ID: p.PermissionID, Permission: reply}); err == nil {
		t.Errorf("a second answer to %s was accepted", p.PermissionID)
	}
	end := f.rec.wait(t, mark, "turn.ended", isType(schema.EventTurnEnded))
	return f.rec.since(mark)[:end-mark+1]
}

func TestPermissionTerminalAndFiles(t *testing.T) {
	f := open(t, agent.Spec{})
	ds := permissionTurn(t, f, schema.ReplyOnce)
	if got := text(ds, schema.RoleTool, schema.PartToolResult); got != "fake-42\noops\n|" {
		t.Errorf("tool outputs %q: want the terminal's stdout and stderr, then the write's empty output", got)
	}
	if got := text(ds, schema.RoleAssistant, schema.PartText); !strings.Contains(got, `line 2: "two\n"`) || !strings.Contains(got, "write err <nil>") {
		t.Errorf("the agent's file calls: %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(f.dir, "sub", "notes.txt")); err != nil || string(b) != "one\ntwo\nthree\n" {
		t.Errorf("notes.txt: %q %v", b, err)
	}
	refs := parts(ds, schema.PartFileRef)
	if len(refs) != 1 || refs[0].Action != schema.FileWrite || !strings.HasSuffix(refs[0].Path, "sub/notes.txt") || !strings.Contains(schema.Deref(refs[0].Diff), "+three") {
		t.Errorf("file refs %+v", refs)
	}
	calls := parts(ds, schema.PartToolCall)
	if len(calls) != 2 || calls[0].Name != "Run echo" || !strings.Contains(calls[0].Arguments, "echo fake") {
		t.Errorf("tool calls %+v", calls)
	}
	// Released terminals are gone.
	if n := len(f.conn.terms.byID); n != 0 {
		t.Errorf("%d terminals left after release", n)
	}
}

func TestPermissionReject(t *testing.T) {
	f := open(t, agent.Spec{})
	ds := permissionTurn(t, f, schema.ReplyReject)
	if got := text(ds, schema.RoleAssistant, schema.PartText); got != "Not running it." {
		t.Errorf("after a rejection the agent said %q", got)
	}
	for _, d := range ds {
		if d.Type == schema.EventItemCompleted {
			if it := d.Data.(*schema.ItemEventData).Item; it.Kind == schema.KindToolResult && it.Status != schema.StatusFailed {
				t.Errorf("rejected tool's result is %s", it.Status)
			}
		}
	}
}

func TestPermissionAlwaysAndModes(t *testing.T) {
	f := open(t, agent.Spec{})
	permissionTurn(t, f, schema.ReplyAlways)
	// The same tool again: answered with the agent's "always" option.
	ds := f.turn("Use the tool again.")
	for _, d := range ds {
		if d.Type == schema.EventPermissionRequested {
			t.Errorf("asked again after always")
		}
	}
	if got := text(ds, schema.RoleTool, schema.PartToolResult); !strings.Contains(got, "fake-42") {
		t.Errorf("second run output %q", got)
	}
	for _, mode := range []string{schema.PermissionModeBypass} {
		g := open(t, agent.Spec{PermissionMode: mode})
		ds := g.turn("Use the tool.")
		for _, d := range ds {
			if d.Type == schema.EventPermissionRequested {
				t.Errorf("%s asked for permission", mode)
			}
		}
		if got := text(ds, schema.RoleTool, schema.PartToolResult); !strings.Contains(got, "fake-42") {
			t.Errorf("%s: output %q", mode, got)
		}
	}
	if _, err := f.a.Open(context.Background(), agent.Spec{Dir: t.TempDir(), PermissionMode: schema.PermissionModePlan}, newRecorder()); err == nil {
		t.Errorf("plan permission mode accepted")
	}
}

func TestFSConfinedToSessionDir(t *testing.T) {
	f := open(t, agent.Spec{})
	got := text(f.turn("escape"), schema.RoleAssistant, schema.PartText)
	for _, want := range []string{"read outside: jsonrpc error -32602", "write outside: jsonrpc error -32602", "missing: jsonrpc error -32002"} {
		if !strings.Contains(got, want) {
			t.Errorf("agent saw %q, want %q", got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(f.dir), "escaped.txt")); err == nil {
		t.Errorf("a write outside the session directory happened")
	}
}

func terminalPid(t *testing.T, c *conn) int {
	t.Helper()
	c.terms.mu.Lock()
	defer c.terms.mu.Unlock()
	for _, tm := range c.terms.byID {
		return tm.p.Pid()
	}
	t.Fatal("no terminal")
	return 0
}

func TestInterruptAndCloseKillTerminals(t *testing.T) {
	f := open(t, agent.Spec{})
	mark := f.rec.len()
	if err := f.conn.Send(context.Background(), agent.Prompt{Text: "hang"}); err != nil {
		t.Fatal(err)
	}
	f.rec.wait(t, mark, "the agent waiting", func(d agent.Draft) bool { return d.Type == schema.EventItemDelta })
	if err := f.conn.Interrupt(context.Background()); err != nil {
		t.Fatal(err)
	}
	end := f.rec.wait(t, mark, "turn.ended", isType(schema.EventTurnEnded))
	if md := string(f.rec.since(end)[0].Data.(*schema.TurnEventData).Metadata); !strings.Contains(md, `"stopReason":"cancelled"`) {
		t.Errorf("interrupted turn ended with %s", md)
	}
	// A second hanging turn; Close kills its terminal and the agent.
	mark = f.rec.len()
	if err := f.conn.Send(context.Background(), agent.Prompt{Text: "hang again"}); err != nil {
		t.Fatal(err)
	}
	f.rec.wait(t, mark, "the agent waiting", func(d agent.Draft) bool { return d.Type == schema.EventItemDelta })
	sleeper, agentPid := terminalPid(t, f.conn), f.conn.proc.Pid()
	if err := f.conn.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	procs.WaitGone(t, sleeper, 5*time.Second, "the terminal's process after Close")
	procs.WaitGone(t, agentPid, 5*time.Second, "the agent after Close")
	if err := f.conn.Send(context.Background(), agent.Prompt{Text: "hello"}); err == nil {
		t.Errorf("Send after Close succeeded")
	}
}

func TestCrashThenLoad(t *testing.T) {
	f := open(t, agent.Spec{})
	ds := f.turn("crash now")
	var e *schema.ErrorData
	for _, d := range ds {
		if d.Type == schema.EventError {
			e = d.Data.(*schema.ErrorData)
		}
	}
	if e == nil || schema.Deref(e.Code) != "process_exit" || !strings.Contains(string(e.Details), "crashing on purpose") || !strings.Contains(e.Message, "status 3") {
		t.Fatalf("crash reported as %+v", e)
	}
	// The next message loads the session in a new process; its replayed
	// history is not this session's news.
	ds = f.turn("Say hello.")
	if got := text(ds, schema.RoleAssistant, schema.PartText); got != "Hello from fake ACP." {
		t.Errorf("after the restart the agent said %q", got)
	}
	if got := text(ds, schema.RoleUser, schema.PartText); got != "Say hello." {
		t.Errorf("replayed history leaked: user text %q", got)
	}
}

// An agent that cannot load the session it crashed in goes on in a new
// one, and says the context is gone.
func TestCrashThenLoadFails(t *testing.T) {
	f := open(t, agent.Spec{})
	f.turn("crash and forget")
	ds := f.turn("Say hello.")
	if got := text(ds, schema.RoleAssistant, schema.PartText); got != "Hello from fake ACP." {
		t.Errorf("after the restart the agent said %q", got)
	}
	var lost string
	for _, d := range ds {
		if d.Type == schema.EventItemCompleted {
			for _, p := range d.Data.(*schema.ItemEventData).Item.Content {
				if p.Type == schema.PartStatus && p.Label == "session_lost" {
					lost = schema.Deref(p.Detail)
				}
			}
		}
	}
	if !strings.Contains(lost, "could not load session fake-session-1 (Resource not found: session)") {
		t.Errorf("no session_lost note: %q", lost)
	}
	n := 0
	for _, d := range f.rec.since(0) {
		if d.Type == schema.EventItemStarted && strings.HasPrefix(schema.Deref(d.Data.(*schema.ItemEventData).Item.NativeItemID), "acp_session_") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("session_started announced %d times", n)
	}
}

func TestCrashesEndSession(t *testing.T) {
	f := open(t, agent.Spec{})
	for i := range maxCrashes {
		mark := f.rec.len()
		if err := f.conn.Send(context.Background(), agent.Prompt{Text: "crash"}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		f.rec.wait(t, mark, "error", isType(schema.EventError))
	}
	i := f.rec.wait(t, 0, "session.ended", isType(schema.EventSessionEnded))
	d := f.rec.since(i)[0].Data.(*schema.SessionEndedData)
	if d.Reason != schema.EndError || d.Stderr == nil || !strings.Contains(schema.Deref(d.Stderr.Head)+schema.Deref(d.Stderr.Tail), "crashing on purpose") {
		t.Errorf("session.ended %+v", d)
	}
	if err := f.conn.Send(context.Background(), agent.Prompt{Text: "hello"}); err == nil {
		t.Errorf("Send after the session ended succeeded")
	}
}

func TestAgentError(t *testing.T) {
	f := open(t, agent.Spec{})
	ds := f.turn("fail please")
	var e *schema.ErrorData
	for _, d := range ds {
		if d.Type == schema.EventError {
			e = d.Data.(*schema.ErrorData)
		}
	}
	if e == nil || !strings.Contains(e.Message, "the model said no") {
		t.Fatalf("error %+v; drafts %s", e, f.rec.dump())
	}
	// The session goes on.
	if got := text(f.turn("Say hello."), schema.RoleAssistant, schema.PartText); got != "Hello from fake ACP." {
		t.Errorf("after the error: %q", got)
	}
}

func TestModeModelAndMCP(t *testing.T) {
	f := open(t, agent.Spec{AgentMode: "architect", Model: "fake-large", MCP: map[string]schema.McpServerConfig{
		"files": {Type: schema.McpLocal, Command: []string{"mcp-files", "--root"}, Args: []string{"."}, Env: map[string]string{"B": "2", "A": "1"}},
		"web":   {Type: schema.McpRemote, URL: "http://127.0.0.1:9/mcp", Headers: map[string]string{"X-Key": "k"}},
	}})
	b, err := os.ReadFile(filepath.Join(f.dir, ".fake-mcp.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"name":"files","command":"mcp-files","args":["--root","."],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},{"type":"http","name":"web","url":"http://127.0.0.1:9/mcp","headers":[{"name":"X-Key","value":"k"}]}]`
	if string(b) != want {
		t.Errorf("mcpServers\n got %s\nwant %s", b, want)
	}
	log, _ := os.ReadFile(f.log)
	if !strings.Contains(string(log), `"method":"session/set_mode","params":{"sessionId":"fake-session-1","modeId":"architect"}`) ||
		!strings.Contains(string(log), `"method":"session/set_config_option","params":{"sessionId":"fake-session-1","configId":"model","value":"fake-large"}`) {
		t.Errorf("mode and model not set: %s", log)
	}
	ds := f.turn("extras")
	var labels []string
	for _, d := range ds {
		if d.Type == schema.EventItemCompleted {
			for _, p := range d.Data.(*schema.ItemEventData).Item.Content {
				if p.Type == schema.PartStatus {
					labels = append(labels, p.Label+"="+schema.Deref(p.Detail))
				}
			}
		}
	}
	want2 := "plan=1. [completed] Look around\n2. [pending] Change things,available_commands=/init,mode=architect"
	if strings.Join(labels, ",") != want2 {
		t.Errorf("status items %q", labels)
	}
	if md := string(ds[len(ds)-1].Data.(*schema.TurnEventData).Metadata); !strings.Contains(md, `"contextUsed":1200`) {
		t.Errorf("usage not in turn.ended: %s", md)
	}
	// Unknown modes and models are refused at Open.
	for _, spec := range []agent.Spec{{AgentMode: "nope"}, {Model: "nope"}} {
		spec.Dir = t.TempDir()
		if _, err := f.a.Open(context.Background(), spec, newRecorder()); err == nil {
			t.Errorf("%+v accepted", spec)
		}
	}
}

func TestCredentialsRequired(t *testing.T) {
	e := fakeEntry()
	e.CredentialVars = []string{"FAKE_ACP_KEY"}
	a := New(e, Options{Binary: os.Args[0], HasCredentials: nil})
	_, err := a.Open(context.Background(), agent.Spec{Dir: t.TempDir()}, newRecorder())
	if err == nil || !strings.Contains(err.Error(), "FAKE_ACP_KEY") {
		t.Errorf("open without credentials: %v", err)
	}
}

func TestNotInstalled(t *testing.T) {
	a := New(fakeEntry(), Options{Binary: "/nonexistent/fake-acp"})
	if _, err := a.Open(context.Background(), agent.Spec{Dir: t.TempDir()}, newRecorder()); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("open: %v", err)
	}
	st, _ := a.Status(context.Background())
	if st.Installed {
		t.Errorf("status %+v", st)
	}
}

// MissingFileEmpty (Gemini CLI's quirk) reads a missing file as empty;
// anything else stays an error, and nothing outside the directory opens.
func TestMissingFileEmpty(t *testing.T) {
	dir := t.TempDir()
	f, err := openFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if _, e := f.read(readTextFileParams{Path: dir + "/missing.txt"}); e == nil || e.Code != codeResourceNotFound {
		t.Errorf("missing file: %v", e)
	}
	f.missingEmpty = true
	if res, e := f.read(readTextFileParams{Path: dir + "/missing.txt"}); e != nil || res.Content != "" {
		t.Errorf("missing file with the quirk: %q %v", res.Content, e)
	}
	if _, e := f.read(readTextFileParams{Path: "/etc/hostname"}); e == nil {
		t.Errorf("outside the directory with the quirk: no error")
	}
}
