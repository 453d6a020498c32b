package e2e

import "github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"

// Gemini CLI in its ACP mode (`gemini --acp`, agent/acp), a JavaScript
// program run by node, pointed at fakellm's Gemini API
// (streamGenerateContent over SSE) with GOOGLE_GEMINI_BASE_URL.
func init() {
	const noQuestions = "ACP has no question method"
	const noPlan = "ACP has no plan approval method"
	RegisterAgent(Agent{
		Name: "gemini",
		Env: func(r *Run) []string {
			return []string{"GEMINI_API_KEY=test", "GOOGLE_GEMINI_BASE_URL=" + r.LLM.URL()}
		},
		Unsupported: map[string]string{
			"question-answer": noQuestions, "question-reject": noQuestions,
			"plan-accept": noPlan, "plan-reject": noPlan,
		},
		// Gemini CLI refuses $(( )) as command substitution: the commands
		// compute e2e-42 with expr instead (still not in the command text).
		Rows: map[string]Row{
			"tool":            {Steps: steps(fakellm.Bash(geminiE2E42), fakellm.Text("The command printed e2e-42."))},
			"permission-once": {Steps: steps(fakellm.Bash("touch approved.txt && "+geminiE2E42), fakellm.Text("Created approved.txt."))},
			"permission-deny": {Steps: steps(fakellm.Bash("touch denied.txt && "+geminiE2E42), fakellm.Text("Understood, I will not."))},
		},
	})
}

const geminiE2E42 = `expr 6 \* 7 | sed 's/^/e2e-/'`
