package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/mcpstub"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Rows only OpenCode has (issue 11), registered in agent_opencode_test.go:
// the shared `opencode serve` and what comes with it.

const openCodeThought = "The user wants a greeting; keep it short."

var openCodeReasoningSteps = steps(fakellm.Thinking(openCodeThought, "Hello after thinking."))

// runOpenCodeReasoning: reasoning_content from the model streams as a
// reasoning item before the reply.
func runOpenCodeReasoning(r *Run) {
	r.CreateSession()
	evs := r.turn("Think, then greet me.")
	var reasoning *schema.Item
	for _, it := range completedItems(evs, schema.KindMessage, schema.RoleAssistant) {
		for _, p := range it.Content {
			if p.Type == schema.PartReasoning && strings.Contains(p.Text, openCodeThought) {
				reasoning = &it
			}
		}
	}
	if reasoning == nil {
		r.T.Fatalf("no reasoning item with the model's thought:\n%s", r.dumpFrom(0))
	}
	if got := strings.Join(deltasOf(evs, reasoning.ItemID, true), ""); !strings.Contains(got, openCodeThought) {
		r.T.Errorf("the thought was not streamed as deltas of its item: %q", got)
	}
	if !strings.Contains(assistantText(evs), "Hello after thinking.") {
		r.T.Errorf("reply missing: %q", assistantText(evs))
	}
}

// concurrentSteps answers each session by its own prompt, in whatever
// order their requests come.
var concurrentSteps = steps(fakellm.Repeat(2, fakellm.Func(func(q *fakellm.Request) fakellm.Step {
	if strings.Contains(q.LastUserText(), "second session") {
		return fakellm.Text("Reply to the second session.").WithDelay(time.Second)
	}
	return fakellm.Text("Reply to the first session.").WithDelay(time.Second)
}))...)

// runOpenCodeConcurrent: two sessions talk at once through one server
// process; each gets only its own reply.
func runOpenCodeConcurrent(r *Run) {
	r.CreateSession()
	second := r.SessionID + "-b"
	ctx, cancel := context.WithTimeout(r.ctx, 2*waitTimeout)
	defer cancel()
	if _, err := r.C.CreateSession(ctx, second, schema.CreateSessionRequest{Agent: "opencode", Directory: &r.Work}); err != nil {
		r.T.Fatalf("create the second session: %v", err)
	}
	var wg sync.WaitGroup
	var secondText string
	var secondErr error
	wg.Go(func() {
		var evs []schema.Event
		for ev, err := range r.C.StreamTurn(ctx, second, schema.MessageRequest{Message: "Hello from the second session."}, false) {
			if err != nil {
				secondErr = err
				return
			}
			evs = append(evs, ev)
		}
		secondText = assistantText(evs)
	})
	first := assistantText(r.turn("Hello from the first session."))
	wg.Wait()
	if secondErr != nil {
		r.T.Fatalf("second session's turn: %v", secondErr)
	}
	if !strings.Contains(first, "Reply to the first session.") || strings.Contains(first, "second") {
		r.T.Errorf("first session said %q", first)
	}
	if !strings.Contains(secondText, "Reply to the second session.") || strings.Contains(secondText, "first") {
		r.T.Errorf("second session said %q", secondText)
	}
	if n := len(r.openCodeServers()); n != 1 {
		r.T.Errorf("%d opencode serve processes, want one shared: %v", n, r.AgentProcs())
	}
}

// openCodeServers returns the `opencode serve` processes of the run.
func (r *Run) openCodeServers() []proc {
	var out []proc
	for _, p := range r.AgentProcs() {
		if strings.Contains(p.Cmd, " serve ") {
			out = append(out, p)
		}
	}
	return out
}

// serverStatus returns opencode's shared-server status from GET /v1/agents.
func (r *Run) serverStatus() (schema.AgentInfo, schema.ServerStatusInfo) {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	list, err := r.C.Agents(ctx)
	if err != nil {
		r.T.Fatalf("GET /v1/agents: %v", err)
	}
	for _, a := range list {
		if a.ID == "opencode" {
			if a.ServerStatus == nil {
				r.T.Fatalf("opencode has no serverStatus: %+v", a)
			}
			return a, *a.ServerStatus
		}
	}
	r.T.Fatalf("opencode is not listed")
	return schema.AgentInfo{}, schema.ServerStatusInfo{}
}

