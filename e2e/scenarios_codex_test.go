package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Bodies of the rows only Codex has (issue 10), registered in
// agent_codex_test.go.

// codexServer returns the one app-server process of the run; Codex runs
// every session of a server in one shared process.
func (r *Run) codexServer() proc {
	r.T.Helper()
	var all []proc
	pids := map[int]bool{}
	for _, p := range r.AgentProcs() {
		if strings.Contains(p.Cmd, "app-server") {
			all = append(all, p)
			pids[p.PID] = true
		}
	}
	// A child the server forks shows its parent's command line until it
	// execs; only the topmost app-server counts.
	var out []proc
	for _, p := range all {
		if !pids[p.PPID] {
			out = append(out, p)
		}
	}
	if len(out) != 1 {
		r.T.Fatalf("want one codex app-server under the server, found %v (all: %v)", out, markedProcs(r.ID))
	}
	return out[0]
}

// codexStatus returns codex's serverStatus from GET /v1/agents.
func (r *Run) codexStatus() schema.ServerStatusInfo {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	agents, err := r.C.Agents(ctx)
	if err != nil {
		r.T.Fatalf("agents: %v", err)
	}
	for _, a := range agents {
		if a.ID == "codex" {
			if a.ServerStatus == nil {
				r.T.Fatalf("codex has no serverStatus: %+v", a)
			}
			return *a.ServerStatus
		}
	}
	r.T.Fatal("codex not listed")
	return schema.ServerStatusInfo{}
}

func runCodexReasoning(r *Run) {
	r.CreateSession()
	evs := r.turn("Think first.")
	var reasoning string
	for _, it := range completedItems(evs, schema.KindMessage, schema.RoleAssistant) {
		for _, p := range it.Content {
			if p.Type == schema.PartReasoning {
				reasoning += p.Text
				if live := deltasOf(evs, it.ItemID, true); len(live) == 0 {
					r.T.Errorf("the reasoning item %s was not streamed as item.delta", it.ItemID)
				}
			}
		}
	}
	if !strings.Contains(reasoning, codexThought) {
		r.T.Errorf("no reasoning part with %q; assistant items: %s", codexThought, r.dumpFrom(0))
	}
	if !strings.Contains(assistantText(evs), "Thought it through.") {
		r.T.Errorf("final text missing: %q", assistantText(evs))
	}
	req := r.StepRequest(0)
	if m, _ := req.JSON["model"].(string); m != "gpt-5.4" {
		r.T.Errorf("the model request used model %q, want the session's gpt-5.4", m)
	}
	if eff, _ := req.JSON["reasoning"].(map[string]any); eff["effort"] != "low" {
		r.T.Errorf("the model request's reasoning %v, want effort low (the session's variant)", req.JSON["reasoning"])
	}
}

const codexThought = "The user wants me to think about e2e first."

func runCodexCommandOutput(r *Run) {
	r.CreateSession()
	evs := r.turn("Count to three, then fail.")
	var result *schema.Item
	for _, it := range completedItems(evs, schema.KindToolResult, schema.RoleTool) {
		if strings.Contains(it.Content[0].Output, "line-3") {
			result = &it
		}
	}
	if result == nil {
		r.T.Fatalf("no tool_result with the command's output line-3: %s", toolOutputs(evs))
	}
	out := result.Content[0].Output
	if !strings.Contains(out, "line-1\nline-2\nline-3") {
		r.T.Errorf("tool_result output %q, want the three lines", out)
	}
	// The CLI streams what the command prints after it started (the
	// first line may come with the start); each later line is its own delta.
	if live := deltasOf(evs, result.ItemID, true); len(live) < 2 || !strings.Contains(out, strings.Join(live, "")) {
		r.T.Errorf("the command's output was not streamed as item.delta of its result (live deltas %q, output %q)", live, out)
	}
	var meta struct {
		ExitCode   *int   `json:"exitCode"`
		DurationMs *int64 `json:"durationMs"`
		Status     string `json:"status"`
	}
	for _, p := range result.Content {
		if p.Type == schema.PartJSON {
			_ = json.Unmarshal(p.JSON, &meta)
		}
	}
	if meta.ExitCode == nil || *meta.ExitCode != 3 || meta.DurationMs == nil {
		r.T.Errorf("result metadata %+v, want exit code 3 and a duration", meta)
	}
	if result.Status != schema.StatusFailed {
		r.T.Errorf("a command that exited 3 has result status %q, want failed", result.Status)
	}
	var sawCall bool
	for _, p := range parts(evs, schema.PartToolCall) {
		sawCall = sawCall || strings.Contains(p.Arguments, "line-$i")
	}
	if !sawCall {
		r.T.Errorf("no tool_call carrying the command: %s", toolCallsOf(evs))
	}
}

