package credentials

import "strings"

// Mask hides a secret: keys of up to 8 characters become "****", longer
// ones keep their first and last 4 characters ("sk-a...wxyz").
func Mask(key string) string {
	if len(key) <= 8 {
		return "****"
	}
	return key[:4] + "..." + key[len(key)-4:]
}

// EnvVar is one NAME=value pair.
type EnvVar struct{ Name, Value string }

// EnvVars are the variables that hand the set to an agent started from a
// shell (`credentials extract-env`): anthropic → ANTHROPIC_API_KEY and
// CLAUDE_API_KEY, openai → OPENAI_API_KEY and CODEX_API_KEY, any other
// provider → <PROVIDER>_API_KEY (upper-cased, '-' → '_'), in that order.
func (s Set) EnvVars() []EnvVar {
	var out []EnvVar
	for _, c := range s.All() {
		switch c.Provider {
		case "anthropic":
			out = append(out, EnvVar{"ANTHROPIC_API_KEY", c.APIKey}, EnvVar{"CLAUDE_API_KEY", c.APIKey})
		case "openai":
			out = append(out, EnvVar{"OPENAI_API_KEY", c.APIKey}, EnvVar{"CODEX_API_KEY", c.APIKey})
		default:
			out = append(out, EnvVar{strings.ToUpper(strings.ReplaceAll(c.Provider, "-", "_")) + "_API_KEY", c.APIKey})
		}
	}
	return out
}

// ownSource is the source under which an agent finds a credential by
// itself (its own config files), so it need not be injected.
var ownSource = map[string]string{"claude": SourceClaude, "codex": SourceCodex, "opencode": SourceOpenCode, "amp": SourceAmp}

// AgentEnv is the environment to add to an agent's processes so that a
// credential found in another agent's config files reaches it. Credentials
// from the environment are not repeated (the agent inherits them), nor
// those the agent reads from its own files. An anthropic OAuth token goes
// to Claude as CLAUDE_CODE_OAUTH_TOKEN and ANTHROPIC_AUTH_TOKEN, any other
// anthropic credential as ANTHROPIC_API_KEY and CLAUDE_API_KEY; openai as
// OPENAI_API_KEY and CODEX_API_KEY.
func (s Set) AgentEnv(agentID string) []string {
	skip := func(c *Credential) bool {
		return c == nil || c.Source == SourceEnv || c.Source == ownSource[agentID]
	}
	var env []string
	if c := s.Anthropic; !skip(c) {
		if agentID == "claude" && c.AuthType == OAuth {
			env = append(env, "CLAUDE_CODE_OAUTH_TOKEN="+c.APIKey, "ANTHROPIC_AUTH_TOKEN="+c.APIKey)
		} else {
			env = append(env, "ANTHROPIC_API_KEY="+c.APIKey, "CLAUDE_API_KEY="+c.APIKey)
		}
	}
	if c := s.OpenAI; !skip(c) {
		env = append(env, "OPENAI_API_KEY="+c.APIKey, "CODEX_API_KEY="+c.APIKey)
	}
	return env
}
