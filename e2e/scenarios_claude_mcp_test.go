package e2e

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/mcpstub"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Bodies of the Claude Code rows about the session's MCP servers and skills
// (reference §1.9), registered in agent_claude_test.go. The MCP server is
// internal/testkit/mcpstub: built once and started by the CLI itself over
// stdio, or served in this process over streamable HTTP.

var mcpStubBin struct {
	once sync.Once
	path string
	err  error
}

// mcpStub returns the path of the built mcpstub command. The build needs
// no network (the stub is standard library only), so it runs inside the
// test namespace.
func (r *Run) mcpStub() string {
	r.T.Helper()
	mcpStubBin.once.Do(func() {
		bin := filepath.Join(outDir(), "bin", "mcpstub")
		cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/sandbox-agent/sandbox-agent/internal/testkit/mcpstub/cmd")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOPROXY=off", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			mcpStubBin.err = fmt.Errorf("building mcpstub: %v\n%s", err, out)
			return
		}
		mcpStubBin.path = bin
	})
	if mcpStubBin.err != nil {
		r.T.Fatal(mcpStubBin.err)
	}
	return mcpStubBin.path
}

// turnAnswering waits for the end of the turn, answering every permission
// request on the way with reply, and returns the events since mark and the
// actions that were asked.
func (r *Run) turnAnswering(mark int, reply schema.PermissionReply) ([]schema.Event, []string) {
	r.T.Helper()
	var asked []string
	for {
		ev := r.Next("permission.requested or turn.ended", isType(schema.EventPermissionRequested, schema.EventTurnEnded))
		if ev.Type == schema.EventTurnEnded {
			return r.Since(mark), asked
		}
		p := permissionOf(ev)
		asked = append(asked, p.Action)
		r.replyPermission(p.PermissionID, reply)
	}
}

// toolCall returns the completed tool_call item of the named tool among
// evs, and its result item (zero when there is none).
func (r *Run) toolCall(evs []schema.Event, name string) (call, result schema.Item, callPart, resultPart schema.ContentPart) {
	r.T.Helper()
	for _, it := range completedItems(evs, schema.KindToolCall, "") {
		for _, p := range it.Content {
			if p.Type == schema.PartToolCall && p.Name == name {
				call, callPart = it, p
			}
		}
	}
	if call.ItemID == "" {
		r.T.Fatalf("no %s tool_call item; calls: %s\n%s", name, toolCallsOf(evs), r.dumpFrom(0))
	}
	for _, it := range completedItems(evs, schema.KindToolResult, "") {
		for _, p := range it.Content {
			if p.Type == schema.PartToolResult && p.CallID == callPart.CallID {
				result, resultPart = it, p
			}
		}
	}
	if result.ItemID == "" {
		r.T.Fatalf("no tool_result item for the %s call %s:\n%s", name, callPart.CallID, r.dumpFrom(0))
	}
	return call, result, callPart, resultPart
}

// agentMetadata returns what the CLI reported at start, as kept on the
// session.
func (r *Run) agentMetadata() map[string]json.RawMessage {
	r.T.Helper()
	info, err := r.C.Session(r.ctx, r.SessionID)
	if err != nil {
		r.T.Fatal(err)
	}
	var md map[string]json.RawMessage
	if err := json.Unmarshal(info.AgentMetadata, &md); err != nil {
		r.T.Fatalf("session agentMetadata %s: %v", info.AgentMetadata, err)
	}
	return md
}

// checkMCPServer checks that the CLI reported the session's MCP server as
// connected.
func (r *Run) checkMCPServer(name string) {
	r.T.Helper()
	var servers []struct{ Name, Status string }
	raw := r.agentMetadata()["mcpServers"]
	_ = json.Unmarshal(raw, &servers)
	for _, s := range servers {
		if s.Name == name && s.Status == "connected" {
			return
		}
	}
	r.T.Errorf("the CLI does not report MCP server %q as connected: %s", name, raw)
}

