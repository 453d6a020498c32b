package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
)

// Codex: a "fake" model provider on the Responses API in CODEX_HOME's
// config.toml (wire_api "chat" is gone in 0.169), its key in FAKE_API_KEY,
// plugins off (they alone reached github.com and chatgpt.com), retries off
// so a scripted error is not replayed. OPENAI_BASE_URL and OPENAI_API_KEY
// point the built-in openai provider here too, for an adapter that passes
// its own provider settings.
func init() {
	RegisterAgent(Agent{
		Name: "codex",
		Setup: func(r *Run) error {
			return writeCodexConfig(r.Home, r.LLM.OpenAIBaseURL())
		},
		Env: func(r *Run) []string {
			return codexEnv(r.Home, r.LLM.OpenAIBaseURL())
		},
		Rows: map[string]Row{
			// Codex replaces a 5xx body with its own "high demand" text;
			// a 400 keeps the provider's message.
			"agent-error": {Steps: steps(fakellm.Repeat(10, codexFailUntilRetry)...)},
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

func codexEnv(home, baseURL string) []string {
	return []string{
		"CODEX_HOME=" + filepath.Join(home, ".codex"),
		"FAKE_API_KEY=test",
		"OPENAI_API_KEY=test",
		"OPENAI_BASE_URL=" + baseURL,
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
