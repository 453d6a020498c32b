// Package credentials finds the API keys and OAuth tokens the agents need.
// This first part reads the environment; discovery from the agents' own
// config files comes with `credentials extract-env`.
package credentials

import "os"

// Credential is one provider's key or token.
type Credential struct {
	Provider string `json:"provider"`
	Source   string `json:"source"`
	AuthType string `json:"auth_type"` // api_key | oauth
	APIKey   string `json:"api_key"`
}

// FromEnv returns the provider's credential from the environment, if any,
// in the reference's order of precedence.
func FromEnv(provider string) (Credential, bool) {
	type src struct{ env, auth string }
	var order []src
	switch provider {
	case "anthropic":
		order = []src{{"ANTHROPIC_API_KEY", "api_key"}, {"CLAUDE_API_KEY", "api_key"},
			{"CLAUDE_CODE_OAUTH_TOKEN", "oauth"}, {"ANTHROPIC_AUTH_TOKEN", "oauth"}}
	case "openai":
		order = []src{{"OPENAI_API_KEY", "api_key"}, {"CODEX_API_KEY", "api_key"}}
	}
	for _, s := range order {
		if v := os.Getenv(s.env); v != "" {
			return Credential{Provider: provider, Source: "environment", AuthType: s.auth, APIKey: v}, true
		}
	}
	return Credential{}, false
}

// Available reports whether the provider has a credential.
func Available(provider string) bool {
	_, ok := FromEnv(provider)
	return ok
}