// codexSession is a second session of the same server, with its events.
type codexSession struct {
	id  string
	evs chan schema.Event
}

func (r *Run) secondSession(id string) *codexSession {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	if _, err := r.C.CreateSession(ctx, id, schema.CreateSessionRequest{Agent: "codex", Directory: &r.Work}); err != nil {
		r.T.Fatalf("create %s: %v", id, err)
	}
	s := &codexSession{id: id, evs: make(chan schema.Event, 1000)}
	go func() {
		for ev, err := range r.C.StreamEvents(r.ctx, id, client.StreamOptions{}) {
			if err != nil {
				return
			}
			s.evs <- ev
		}
	}()
	return s
}

// turnText waits for the session's next turn.ended and returns the
// assistant text of the turn.
func (s *codexSession) turnText(r *Run) string {
	r.T.Helper()
	var evs []schema.Event
	timeout := time.After(waitTimeout)
	for {
		select {
		case ev := <-s.evs:
			evs = append(evs, ev)
			if ev.Type == schema.EventTurnEnded {
				return assistantText(evs)
			}
		case <-timeout:
			r.T.Fatalf("session %s: no turn.ended within %s", s.id, waitTimeout)
		}
	}
}

var codexTwoSessions = fakellm.Func(func(q *fakellm.Request) fakellm.Step {
	switch u := q.LastUserText(); {
	case strings.Contains(u, "first session"):
		return fakellm.Text("Answer for the first session.")
	case strings.Contains(u, "second session"):
		return fakellm.Text("Answer for the second session.")
	}
	return fakellm.Text("Answer for nobody.")
})

func runCodexSharedServer(r *Run) {
	if st := r.codexStatus(); st.Status != schema.ServerStopped {
		r.T.Errorf("before any session the app-server is %q, want stopped", st.Status)
	}
	r.CreateSession()
	other := r.secondSession("e2e-codex-second-" + r.ID)
	server := r.codexServer()
	if st := r.codexStatus(); st.Status != schema.ServerRunning || st.UptimeMs == nil {
		r.T.Errorf("with two sessions the status is %+v, want running with an uptime", st)
	}
	mark := r.Mark()
	r.Send("This is the first session.")
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	if err := r.C.SendMessage(ctx, other.id, schema.MessageRequest{Message: "This is the second session."}); err != nil {
		r.T.Fatalf("send to the second session: %v", err)
	}
	if got := assistantText(r.turnEnded(mark)); !strings.Contains(got, "Answer for the first session.") {
		r.T.Errorf("the first session got %q", got)
	}
	if got := other.turnText(r); !strings.Contains(got, "Answer for the second session.") {
		r.T.Errorf("the second session got %q", got)
	}
	if p := r.codexServer(); p.PID != server.PID {
		r.T.Errorf("the app-server changed from %s to %s", server, p)
	}
	// Ending one session keeps the server for the other; the last one
	// takes it down.
	if err := r.C.Terminate(ctx, other.id); err != nil {
		r.T.Fatal(err)
	}
	if !alive(server.PID) {
		r.T.Fatalf("the app-server died with the first of two sessions")
	}
	if err := r.C.Terminate(ctx, r.SessionID); err != nil {
		r.T.Fatal(err)
	}
	if !gone(server.PID, time.Now().Add(10*time.Second)) {
		r.T.Errorf("the app-server %s still runs after the last session ended", server)
	}
	if st := r.codexStatus(); st.Status != schema.ServerStopped {
		r.T.Errorf("after the last session the status is %q, want stopped", st.Status)
	}
}

