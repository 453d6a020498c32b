// Package registry lists the Agent Client Protocol agents sandbox-agent
// drives through the generic ACP adapter (agent/acp). Adding an ACP agent
// is adding an Entry here: how to install it from the npm registry, how to
// start it, what environment it needs and which credentials it uses. The
// package is data only, so that the installer and the adapter can both
// read it.
package registry

// Entry is one ACP agent.
type Entry struct {
	// ID is the agent id in the API (GET /v1/agents, sessions' agent).
	ID string
	// Name is shown to people.
	Name string
	// Shares names the installable agent whose binary this one runs
	// ("opencode" for `opencode acp`): installing this agent installs that
	// one. Empty when the agent has its own npm package.
	Shares string
	// NPM is the npm package that carries the agent (for Shares, that
	// agent's package).
	NPM string
	// Bin is the executable's name in the install directory and on PATH;
	// for a package whose bin is a JavaScript file, the name of its bin
	// entry (the installer writes a node launcher under that name).
	Bin string
	// Pin is the version installed when the caller names none: the one
	// the e2e suite proves. Empty means the newest.
	Pin string
	// Platform names the npm package that carries the native executable
	// for a platform, with {os} and {arch} in npm's spelling
	// ("@zed-industries/codex-acp-{os}-{arch}"), and PlatformBin where the
	// executable sits in it; empty for JavaScript programs.
	Platform, PlatformBin string
	// Args start the agent's ACP server on stdio.
	Args []string
	// Env is added to the agent's environment: switches that keep it off
	// the network (update checks, telemetry) and make it ask before acting.
	Env []string
	// Credentials are the credential providers the agent can use
	// ("anthropic", "openai"); CredentialVars the environment variables
	// that carry them, one of which must be set (empty: the agent manages
	// its own login and is not checked).
	Credentials    []string
	CredentialVars []string
	// Images says the agent takes image prompt blocks (its
	// promptCapabilities are only known once it runs).
	Images bool
	// MissingFileEmpty answers fs/read_text_file of a file that does not
	// exist with empty content instead of ACP's "Resource not found"
	// error, for agents that read a file before creating it and cannot
	// tell that error from a failure.
	MissingFileEmpty bool
}

// openCodeEnv keeps `opencode acp` from updating itself, fetching the
// model catalog, downloading language servers or sharing sessions, and
// makes it ask before editing files or running commands: sandbox-agent's
// permission modes decide what is allowed, so the agent must ask.
var openCodeEnv = []string{
	"OPENCODE_DISABLE_AUTOUPDATE=1",
	"OPENCODE_DISABLE_MODELS_FETCH=1",
	"OPENCODE_DISABLE_LSP_DOWNLOAD=1",
	"OPENCODE_DISABLE_SHARE=1",
	"OPENCODE_DISABLE_DEFAULT_PLUGINS=1",
	`OPENCODE_CONFIG_CONTENT={"permission":{"edit":"ask","bash":"ask","webfetch":"ask"}}`,
}

// entries are the known ACP agents, in the order GET /v1/agents lists them.
var entries = []Entry{
	{
		ID: "opencode-acp", Name: "OpenCode (ACP)",
		Shares: "opencode", NPM: "opencode-ai", Bin: "opencode",
		Args: []string{"acp"}, Env: openCodeEnv,
		Credentials: []string{"anthropic", "openai"},
		Images:      true,
	},
	{
		// Gemini CLI speaks ACP itself (--acp; --experimental-acp before
		// 0.2x). GOOGLE_GEMINI_BASE_URL points it at another endpoint.
		ID: "gemini", Name: "Gemini CLI",
		NPM: "@google/gemini-cli", Bin: "gemini", Pin: "0.61.0",
		Args:           []string{"--acp"},
		Credentials:    []string{"google"},
		CredentialVars: []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"},
		Images:         true,
		// 0.61.0 reads a file before writing it; its ACP SDK rejects a
		// client error with the plain error object, which its ENOENT check
		// (an Error whose message says "Resource not found") never matches,
		// so a new file could not be created.
		MissingFileEmpty: true,
	},
	{
		// Zed's Codex bridge: the Codex core in a native binary that
		// speaks ACP. Commands run without Codex's own sandbox (this
		// server is the sandbox) and ask first unless known safe, as the
		// codex adapter does; the user's Codex login and config.toml are
		// used as they are.
		ID: "codex-acp", Name: "Codex (ACP bridge)",
		NPM: "@zed-industries/codex-acp", Bin: "codex-acp", Pin: "0.16.0",
		Platform: "@zed-industries/codex-acp-{os}-{arch}", PlatformBin: "bin/codex-acp",
		Args: []string{
			"-c", `sandbox_mode="danger-full-access"`, "-c", `approval_policy="untrusted"`,
			"-c", "check_for_update_on_startup=false", "-c", "analytics.enabled=false",
		},
		Credentials: []string{"openai"},
		Images:      true,
	},
	{
		ID: "claude-acp", Name: "Claude Code (ACP bridge)",
		NPM: "@zed-industries/claude-agent-acp", Bin: "claude-agent-acp", Pin: "0.23.1",
		Env: []string{
			"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
			"DISABLE_AUTOUPDATER=1",
			"DISABLE_TELEMETRY=1",
		},
		Credentials:    []string{"anthropic"},
		CredentialVars: []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"},
		Images:         true,
	},
}

// Entries returns the known ACP agents (a copy).
func Entries() []Entry {
	out := make([]Entry, len(entries))
	copy(out, entries)
	return out
}

// Lookup returns the entry with id.
func Lookup(id string) (Entry, bool) {
	for _, e := range entries {
		if e.ID == id {
			return e, true
		}
	}
	return Entry{}, false
}