// runOpenCodeRestart: the shared server is killed between turns; it is
// restarted (restartCount counts it), the session re-attached, and the
// next turn has the earlier one in its context.
func runOpenCodeRestart(r *Run) {
	r.CreateSession()
	r.turn("Remember the code word PAPAYA.")
	srv := r.openCodeServers()
	if len(srv) != 1 {
		r.T.Fatalf("want one opencode serve process, have %v", r.AgentProcs())
	}
	if err := syscall.Kill(srv[0].PID, syscall.SIGKILL); err != nil {
		r.T.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		_, st := r.serverStatus()
		if st.RestartCount >= 1 && st.Status == schema.ServerRunning {
			break
		}
		if time.Now().After(deadline) {
			r.T.Fatalf("the server did not come back: %+v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := assistantText(r.turn("What was the code word?")); !strings.Contains(got, "The code word was PAPAYA.") {
		r.T.Errorf("the turn after the restart said %q", got)
	}
	r.checkHistory(r.StepRequest(1), "Remember the code word PAPAYA.", "Noted: the code word is PAPAYA.",
		"the turn after the restart lacks the first turn")
	for _, p := range r.openCodeServers() {
		if p.PID == srv[0].PID {
			r.T.Errorf("the killed server %s is still there", p)
		}
	}
}

// runOpenCodeModesModels: modes are the server's primary agents with its
// own descriptions; models come from its provider configuration; the
// agent list shows it installed at the pinned version with its server.
func runOpenCodeModesModels(r *Run) {
	ctx, cancel := context.WithTimeout(r.ctx, 2*waitTimeout)
	defer cancel()
	modes, err := r.C.AgentModes(ctx, "opencode")
	if err != nil {
		r.T.Fatalf("modes: %v", err)
	}
	var plan bool
	for _, m := range modes {
		plan = plan || (m.ID == "plan" && strings.Contains(m.Description, "Disallows all edit tools"))
		if m.ID == "title" || m.ID == "explore" {
			r.T.Errorf("hidden or sub-agent %q listed as a mode", m.ID)
		}
	}
	if !plan || len(modes) < 2 {
		r.T.Errorf("modes %+v: want build and the server's plan agent", modes)
	}
	ml, err := r.C.AgentModels(ctx, "opencode")
	if err != nil {
		r.T.Fatalf("models: %v", err)
	}
	var fake bool
	for _, m := range ml.Models {
		fake = fake || (m.ID == "fake/fake-model" && schema.Deref(m.Name) == "Fake Model")
	}
	if !fake || schema.Deref(ml.DefaultModel) != "fake/fake-model" {
		r.T.Errorf("models %+v default %v: want fake/fake-model from the config", ml.Models, ml.DefaultModel)
	}
	a, st := r.serverStatus()
	if !a.Installed || !strings.Contains(schema.Deref(a.Version), Pins["opencode"]) || !strings.HasPrefix(schema.Deref(a.Path), r.InstallDir) {
		r.T.Errorf("agent info %+v: want installed at %s with version %s", a, r.InstallDir, Pins["opencode"])
	}
	if st.Status != schema.ServerRunning && st.Status != schema.ServerStopped {
		r.T.Errorf("server status %+v", st)
	}
}

const userOpenCodeJSON = "{\n  \"$schema\": \"https://opencode.ai/config.json\",\n  // the user's own settings, comments and layout kept\n  \"instructions\": [],   \"autoupdate\": false\n}\n"

// runOpenCodeUserConfig: a project's own opencode.json (and the global
// one) are byte-identical after a session that edits files and changes
// permissions.
func runOpenCodeUserConfig(r *Run) {
	project := filepath.Join(r.Work, "opencode.json")
	if err := os.WriteFile(project, []byte(userOpenCodeJSON), 0o644); err != nil {
		r.T.Fatal(err)
	}
	global := filepath.Join(r.Home, ".config", "opencode", "opencode.json")
	before, err := os.ReadFile(global)
	if err != nil {
		r.T.Fatal(err)
	}
	r.CreateSession()
	evs := r.turn("Write notes.txt.")
	if got, _ := r.fileContent("notes.txt"); got != "hello e2e\n" {
		r.T.Errorf("notes.txt is %q; tool outputs %q", got, toolOutputs(evs))
	}
	if got, _ := os.ReadFile(project); string(got) != userOpenCodeJSON {
		r.T.Errorf("the project's opencode.json changed:\n%s", got)
	}
	if got, _ := os.ReadFile(global); !bytes.Equal(got, before) {
		r.T.Errorf("the global opencode.json changed:\n%s", got)
	}
}

var openCodeMCPSteps = steps(
	fakellm.Tool("stub_echo", map[string]any{"text": mcpEchoText}),
	fakellm.Text("The stub echoed."),
)

// runOpenCodeMCP: a local MCP server from the session config is added to
// the shared server (not written anywhere), offered to the model as
// stub_echo, and called.
func runOpenCodeMCP(r *Run) {
	stub := r.mcpStub()
	r.CreateSession(func(req *schema.CreateSessionRequest) {
		req.MCP = map[string]schema.McpServerConfig{
			"stub": {Type: schema.McpLocal, Command: []string{stub}, Env: map[string]string{"MCPSTUB_TAG": "opencode-e2e"}},
		}
	})
	evs := r.turn("Use the stub.")
	if !r.StepRequest(0).HasTool("stub_echo") {
		r.T.Errorf("the model was not offered stub_echo")
	}
	_, res, call, out := r.toolCall(evs, "stub_echo")
	if !strings.Contains(call.Arguments, mcpEchoText) {
		r.T.Errorf("the call's arguments %s", call.Arguments)
	}
	if want := mcpstub.EchoOutput("opencode-e2e", mcpEchoText); !strings.Contains(out.Output, want) || res.Status != schema.StatusCompleted {
		r.T.Errorf("the echo's result is %q (%s), want %q", out.Output, res.Status, want)
	}
	if got := joinResults(r.StepRequest(1).LatestToolResults()); !strings.Contains(got, mcpstub.EchoOutput("opencode-e2e", mcpEchoText)) {
		r.T.Errorf("the model did not get the echo: %q", got)
	}
	if _, err := os.Stat(filepath.Join(r.Work, "opencode.json")); err == nil {
		r.T.Errorf("an opencode.json was written into the project")
	}
}