func runCodexServerKilled(r *Run) {
	r.CreateSession()
	r.turn("Remember the code word PAPAYA.")
	victim := r.codexServer()
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		r.T.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		st := r.codexStatus()
		if st.Status == schema.ServerRunning && st.RestartCount == 1 {
			if st.LastError == nil || !strings.Contains(*st.LastError, "SIGKILL") {
				r.T.Errorf("lastError %v does not say how the server died", st.LastError)
			}
			break
		}
		if time.Now().After(deadline) {
			r.T.Fatalf("the app-server did not come back: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if p := r.codexServer(); p.PID == victim.PID {
		r.T.Fatalf("still the killed process %s", p)
	}
	if got := assistantText(r.turn("What was the code word?")); !strings.Contains(got, "The code word was PAPAYA.") {
		r.T.Errorf("the turn after the restart said %q", got)
	}
	r.checkHistory(r.StepRequest(1), "Remember the code word PAPAYA.", "Noted: the code word is PAPAYA.",
		"the resumed thread lost the first turn")
}

func runCodexModels(r *Run) {
	ml, ids := r.models()
	variants := 0
	for _, m := range ml.Models {
		variants += len(m.Variants)
	}
	// The fallback list has four models; the CLI's catalog has more.
	if len(ids) <= 4 || !containsAll(ids, "gpt-5.5") || variants == 0 {
		r.T.Errorf("models %q (%d variants) do not look like the CLI's catalog", ids, variants)
	}
	if ml.DefaultModel == nil || *ml.DefaultModel != "gpt-5.5" {
		r.T.Errorf("default model %v, want gpt-5.5 (the model of CODEX_HOME's config)", ml.DefaultModel)
	}
	// The listing's app-server stops when nothing else uses it.
	if st := r.codexStatus(); st.Status != schema.ServerStopped {
		r.T.Errorf("after listing models the app-server is %q, want stopped", st.Status)
	}
}

func runCodexAttachments(r *Run) {
	r.sendAttachments()
	// The model got both images as input_image parts of the newest user
	// message, and the text naming the file.
	var images int
	var text string
	input, _ := r.StepRequest(0).JSON["input"].([]any)
	for i := len(input) - 1; i >= 0; i-- {
		m, _ := input[i].(map[string]any)
		if m["role"] != "user" {
			continue
		}
		content, _ := m["content"].([]any)
		for _, c := range content {
			b, _ := c.(map[string]any)
			switch b["type"] {
			case "input_image":
				if u, _ := b["image_url"].(string); strings.HasPrefix(u, "data:image/png;base64,") {
					images++
				}
			case "input_text":
				t, _ := b["text"].(string)
				text += t
			}
		}
		if images > 0 || strings.Contains(text, "Describe the attachments.") {
			break
		}
		text = ""
	}
	if images != 2 {
		r.T.Errorf("the model got %d PNG input_image parts, want 2", images)
	}
	if !strings.Contains(text, "Describe the attachments.") || !strings.Contains(text, filepath.Join(r.Work, "att", "notes.txt")) {
		r.T.Errorf("the model's user text %q lacks the message or the attached file's path", text)
	}
}

func runCodexNoCredentials(r *Run) {
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	_, err := r.C.CreateSession(ctx, "e2e-codex-nocreds-"+r.ID, schema.CreateSessionRequest{Agent: "codex", Directory: &r.Work})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Problem == nil {
		r.T.Fatalf("create without credentials: %v, want a problem document", err)
	}
	pe := ce.Problem
	if pe.Status != 400 || pe.Kind() != "invalid_request" || !strings.Contains(pe.Detail, "OPENAI_API_KEY") || pe.Details["variable"] != "OPENAI_API_KEY" {
		r.T.Errorf("problem %d %s %q %v, want 400 invalid_request naming OPENAI_API_KEY", pe.Status, pe.Kind(), pe.Detail, pe.Details)
	}
	if procs := r.AgentProcs(); len(procs) != 0 {
		r.T.Errorf("a refused session left processes: %v", procs)
	}
}

// runCodexMCP: a local (stdio) MCP server from the session config, with
// args and env, reaches the CLI through thread/start's config: the CLI
// starts it and reports it ready (a status item), the disabled one not.
// At 0.169 the CLI defers MCP tools behind its tool_search tool, a
// Responses tool type fakellm cannot call, so no call is made here.
func runCodexMCP(r *Run) {
	stub := r.mcpStub()
	calls := filepath.Join(filepath.Dir(r.Work), "mcpstub-calls.jsonl")
	r.CreateSession(func(req *schema.CreateSessionRequest) {
		req.MCP = map[string]schema.McpServerConfig{
			"stub": {Type: schema.McpLocal, Command: []string{stub, "-log"}, Args: []string{calls},
				Env: map[string]string{"MCPSTUB_TAG": "codex-e2e"}},
			"off": {Type: schema.McpLocal, Command: []string{stub, "-log", calls + ".off"}, Enabled: schema.Ptr(false)},
		}
	})
	r.turn("Which MCP tools do you have?")
	// The CLI reports its MCP servers' start-up on its own schedule (a
	// session-level status, not part of the turn): it may come after the
	// turn's end.
	var ready, other []string
	r.until(waitTimeout, func(evs []schema.Event) bool {
		ready, other = nil, nil
		for _, it := range completedItems(evs, schema.KindStatus, "") {
			for _, p := range it.Content {
				if p.Type == schema.PartStatus && strings.HasPrefix(p.Label, "mcp_server_") {
					if p.Label == "mcp_server_ready" {
						ready = append(ready, schema.Deref(p.Detail))
					} else {
						other = append(other, p.Label+" "+schema.Deref(p.Detail))
					}
				}
			}
		}
		return len(ready) > 0 || len(other) > 0
	})
	if strings.Join(ready, ",") != "stub" || len(other) > 0 {
		r.T.Errorf("MCP status items: ready %q, other %q; want only stub ready", ready, other)
	}
	// The CLI started the stub with the session's args (its env is the
	// CLI's choice, so it is found by command line, not by run marker).
	var running []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), calls) {
			running = append(running, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	if len(running) != 1 || strings.Contains(running[0], ".off") {
		r.T.Errorf("MCP server processes %q: want the enabled stub alone", running)
	}
}

// codexFailures: the model API's 401, 429 and a model that does not exist
// each end their turn with an error event whose code is the CLI's error
// kind.
var codexFailures = []apiFailure{
	{fakellm.APIError{Status: 401, Message: "e2e: invalid api key", NoRetry: true}, "unauthorized", "e2e: invalid api key"},
	{fakellm.APIError{Status: 429, Message: "e2e: rate limited", NoRetry: true}, "rateLimitExceeded", ""},
	{fakellm.APIError{Status: 404, Code: "model_not_found", Message: "e2e: no such model", NoRetry: true}, "modelNotFound", "e2e: no such model"},
}

var codexAPIErrors = apiFailures(codexFailures...)

func runCodexAPIErrors(r *Run) { r.checkAPIFailures(codexFailures...) }

// runCodexInterrupt: an interrupt while a command waits for approval ends
// the turn and withdraws the request; the command never runs, and the
// thread answers the next message.
func runCodexInterrupt(r *Run) {
	r.CreateSession()
	mark := r.Mark()
	r.Send("Create interrupted.txt.")
	p := permissionOf(r.Next("permission.requested", isType(schema.EventPermissionRequested)))
	r.interrupt()
	if st := permissionOf(r.Next("permission.resolved", resolvedPermission(p.PermissionID))).Status; st != schema.PermissionReject {
		r.T.Errorf("the pending permission resolved as %q, want reject (withdrawn)", st)
	}
	// Interrupt returns once the CLI ended the turn, so the turn's end is
	// the CLI's (status interrupted), not one the session had to make up;
	// a late CLI end would otherwise close the next turn.
	evs := r.turnEnded(mark)
	var md struct {
		Status string `json:"status"`
	}
	for _, ev := range ofType(evs, schema.EventTurnEnded) {
		_ = json.Unmarshal(ev.Data.(*schema.TurnEventData).Metadata, &md)
	}
	if md.Status != "interrupted" {
		r.T.Errorf("turn ended with status %q, want the CLI's interrupted", md.Status)
	}
	if _, ok := r.fileContent("interrupted.txt"); ok {
		r.T.Errorf("the command ran although the turn was interrupted")
	}
	if got := assistantText(r.turn("Still there?")); !strings.Contains(got, "Still here.") {
		r.T.Errorf("the turn after the interrupt said %q", got)
	}
}

// runCodexBaseURL: a user config without a provider of its own, and
// OPENAI_BASE_URL and OPENAI_API_KEY in the server's environment (which
// the CLI itself ignores): the model is reached there with that key, and
// the user's config.toml is left as it was.
func runCodexBaseURL(r *Run) {
	cfg := filepath.Join(r.Home, ".codex", "config.toml")
	const mine = "model = \"gpt-5.5\"\ncheck_for_update_on_startup = false\n\n[features]\nplugins = false\nremote_plugin = false\napps = false\n"
	if err := os.WriteFile(cfg, []byte(mine), 0o644); err != nil {
		r.T.Fatal(err)
	}
	r.CreateSession()
	if got := assistantText(r.turn("Say hello.")); !strings.Contains(got, "Hello through the base URL.") {
		r.T.Errorf("the turn said %q", got)
	}
	if auth := r.StepRequest(0).Header.Get("Authorization"); auth != "Bearer test" {
		r.T.Errorf("the model request's Authorization %q, want OPENAI_API_KEY's Bearer test", auth)
	}
	if b, _ := os.ReadFile(cfg); string(b) != mine {
		r.T.Errorf("the user's config.toml changed:\n%s", b)
	}
}
