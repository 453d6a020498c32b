package e2e

// Claude Code: Anthropic Messages API at ANTHROPIC_BASE_URL, a fake key,
// and the switches that keep it off the network (no telemetry, update
// checks or title requests). See shared/reference/real-agents-offline.md.
func init() {
	RegisterAgent(Agent{
		Name: "claude",
		Env: func(r *Run) []string {
			return claudeEnv(r.LLM.URL())
		},
		Wire: func(w *Wire) {
			out := w.Run(claudeEnv(w.LLM.URL()),
				"-p", "--output-format", "stream-json", "--verbose", "--include-partial-messages",
				"--permission-mode", "acceptEdits", "--allowedTools=Bash", "Do the wire check.")
			w.Check(out)
		},
	})
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
