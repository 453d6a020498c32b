package claude

import (
	"encoding/json"
	"net/http"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// mcpConfig is the --mcp-config JSON for the session's MCP servers, in the
// .mcp.json shape: local → {command, args?, env?}; remote → {type http|sse,
// url, headers?}. Remote headers merge headers, a bearer token from
// bearerTokenEnvVar and envHeaders as ${VAR} references, which the CLI
// expands from its environment. Disabled servers are left out. Passing the
// config on the command line leaves the user's project files alone.
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
			out[name] = e
		}
	}
	if len(out) == 0 {
		return ""
	}
	b, _ := json.Marshal(map[string]any{"mcpServers": out})
	return string(b)
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
