package e2e

// Pins are the agent CLI versions the suite installs, the only place they
// are named. Bump one here, run the suite, and commit the regenerated
// docs/agent-compatibility.md with it.
//
//   - claude 2.1.332: the version the adapter's captures come from. It is a
//     native binary, so the engines field (node >= 22) does not matter.
//   - codex 0.169.0: app-server v2 protocol as captured.
//   - opencode 1.18.33: `opencode serve` HTTP+SSE as captured.
//   - opencode-acp: `opencode acp`, the same binary as opencode.
//   - claude-acp 0.23.1: Zed's Claude ACP bridge (JavaScript, needs node);
//     it pins @anthropic-ai/claude-agent-sdk 0.2.83, whose bundled Claude
//     Code it runs.
//   - gemini 0.61.0: Gemini CLI in ACP mode (JavaScript, needs node).
//   - codex-acp 0.16.0: Zed's Codex ACP bridge (native, no --version).
//   - amp: the newest @ampcode/cli usually names a platform package that
//     was never published; this one has its linux-x64 binary.
var Pins = map[string]string{
	"claude":   "2.1.332",
	"codex":    "0.169.0",
	"opencode": "1.18.33",
	"amp":      "0.0.1790142911-g7618fb",

	"opencode-acp": "1.18.33",
	"claude-acp":   "0.23.1",
	"gemini":       "0.61.0",
	"codex-acp":    "0.16.0",
}
