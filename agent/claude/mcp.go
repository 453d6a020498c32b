package claude

import (
	"encoding/json"
	"net/http"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// mcpConfig is the --mcp-config JSON for the session's MCP servers, in the
// .mcp.json shape: local → {command, args?, env?, timeout?}; remote →
// {type http|sse, url, headers?, timeout?}. Remote headers merge headers, a
// bearer token from bearerTokenEnvVar and envHeaders as ${VAR} references,
// which the CLI expands from its environment. timeoutMs is the CLI's
// per-server tool-call timeout (2.1.x: `timeout`, milliseconds; the
// reference dropped it). Disabled servers are left out; cwd and oauth have
// no equivalent and are dropped. Passing the config on the command line
// leaves the user's project files alone.
func mcpConfig(servers map[string]schema.McpServerConfig) string {
	out := map[string]any{}
	for name, s := range servers {
		if s.Enabled != nil && !*s.Enabled {
			continue
		}
		switch s.Type {
		case schema.McpLocal:
			if len(s.Command) == 0 {
				continue
			}
			e := map[string]any{"command": s.Command[0]}
			if args := append(append([]string{}, s.Command[1:]...), s.Args...); len(args) > 0 {
				e["args"] = args
			}
			if len(s.Env) > 0 {
				e["env"] = s.Env
			}
			setTimeout(e, s.TimeoutMs)
			out[name] = e
		case schema.McpRemote:
			t := "http"
			if s.Transport != nil && *s.Transport == "sse" {
				t = "sse"
			}
			e := map[string]any{"type": t, "url": s.URL}
			if h := mergedHeaders(s); len(h) > 0 {
				e["headers"] = h
			}
			setTimeout(e, s.TimeoutMs)
			out[name] = e
		}
	}
	if len(out) == 0 {
		return ""
	}
	b, _ := json.Marshal(map[string]any{"mcpServers": out})
	return string(b)
}

// maxTimeoutMs is the longest timeout passed on: the CLI's timers are
// JavaScript's, which fire at once for anything above 2^31-1 ms.
const maxTimeoutMs = 1<<31 - 1

// setTimeout sets the entry's tool-call timeout. The CLI silently drops a
// server whose timeout is not a positive integer, so 0 is left out (the
// CLI's default applies).
func setTimeout(e map[string]any, ms *uint64) {
	if ms == nil || *ms == 0 {
		return
	}
	e["timeout"] = min(*ms, maxTimeoutMs)
}

func mergedHeaders(s schema.McpServerConfig) map[string]string {
	h := map[string]string{}
	has := func(k string) bool {
		for k2 := range h {
			if http.CanonicalHeaderKey(k2) == http.CanonicalHeaderKey(k) {
				return true
			}
		}
		return false
	}
	for k, v := range s.Headers {
		h[k] = v
	}
	if s.BearerTokenEnvVar != nil && *s.BearerTokenEnvVar != "" && !has("Authorization") {
		h["Authorization"] = "Bearer ${" + *s.BearerTokenEnvVar + "}"
	}
	for k, env := range s.EnvHeaders {
		if !has(k) {
			h[k] = "${" + env + "}"
		}
	}
	return h
}