// offersDeferred checks that the first model request names the tool (the
// CLI defers MCP tools behind ToolSearch: the system prompt lists their
// names), and that the request after ToolSearch loaded it offers it with
// the stub's schema.
func (r *Run) offersDeferred(tool string) {
	r.T.Helper()
	first := r.StepRequest(0)
	if !first.HasTool(tool) && !strings.Contains(first.SystemText(), "\n"+tool+"\n") {
		r.T.Errorf("the first model request neither offers nor lists %s; tools %q", tool, first.Tools())
	}
	loaded := r.StepRequest(1)
	spec, ok := loaded.Tool(tool)
	if !ok {
		r.T.Errorf("after ToolSearch the model request does not offer %s; tools %q", tool, loaded.Tools())
		return
	}
	props, _ := spec.Schema["properties"].(map[string]any)
	if _, ok := props["text"]; !ok {
		r.T.Errorf("%s is offered without the stub's input schema: %v", tool, spec.Schema)
	}
}

// --- a local (stdio) MCP server

const mcpEchoText = "hello from the e2e session"

var claudeMCPSteps = steps(
	fakellm.Tool("ToolSearch", map[string]any{"query": "select:mcp__stub__echo,mcp__stub__fail,mcp__stub__sleep"}),
	fakellm.Tool("mcp__stub__echo", map[string]any{"text": mcpEchoText}),
	fakellm.Tool("mcp__stub__fail", map[string]any{"reason": "e2e says no"}),
	fakellm.Tool("mcp__stub__sleep", map[string]any{"ms": 120000}),
	fakellm.Text("The stub echoed, failed and timed out."),
)

// runClaudeMCP: a session whose config has a local MCP server (the stub,
// with args, env and a tool timeout), a disabled one and one that cannot
// start. The CLI starts the stub and reports it connected, and goes on
// without the broken one, which the session reports as a status item; the
// model loads the stub's tools with ToolSearch and calls them; each call
// asks permission (answered once), and the transcript has the calls and
// their results: the echo's output as text, the tool error as a failed
// result, and the slow call cut off by the session's timeoutMs.
func runClaudeMCP(r *Run) {
	stub := r.mcpStub()
	logPath := filepath.Join(filepath.Dir(r.Work), "mcpstub-calls.jsonl")
	r.CreateSession(func(req *schema.CreateSessionRequest) {
		req.MCP = map[string]schema.McpServerConfig{
			"stub": {Type: schema.McpLocal, Command: []string{stub, "-log"}, Args: []string{logPath},
				Env: map[string]string{"MCPSTUB_TAG": "local-e2e"}, TimeoutMs: schema.Ptr(uint64(1500))},
			"off":    {Type: schema.McpLocal, Command: []string{stub}, Enabled: schema.Ptr(false)},
			"broken": {Type: schema.McpLocal, Command: []string{filepath.Join(filepath.Dir(r.Work), "no-such-mcp-server")}},
		}
	})
	mark := r.Mark()
	t0 := time.Now()
	r.Send("Use the stub's tools.")
	evs, asked := r.turnAnswering(mark, schema.ReplyOnce)
	took := time.Since(t0)
	r.offersDeferred("mcp__stub__echo")
	if q := r.StepRequest(0); strings.Contains(q.SystemText(), "mcp__off__") || q.HasTool("mcp__off__echo") {
		r.T.Errorf("the disabled server's tools reached the model")
	}
	for _, want := range []string{"mcp__stub__echo", "mcp__stub__fail", "mcp__stub__sleep"} {
		if !containsAll(asked, want) {
			r.T.Errorf("no permission was asked for %s (asked %q)", want, asked)
		}
	}
	// The echo: its output as the stub wrote it, not JSON.
	_, res, call, out := r.toolCall(evs, "mcp__stub__echo")
	if !strings.Contains(call.Arguments, mcpEchoText) {
		r.T.Errorf("the echo call's arguments %s", call.Arguments)
	}
	if want := mcpstub.EchoOutput("local-e2e", mcpEchoText); out.Output != want || res.Status != schema.StatusCompleted {
		r.T.Errorf("the echo's result is %q (%s), want %q completed", out.Output, res.Status, want)
	}
	_, res, _, out = r.toolCall(evs, "mcp__stub__fail")
	if res.Status != schema.StatusFailed || !strings.Contains(out.Output, mcpstub.FailOutput("e2e says no")) {
		r.T.Errorf("the failing tool's result is %q (%s), want a failed result with the stub's error", out.Output, res.Status)
	}
	_, res, _, out = r.toolCall(evs, "mcp__stub__sleep")
	if res.Status != schema.StatusFailed || !strings.Contains(out.Output, "timed out") {
		r.T.Errorf("the slow tool's result is %q (%s), want a failed time-out after the session's timeoutMs", out.Output, res.Status)
	}
	if took > 60*time.Second {
		r.T.Errorf("the turn took %v: the tool timeout did not apply", took)
	}
	// ToolSearch's result names the tools it loaded, as text.
	_, _, _, out = r.toolCall(evs, "ToolSearch")
	if !strings.Contains(out.Output, "mcp__stub__echo") || strings.Contains(out.Output, "{") {
		r.T.Errorf("ToolSearch's result %q does not name the loaded tools as text", out.Output)
	}
	if got := joinResults(r.StepRequest(2).LatestToolResults()); !strings.Contains(got, mcpstub.EchoOutput("local-e2e", mcpEchoText)) {
		r.T.Errorf("the model did not get the echo: %q", got)
	}
	if !strings.Contains(assistantText(evs), "The stub echoed, failed and timed out.") {
		r.T.Errorf("final text %q", assistantText(evs))
	}
	r.checkMCPServer("stub")
	var broken bool
	for _, it := range completedItems(evs, schema.KindStatus, "") {
		for _, p := range it.Content {
			broken = broken || (p.Label == "mcp_server_failed" && strings.Contains(schema.Deref(p.Detail), `"broken"`))
		}
	}
	if !broken {
		r.T.Errorf("no mcp_server_failed status item for the server that cannot start:\n%s", r.dumpFrom(mark))
	}
	// The stub ran with the configured args (its call log) and saw the calls.
	b, err := os.ReadFile(logPath)
	if err != nil {
		r.T.Fatalf("the stub's call log (its -log argument): %v", err)
	}
	var calls []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var c mcpstub.Call
		if json.Unmarshal([]byte(l), &c) == nil && c.Method == "tools/call" {
			var p struct{ Name string }
			_ = json.Unmarshal(c.Params, &p)
			calls = append(calls, p.Name)
		}
	}
	if strings.Join(calls, ",") != "echo,fail,sleep" {
		r.T.Errorf("the stub received tool calls %q, want echo,fail,sleep", calls)
	}
}

