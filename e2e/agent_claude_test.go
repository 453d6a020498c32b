package e2e

import (
	"time"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Claude Code: Anthropic Messages API at ANTHROPIC_BASE_URL, a fake key,
// and the switches that keep it off the network (no telemetry, update
// checks or title requests). See shared/reference/real-agents-offline.md.
func init() {
	RegisterAgent(Agent{
		Name: "claude",
		Env: func(r *Run) []string {
			return claudeEnv(r.LLM.URL())
		},
		Rows: map[string]Row{
			// Nothing listens there: model discovery must fall back.
			"claude-models-fallback": {Env: []string{"ANTHROPIC_BASE_URL=" + deadProxy}},
			// A durable store in the row's data directory (issue 16).
			"claude-server-restart": {Env: []string{"SANDBOX_AGENT_STORE=sqlite"}},
			// What the remote MCP server's headers refer to.
			"claude-mcp-remote": {Env: []string{"E2E_MCP_TOKEN=" + mcpToken, "E2E_MCP_HEADER=" + mcpHeader}},
		},
		Wire: func(w *Wire) {
			out := w.Run(claudeEnv(w.LLM.URL()),
				"-p", "--output-format", "stream-json", "--verbose", "--include-partial-messages",
				"--permission-mode", "acceptEdits", "--allowedTools=Bash", "Do the wire check.")
			w.Check(out)
		},
	})

	// Rows only Claude Code has (issue 5); bodies in scenarios_claude_test.go.
	only := []string{"claude"}
	for _, s := range []Scenario{
		{ID: "claude-thinking", Title: "Claude: thinking streamed as reasoning items, before a tool call and in a later turn; model and effort passed on",
			Run: runClaudeThinking, Steps: claudeThinkingSteps, Session: func(req *schema.CreateSessionRequest) {
				req.Model, req.Variant = schema.Ptr("claude-sonnet-4-6"), schema.Ptr("low")
			}},
		{ID: "claude-one-process", Title: "Claude: three turns answered by one process (same pid, no --resume)",
			Run: runClaudeOneProcess, Steps: steps(fakellm.Text("Noted: the code word is PAPAYA."), fakellm.Text("The code word was PAPAYA."), fakellm.Text("You are welcome."))},
		{ID: "claude-resume", Title: "Claude: process killed between turns; the next turn resumes it (--resume) with context",
			Run: runClaudeResume, Steps: steps(fakellm.Text("Noted: the code word is PAPAYA."), fakellm.Text("The code word was PAPAYA."))},
		{ID: "claude-server-restart", Title: "Claude: server SIGKILLed mid-turn with --store sqlite; after the restart the log is intact, the session detached, and the next message resumes it (--resume) with context",
			Run: runClaudeServerRestart, Steps: steps(fakellm.Text("Noted: the code word is PAPAYA."),
				fakellm.Text("This reply never arrives.").WithDelay(10*time.Minute), fakellm.Text("The code word was PAPAYA."))},
		{ID: "claude-attachments", Title: "Claude: image (data URL, file, URL) and text file attachments reach the model as content blocks",
			Run: runClaudeAttachments, Steps: steps(fakellm.Text("A pixel, twice, and a note."))},
		{ID: "claude-models", Title: "Claude: models listed from the Anthropic endpoint (ANTHROPIC_BASE_URL)",
			Run: runClaudeModels},
		{ID: "claude-models-fallback", Title: "Claude: models fall back to the reference's aliases when the endpoint is unreachable",
			Run: runClaudeModelsFallback},
		{ID: "claude-accept-edits", Title: "Claude: acceptEdits writes without asking; other commands still ask",
			Run: runClaudeAcceptEdits, Session: permissionMode(schema.PermissionModeAcceptEdits),
			Steps: steps(fakellm.Write("accepted.txt", "accept-edits e2e\n"), fakellm.Text("Wrote accepted.txt."),
				fakellm.Bash("node -e 'console.log(42)'"), fakellm.Text("Not running it then."))},
		{ID: "claude-bypass", Title: "Claude: bypass runs commands and writes without asking",
			Run: runClaudeBypass, Session: permissionMode(schema.PermissionModeBypass),
			Steps: steps(fakellm.Write("bypass.txt", "bypass e2e\n"), fakellm.Bash("touch bypass-ran.txt && echo e2e-bypass-$((6*7))"), fakellm.Text("Both done."))},
		{ID: "claude-interrupt", Title: "Claude: interrupt mid-stream or during a permission ends the turn (interrupted, request withdrawn); the same process answers next",
			Run: runClaudeInterrupt,
			Steps: steps(fakellm.TextChunks("Once upon", " a time", " there was", " a very", " long", " story", " that", " never", " ended.").WithEventDelay(time.Second),
				fakellm.Text("Still here."), fakellm.Bash("touch interrupted.txt"), fakellm.Text("Yes."))},
		{ID: "claude-subagent", Title: "Claude: a sub-agent's tool calls and results hang under its Agent call; its report is the call's result",
			Run: runClaudeSubagent, Session: permissionMode(schema.PermissionModeBypass), Steps: claudeSubagentSteps},
		{ID: "claude-subagent-background", Title: "Claude: a background sub-agent stays linked; the CLI's own turn that reports it is a balanced turn",
			Run: runClaudeSubagentBackground, Session: permissionMode(schema.PermissionModeBypass), Steps: claudeSubagentBackgroundSteps},
		{ID: "claude-questions", Title: "Claude: two questions in one call (one multi-select) answered, then a denied Write",
			Run: runClaudeQuestions, Steps: steps(claudeQuestions, fakellm.Write("sizes.txt", "S, M\n"), fakellm.Text("Red, in S and M; not writing."))},
		{ID: "claude-api-errors", Title: "Claude: API errors 401, 429, 529 become error events with codes; the session goes on",
			Run: runClaudeAPIErrors, Steps: steps(fakellm.Repeat(8, claudeAPIErrors)...)},
		// Session config (reference §1.9); bodies in scenarios_claude_mcp_test.go.
		{ID: "claude-mcp", Title: "Claude: a local (stdio) MCP server from the session config: tools loaded, asked for, called; text output, tool error, timeoutMs",
			Run: runClaudeMCP, Steps: claudeMCPSteps},
		{ID: "claude-mcp-remote", Title: "Claude: a remote (streamable HTTP) MCP server; headers, bearer token and env headers expanded from the session's environment",
			Run: runClaudeMCPRemote, Steps: claudeMCPRemoteSteps, Session: permissionMode(schema.PermissionModeBypass)},
		{ID: "claude-skills", Title: "Claude: skills from the session config (filtered) are listed to the model, reported at start and loaded by the Skill tool",
			Run: runClaudeSkills, Steps: claudeSkillsSteps},
	} {
		s.Only = only
		RegisterScenario(s)
	}
}

func claudeEnv(baseURL string) []string {
	return []string{
		"ANTHROPIC_BASE_URL=" + baseURL,
		"ANTHROPIC_API_KEY=test",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_AUTOUPDATER=1",
		"DISABLE_TELEMETRY=1",
		"DISABLE_ERROR_REPORTING=1",
	}
}
