package e2e

// Amp runs its agent loop and model calls on Amp's own server (thread
// actors over WebSocket), so there is no model API to fake: with AMP_URL
// on loopback it only reaches Amp's private /api/internal and stops. It is
// installed and checked (TestInstall); every row is skipped with the
// reason. An Amp adapter issue can add an amp-only row (Scenario.Only)
// such as "fails cleanly without its server".
func init() {
	RegisterAgent(Agent{
		Name:     "amp",
		Unusable: "no offline mode: Amp's agent loop runs on Amp's servers",
		Env: func(r *Run) []string {
			return []string{"AMP_URL=" + r.LLM.URL(), "AMP_API_KEY=test"}
		},
	})
}
