// Package credentials finds the API keys and OAuth tokens the agents need:
// first in the environment, then in each agent's own config files (Amp,
// Claude Code, Codex, OpenCode), in the order of the reference
// implementation. A key is never printed whole unless asked (see Mask).
package credentials

import "os"

// Auth types.
const (
	APIKey = "api_key"
	OAuth  = "oauth"
)

// Sources: where a credential was found.
const (
	SourceEnv      = "environment"
	SourceAmp      = "amp"
	SourceClaude   = "claude-code"
	SourceCodex    = "codex"
	SourceOpenCode = "opencode"
)

// Credential is one provider's key or token.
type Credential struct {
	Provider string `json:"provider"`
	Source   string `json:"source"`
	AuthType string `json:"auth_type"` // api_key | oauth
	APIKey   string `json:"api_key"`
	// Redacted says APIKey was masked (Masked).
	Redacted bool `json:"redacted"`
}

// Masked returns c with its key masked (see Mask).
func (c Credential) Masked() Credential {
	c.APIKey, c.Redacted = Mask(c.APIKey), true
	return c
}

// envOrder is the reference's order of environment variables per provider.
var envOrder = map[string][]struct{ env, auth string }{
	"anthropic": {{"ANTHROPIC_API_KEY", APIKey}, {"CLAUDE_API_KEY", APIKey},
		{"CLAUDE_CODE_OAUTH_TOKEN", OAuth}, {"ANTHROPIC_AUTH_TOKEN", OAuth}},
	"openai": {{"OPENAI_API_KEY", APIKey}, {"CODEX_API_KEY", APIKey}},
}

// FromEnv returns the provider's credential from the environment only, if
// any, in the reference's order of precedence.
func FromEnv(provider string) (Credential, bool) {
	return fromEnv(provider, os.Getenv, false)
}

func fromEnv(provider string, getenv func(string) string, noOAuth bool) (Credential, bool) {
	for _, s := range envOrder[provider] {
		if s.auth == OAuth && noOAuth {
			continue
		}
		if v := getenv(s.env); v != "" {
			return Credential{Provider: provider, Source: SourceEnv, AuthType: s.auth, APIKey: v}, true
		}
	}
	return Credential{}, false
}

// Lookup returns the provider's credential from the environment, else from
// the agents' config files under the user's home (see Discover). It looks
// at the files on every call (a stat; they are read again when changed), so
// logging an agent in while the server runs is picked up without a restart.
func Lookup(provider string) (Credential, bool) {
	return Discover(Options{}).Get(provider)
}

// Available reports whether the provider has a credential (Lookup).
func Available(provider string) bool {
	_, ok := Lookup(provider)
	return ok
}