// --- a remote (streamable HTTP) MCP server

// Values of the row's environment (agent_claude_test.go), which the CLI
// puts into the remote server's headers.
const (
	mcpToken  = "e2e-token-4711"
	mcpHeader = "e2e-header-0815"
)

var claudeMCPRemoteSteps = steps(
	fakellm.Tool("ToolSearch", map[string]any{"query": "select:mcp__web__echo"}),
	fakellm.Tool("mcp__web__echo", map[string]any{"text": mcpEchoText}),
	fakellm.Text("The remote stub echoed."),
)

// runClaudeMCPRemote: a remote MCP server (the stub over streamable HTTP in
// this process) with literal headers, a bearer token from an environment
// variable and a header from another one. The CLI connects, the model calls
// the tool, and every request the stub got carries the merged headers with
// the variables expanded from the session's environment.
func runClaudeMCPRemote(r *Run) {
	stub := &mcpstub.Server{Tag: "remote-e2e"}
	srv := httptest.NewServer(stub)
	r.T.Cleanup(srv.Close)
	r.CreateSession(func(req *schema.CreateSessionRequest) {
		req.MCP = map[string]schema.McpServerConfig{
			"web": {Type: schema.McpRemote, URL: srv.URL + "/mcp", Headers: map[string]string{"X-E2E-Literal": "plain"},
				BearerTokenEnvVar: schema.Ptr("E2E_MCP_TOKEN"), EnvHeaders: map[string]string{"X-E2E-Env": "E2E_MCP_HEADER"}},
		}
	})
	mark := r.Mark()
	r.Send("Use the remote stub.")
	evs, asked := r.turnAnswering(mark, schema.ReplyOnce)
	if len(asked) != 0 {
		r.T.Errorf("bypass asked permissions for %q", asked)
	}
	r.offersDeferred("mcp__web__echo")
	_, res, _, out := r.toolCall(evs, "mcp__web__echo")
	if want := mcpstub.EchoOutput("remote-e2e", mcpEchoText); out.Output != want || res.Status != schema.StatusCompleted {
		r.T.Errorf("the remote echo's result is %q (%s), want %q completed", out.Output, res.Status, want)
	}
	r.checkMCPServer("web")
	if n := len(stub.ToolCalls()); n != 1 {
		r.T.Errorf("the remote stub got %d tool calls, want 1", n)
	}
	for _, c := range stub.Calls() {
		if got := c.Header.Get("Authorization"); got != "Bearer "+mcpToken {
			r.T.Errorf("%s reached the stub with Authorization %q, want the bearer token from E2E_MCP_TOKEN", c.Method, got)
		}
		if got := c.Header.Get("X-E2E-Env"); got != mcpHeader {
			r.T.Errorf("%s reached the stub with X-E2E-Env %q, want E2E_MCP_HEADER's value", c.Method, got)
		}
		if got := c.Header.Get("X-E2E-Literal"); got != "plain" {
			r.T.Errorf("%s reached the stub with X-E2E-Literal %q", c.Method, got)
		}
	}
}

