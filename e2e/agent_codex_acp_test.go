package e2e

import (
	"time"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
)

// Codex through Zed's ACP bridge (@zed-industries/codex-acp, agent/acp): a
// native binary with the Codex core, configured like the codex rows
// (CODEX_HOME/config.toml with fakellm as a Responses provider).
func init() {
	const noQuestions = "ACP has no question method"
	const noPlan = "ACP has no plan approval method"
	RegisterAgent(Agent{
		Name:          "codex-acp",
		NoVersionFlag: true,
		Setup:         func(r *Run) error { return writeCodexConfig(r.Home, r.LLM.OpenAIBaseURL()) },
		Env:           func(r *Run) []string { return codexEnv(r.Home, r.LLM.OpenAIBaseURL()) },
		Unsupported: map[string]string{
			"question-answer": noQuestions, "question-reject": noQuestions,
			"plan-accept": noPlan, "plan-reject": noPlan,
		},
		// As for codex: a 5xx body becomes Codex's own "high demand" text;
		// a 400 keeps the provider's message. The bridge (0.16.0) once in
		// about ten runs under load never answered a session/prompt sent
		// right after a failed one: the row lets it settle for a second.
		Rows: map[string]Row{"agent-error": {Steps: steps(fakellm.Repeat(10, codexFailUntilRetry)...), Run: agentErrorRow(time.Second)}},
	})
}
