package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Codex: a "fake" model provider on the Responses API in CODEX_HOME's
// config.toml (wire_api "chat" is gone in 0.169), its key in FAKE_API_KEY,
// plugins off (they alone reached github.com and chatgpt.com), retries off
// so a scripted error is not replayed. OPENAI_API_KEY is set too (the
// adapter wants a key); OPENAI_BASE_URL only for the codex-base-url row,
// where it makes the adapter bring its own provider (with the CLI's
// default retries) instead of the config's.
func init() {
	RegisterAgent(Agent{
		Name: "codex",
		Setup: func(r *Run) error {
			return writeCodexConfig(r.Home, r.LLM.OpenAIBaseURL())
		},
		Env: func(r *Run) []string {
			env := codexEnv(r.Home, r.LLM.OpenAIBaseURL())
			if r.Scenario != nil && r.Scenario.ID == "codex-base-url" {
				env = append(env, "OPENAI_BASE_URL="+r.LLM.OpenAIBaseURL())
			}
			return env
		},
		Rows: map[string]Row{
			// Codex replaces a 5xx body with its own "high demand" text;
			// a 400 keeps the provider's message.
			"agent-error": {Steps: steps(fakellm.Repeat(10, codexFailUntilRetry)...)},
			// No key anywhere: the session must be refused at create.
			"codex-no-credentials": {Env: []string{"OPENAI_API_KEY=", "CODEX_API_KEY="}},
		},
		Wire: func(w *Wire) {
			if err := writeCodexConfig(w.Home, w.LLM.OpenAIBaseURL()); err != nil {
				w.T.Fatal(err)
			}
			out := w.Run(codexEnv(w.Home, w.LLM.OpenAIBaseURL()),
				"exec", "--json", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", "Do the wire check.")
			w.Check(out)
		},
	})
}

var codexFailUntilRetry = fakellm.Func(func(q *fakellm.Request) fakellm.Step {
	if strings.Contains(q.LastUserText(), "Try again.") {
		return fakellm.Text("Recovered after the error.")
	}
	return fakellm.Step{Error: &fakellm.APIError{Status: 400, Message: errorMarker, NoRetry: true}}
})

func init() {
	// Rows only Codex has (issue 10); bodies in scenarios_codex_test.go.
	only := []string{"codex"}
	for _, s := range []Scenario{
		{ID: "codex-reasoning", Title: "Codex: reasoning summary streamed as a reasoning item; model and effort (variant) passed on",
			Run: runCodexReasoning, Steps: steps(fakellm.Thinking(codexThought, "Thought it through.")),
			Session: func(req *schema.CreateSessionRequest) {
				req.Model, req.Variant = schema.Ptr("gpt-5.4"), schema.Ptr("low")
			}},
		{ID: "codex-command-output", Title: "Codex: a command's output streamed into its tool_result, with exit code and duration",
			Run: runCodexCommandOutput, Session: permissionMode(schema.PermissionModeBypass),
			Steps: steps(fakellm.Bash("for i in 1 2 3; do echo line-$i; sleep 0.3; done; exit 3"), fakellm.Text("It counted and failed."))},
		{ID: "codex-shared-server", Title: "Codex: two concurrent sessions on the one shared app-server; it stops with the last; status in GET /v1/agents",
			Run: runCodexSharedServer, Steps: steps(fakellm.Repeat(4, codexTwoSessions)...)},
		{ID: "codex-server-killed", Title: "Codex: app-server killed between turns; restarted, thread resumed with its context",
			Run: runCodexServerKilled, Steps: steps(fakellm.Text("Noted: the code word is PAPAYA."), fakellm.Text("The code word was PAPAYA."))},
		{ID: "codex-models", Title: "Codex: models from the app-server's model/list, default from its config",
			Run: runCodexModels},
		{ID: "codex-attachments", Title: "Codex: image attachments (data URL, file) reach the model as input_image; a text file is named for the agent",
			Run: runCodexAttachments, Steps: steps(fakellm.Text("A pixel, twice, and a note."))},
		{ID: "codex-mcp", Title: "Codex: a local (stdio) MCP server from the session config is started and offered to the model; a disabled one is not",
			Run: runCodexMCP, Steps: steps(fakellm.Text("The stub's tools."))},
		{ID: "codex-api-errors", Title: "Codex: API errors 401, 429 and an unknown model become error events with the CLI's codes; the session goes on",
			Run: runCodexAPIErrors, Steps: steps(fakellm.Repeat(8, codexAPIErrors)...)},
		{ID: "codex-interrupt", Title: "Codex: interrupt during a pending approval ends the turn and withdraws it; the command never runs; the thread goes on",
			Run: runCodexInterrupt, Steps: steps(fakellm.Bash("touch interrupted.txt"), fakellm.Text("Still here."))},
		{ID: "codex-base-url", Title: "Codex: OPENAI_BASE_URL and OPENAI_API_KEY become a provider on the app-server's command line; the user's config.toml is not written",
			Run: runCodexBaseURL, Steps: steps(fakellm.Text("Hello through the base URL."))},
		{ID: "codex-no-credentials", Title: "Codex: no OpenAI key: session creation refused with a problem naming OPENAI_API_KEY",
			Run: runCodexNoCredentials},
	} {
		s.Only = only
		RegisterScenario(s)
	}
}

func codexEnv(home, _ string) []string {
	return []string{
		"CODEX_HOME=" + filepath.Join(home, ".codex"),
		"FAKE_API_KEY=test",
		"OPENAI_API_KEY=test",
	}
}

func writeCodexConfig(home, baseURL string) error {
	dir := filepath.Join(home, ".codex")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg := fmt.Sprintf(`model = "gpt-5.5"
model_provider = "fake"
check_for_update_on_startup = false

[model_providers.fake]
name = "Fake local LLM"
base_url = %q
env_key = "FAKE_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[features]
plugins = false
remote_plugin = false
apps = false
`, baseURL)
	return os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o644)
}
