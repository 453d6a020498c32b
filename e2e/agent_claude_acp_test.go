package e2e

// Claude Code through Zed's ACP bridge (@zed-industries/claude-agent-acp,
// agent/acp): a JavaScript program run by node that drives the Claude
// Agent SDK's bundled Claude Code against fakellm's Anthropic Messages
// endpoint, with the same offline switches as the claude rows.
func init() {
	const noQuestions = "ACP has no question method"
	const noPlan = "ACP has no plan approval method"
	RegisterAgent(Agent{
		Name: "claude-acp",
		Env:  func(r *Run) []string { return claudeEnv(r.LLM.URL()) },
		Unsupported: map[string]string{
			"question-answer": noQuestions, "question-reject": noQuestions,
			"plan-accept": noPlan, "plan-reject": noPlan,
		},
		Known: map[string]string{
			"agent-error": "bridge 0.23.1: after a turn that failed on an API error, the next session/prompt ends at once (end_turn, zero usage) with no message, although fakellm served the model's reply",
		},
	})
}
