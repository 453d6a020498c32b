// Package e2e runs the real agent CLIs (Claude Code, Codex, OpenCode, Amp)
// offline, against the scripted fake model server in
// internal/testkit/fakellm, and drives them only through the sandbox-agent
// HTTP API (the Go client), the way an application would.
//
// The suite is off by default so that `go test ./...` stays fast and
// hermetic. Run it with
//
//	SANDBOX_AGENT_E2E=1 go test ./e2e -v -count=1     # every agent
//	make e2e AGENT=claude                              # one agent
//
// What a run does:
//
//  1. TestMain builds the server binary once (or takes
//     SANDBOX_AGENT_E2E_BIN) and installs the pinned CLI versions (pins in
//     versions_test.go) through the install package from the npm registry,
//     into $SANDBOX_AGENT_E2E_CACHE (default ~/.cache/sandbox-agent-e2e:
//     downloads/ and agents/<agent>@<version>/), which later runs reuse.
//  2. As root (or where user namespaces are allowed) it re-executes the test
//     binary in a fresh network namespace whose only interface is loopback;
//     fakellm, the server and the agents all live there and nothing can
//     reach a real provider. Elsewhere it falls back to proxy variables that
//     point at a dead port. TestIsolation proves which one is in force.
//  3. TestAgents runs the scenario table (scenarios_test.go) for every
//     agent registered by an agent_<name>_test.go file: each row gets its
//     own fakellm, throwaway HOME and working directory, and its own server
//     process started with the agent's environment.
//  4. At the end it prints the pass/skip/fail matrix, writes it to
//     $SANDBOX_AGENT_E2E_OUT (default e2e/.out) as matrix.md and
//     matrix.json, and checks it against docs/agent-compatibility.md
//     (SANDBOX_AGENT_E2E_UPDATE_DOCS=1 rewrites the table instead).
//
// Adding an agent or a scenario touches no harness file: an
// agent_<name>_test.go calls RegisterAgent, and a scenario file calls
// RegisterScenario. An adapter issue edits its agent's file:
//
//	RegisterAgent(Agent{
//		Name:  "codex",
//		Setup: func(r *Run) error { return writeCodexConfig(r.Home, r.LLM.OpenAIBaseURL()) },
//		Env:   func(r *Run) []string { return codexEnv(r.Home, r.LLM.OpenAIBaseURL()) },
//		// Rows the agent truly cannot do, with the reason the matrix shows.
//		Unsupported: map[string]string{"question-reject": "request_user_input cannot be declined"},
//		// Rows failing on a tracked bug: shown as such, and the run fails once they pass.
//		Known: map[string]string{"crash": "…"},
//		// Another script, session or body for one row.
//		Rows: map[string]Row{"plan-accept": {Session: func(req *schema.CreateSessionRequest) { … }}},
//	})
//
// and an agent-specific row is a Scenario with Only: []string{"codex"},
// registered from the agent's file (agent_claude_test.go has such rows,
// their bodies in scenarios_claude_test.go). Such rows follow the shared
// ones in the matrix, and the docs table shows "—" for the other agents.
// Rows skip as "adapter missing" while internal/cli/wiring.go still
// registers the agent's pending placeholder.
//
// With SANDBOX_AGENT_E2E_CAPTURE=1 each row writes what the agent said, for
// the adapter's golden tests: testdata/captures/<agent>/<row>.jsonl holds
// the raw native lines behind the events (include_raw), and
// <row>.stdin.jsonl / <row>.stdout.jsonl the complete native streams (the
// agent runs behind a transparent tee, see tee_test.go).
// SANDBOX_AGENT_E2E_NETNS=0 skips the namespace (to debug on the host).
package e2e