// --- skills

const (
	skillDescription = "Greets the e2e way. Use when the user asks for the e2e greeting."
	skillBody        = "Reply with exactly this line: SKILL-E2E-GREETING-42"
)

var claudeSkillsSteps = steps(
	fakellm.Tool("Skill", map[string]any{"skill": "e2e-greeter"}),
	fakellm.Text("SKILL-E2E-GREETING-42"),
)

// writeSkill writes a skill directory with a SKILL.md.
func writeSkill(r *Run, dir, name, description, body string) {
	r.T.Helper()
	md := "---\nname: " + name + "\ndescription: " + description + "\n---\n# " + name + "\n\n" + body + "\n"
	if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
		r.T.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name, "SKILL.md"), []byte(md), 0o644); err != nil {
		r.T.Fatal(err)
	}
}

// runClaudeSkills: a session whose config takes one skill of a local source
// that has two. The server links it into the session directory; the CLI
// lists it to the model (and not the other one), reports it at start, and
// the model's Skill call loads its SKILL.md into the conversation.
func runClaudeSkills(r *Run) {
	src := filepath.Join(filepath.Dir(r.Work), "skill-src")
	writeSkill(r, src, "e2e-greeter", skillDescription, skillBody)
	writeSkill(r, src, "e2e-unwanted", "Never offered: filtered out by the session config.", "Nothing.")
	r.CreateSession(func(req *schema.CreateSessionRequest) {
		req.Skills = &schema.SkillsConfig{Sources: []schema.SkillSource{{Type: "local", Source: src, Skills: []string{"e2e-greeter"}}}}
	})
	if _, err := os.Stat(filepath.Join(r.Work, ".claude", "skills", "e2e-greeter", "SKILL.md")); err != nil {
		r.T.Errorf("the skill is not linked into the session's .claude/skills: %v", err)
	}
	mark := r.Mark()
	r.Send("Give me the e2e greeting.")
	evs, asked := r.turnAnswering(mark, schema.ReplyOnce)
	r.T.Logf("permissions asked: %q", asked)
	first := r.StepRequest(0)
	if sys := first.SystemText(); !strings.Contains(sys, "- e2e-greeter: "+skillDescription) {
		r.T.Errorf("the model request does not list the skill e2e-greeter with its description")
	} else if strings.Contains(sys, "e2e-unwanted") {
		r.T.Errorf("the model request lists the filtered-out skill e2e-unwanted")
	}
	if spec, ok := first.Tool("Skill"); !ok {
		r.T.Errorf("the model request does not offer the Skill tool: %q", first.Tools())
	} else {
		r.T.Logf("Skill tool schema: %v", spec.Schema)
	}
	_, res, _, out := r.toolCall(evs, "Skill")
	if res.Status != schema.StatusCompleted || !strings.Contains(out.Output, "e2e-greeter") {
		r.T.Errorf("the Skill call's result is %q (%s)", out.Output, res.Status)
	}
	var loaded bool
	for _, m := range r.StepRequest(1).Messages() {
		loaded = loaded || (m.Role == "user" && strings.Contains(m.Text, skillBody))
	}
	if !loaded {
		r.T.Errorf("the model request after the Skill call does not carry the skill's SKILL.md")
	}
	if !strings.Contains(assistantText(evs), "SKILL-E2E-GREETING-42") {
		r.T.Errorf("final text %q", assistantText(evs))
	}
	var skills []string
	_ = json.Unmarshal(r.agentMetadata()["skills"], &skills)
	if !containsAll(skills, "e2e-greeter") || containsAll(skills, "e2e-unwanted") {
		r.T.Errorf("the session's agentMetadata skills %q should hold e2e-greeter only of the source's two", skills)
	}
}
