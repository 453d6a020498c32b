//go:build unix

package process

import (
	"os"
	"strings"
)

// serverPrefix marks the server's own configuration variables. An agent runs
// code the user (or a model) chose, so it must not inherit what configures
// or protects the server: with SANDBOX_AGENT_TOKEN an agent could call the
// API and approve its own permission requests.
const serverPrefix = "SANDBOX_AGENT_"

// agentVars are the SANDBOX_AGENT_* variables meant for agents: the
// installer's JavaScript launcher reads SANDBOX_AGENT_NODE at run time.
var agentVars = map[string]bool{"SANDBOX_AGENT_NODE": true}

// inheritedEnv is the server's environment without the server's own
// variables: what every child inherits unless Options.ReplaceEnv is set.
func inheritedEnv() []string {
	return scrubEnv(os.Environ())
}

// scrubEnv drops every SANDBOX_AGENT_* entry not meant for agents. The
// prefix matches in any case (sandbox_agent_token is dropped too); a
// variable is kept only if its exact name is allowed.
func scrubEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(strings.ToUpper(name), serverPrefix) && !agentVars[name] {
			continue
		}
		out = append(out, kv)
	}
	return out
}
