package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// OpenCode: its bundled openai-compatible provider pointed at fakellm's
// Chat Completions in the global config ($XDG_CONFIG_HOME/opencode), plus
// the switches that stop update checks, model catalog fetches, LSP
// downloads and sharing. Its built-in npm installer still looks for the
// registry at start; NPM_CONFIG_REGISTRY sends it nowhere. The question
// tool is opt-in.
func init() {
	RegisterAgent(Agent{
		Name: "opencode",
		Setup: func(r *Run) error {
			return writeOpenCodeConfig(r.Home, r.LLM.OpenAIBaseURL(), nil)
		},
		Env: func(r *Run) []string { return openCodeEnv() },
		Unsupported: map[string]string{
			"plan-accept": "opencode serve's plan agent refuses edits but never asks to approve a plan (plan_exit is offered to its terminal client only)",
			"plan-reject": "opencode serve's plan agent refuses edits but never asks to approve a plan (plan_exit is offered to its terminal client only)",
		},
		Rows: map[string]Row{
			// OpenCode retries a 500 with backoff for as long as it lasts
			// (each retry is a status item); a 400 is final.
			"agent-error": {Steps: steps(fakellm.Repeat(10, failWith400)...)},
		},
		Wire: func(w *Wire) {
			allow := map[string]any{"bash": "allow", "edit": "allow", "webfetch": "deny"}
			if err := writeOpenCodeConfig(w.Home, w.LLM.OpenAIBaseURL(), allow); err != nil {
				w.T.Fatal(err)
			}
			out := w.Run(openCodeEnv(), "run", "--format", "json", "Do the wire check.")
			w.Check(out)
		},
	})

	// Rows only OpenCode has (issue 11); bodies in scenarios_opencode_test.go.
	only := []string{"opencode"}
	bypass := permissionMode(schema.PermissionModeBypass)
	for _, s := range []Scenario{
		{ID: "opencode-reasoning", Title: "OpenCode: reasoning streamed as a reasoning item before the reply",
			Run: runOpenCodeReasoning, Steps: openCodeReasoningSteps},
		{ID: "opencode-concurrent", Title: "OpenCode: two sessions talk at once through the one shared server",
			Run: runOpenCodeConcurrent, Steps: concurrentSteps},
		{ID: "opencode-restart", Title: "OpenCode: the shared server killed between turns is restarted; the session re-attaches with its context",
			Run: runOpenCodeRestart, Steps: steps(fakellm.Text("Noted: the code word is PAPAYA."), fakellm.Text("The code word was PAPAYA."))},
		{ID: "opencode-modes-models", Title: "OpenCode: modes from the server's agents, models from its providers; listed installed with its version",
			Run: runOpenCodeModesModels},
		{ID: "opencode-user-config", Title: "OpenCode: the user's own opencode.json files stay byte-identical",
			Run: runOpenCodeUserConfig, Session: bypass, Steps: steps(fakellm.Write("notes.txt", "hello e2e\n"), fakellm.Text("Wrote notes.txt."))},
		{ID: "opencode-mcp", Title: "OpenCode: a local MCP server from the session config is added to the shared server and called",
			Run: runOpenCodeMCP, Session: bypass, Steps: openCodeMCPSteps},
	} {
		s.Only = only
		RegisterScenario(s)
	}
}

// failWith400 is failUntilRetry with a status OpenCode does not retry.
var failWith400 = fakellm.Func(func(q *fakellm.Request) fakellm.Step {
	if strings.Contains(q.LastUserText(), "Try again.") {
		return fakellm.Text("Recovered after the error.")
	}
	return fakellm.Step{Error: &fakellm.APIError{Status: 400, Message: errorMarker}}
})

func openCodeEnv() []string {
	return []string{
		"OPENCODE_DISABLE_AUTOUPDATE=1",
		"OPENCODE_DISABLE_MODELS_FETCH=1",
		"OPENCODE_DISABLE_LSP_DOWNLOAD=1",
		"OPENCODE_DISABLE_SHARE=1",
		"OPENCODE_DISABLE_DEFAULT_PLUGINS=1",
		"OPENCODE_ENABLE_QUESTION_TOOL=1",
		"NPM_CONFIG_REGISTRY=" + deadProxy + "/",
		"npm_config_registry=" + deadProxy + "/",
	}
}

func writeOpenCodeConfig(home, baseURL string, permission map[string]any) error {
	cfg := map[string]any{
		"$schema": "https://opencode.ai/config.json",
		"provider": map[string]any{"fake": map[string]any{
			"npm":     "@ai-sdk/openai-compatible",
			"name":    "Fake LLM",
			"options": map[string]any{"baseURL": baseURL, "apiKey": "test"},
			"models": map[string]any{"fake-model": map[string]any{
				"name": "Fake Model", "tool_call": true,
				"limit": map[string]any{"context": 100000, "output": 4096},
			}},
		}},
		"model":       "fake/fake-model",
		"small_model": "fake/fake-model",
		"autoupdate":  false,
		"share":       "disabled",
	}
	if permission != nil {
		cfg["permission"] = permission
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Join(home, ".config", "opencode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "opencode.json"), b, 0o644)
}
