package e2e

import "github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"

// OpenCode over the Agent Client Protocol (`opencode acp`, agent/acp):
// the same binary and offline configuration as the opencode rows, driven
// through the generic ACP adapter instead of opencode serve. ACP has no
// method for questions or plan approval.
func init() {
	const noQuestions = "ACP has no question method (opencode acp offers no question tool)"
	const noPlan = "ACP has no plan approval; opencode's plan mode never asks to approve a plan"
	RegisterAgent(Agent{
		Name: "opencode-acp",
		Setup: func(r *Run) error {
			return writeOpenCodeConfig(r.Home, r.LLM.OpenAIBaseURL(), nil)
		},
		Env: func(r *Run) []string { return openCodeEnv() },
		Unsupported: map[string]string{
			"question-answer": noQuestions, "question-reject": noQuestions,
			"plan-accept": noPlan, "plan-reject": noPlan,
		},
		Rows: map[string]Row{
			// As for opencode: a 500 is retried for as long as it lasts.
			"agent-error": {Steps: steps(fakellm.Repeat(10, failWith400)...)},
		},
	})
}
