package opencode

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// A session's MCP servers are added to the shared server at run time with
// POST /mcp (scoped to the session's directory), never written into a
// configuration file. OpenCode keeps them per project directory and per
// server process, so sessions in one directory share them and a restarted
// server gets them again from each session.

// mcpConfig is OpenCode's McpLocalConfig | McpRemoteConfig.
type mcpConfig struct {
	Type        string            `json:"type"`
	Command     []string          `json:"command,omitempty"`
	Cwd         string            `json:"cwd,omitempty"`
	Environment map[string]string `json:"environment,omitempty"`
	URL         string            `json:"url,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Enabled     *bool             `json:"enabled,omitempty"`
	Timeout     *uint64           `json:"timeout,omitempty"`
}

// mcpFor converts one of our MCP server configs. Header values named by
// bearerTokenEnvVar and envHeaders come from the session's environment
// (then the server's).
func mcpFor(name string, c schema.McpServerConfig, env []string) (mcpConfig, error) {
	out := mcpConfig{Enabled: c.Enabled, Timeout: c.TimeoutMs}
	switch c.Type {
	case schema.McpLocal:
		if len(c.Command) == 0 {
			return out, agent.Errorf(agent.ErrInvalidRequest, "mcp server %s: command is required", name)
		}
		out.Type = "local"
		out.Command = append(append([]string{}, c.Command...), c.Args...)
		out.Environment = c.Env
		out.Cwd = schema.Deref(c.Cwd)
	case schema.McpRemote:
		if c.URL == "" {
			return out, agent.Errorf(agent.ErrInvalidRequest, "mcp server %s: url is required", name)
		}
		out.Type, out.URL = "remote", c.URL
		h := map[string]string{}
		for k, v := range c.Headers {
			h[k] = v
		}
		if v := schema.Deref(c.BearerTokenEnvVar); v != "" {
			if tok := lookupEnv(env, v); tok != "" {
				h["Authorization"] = "Bearer " + tok
			}
		}
		for header, v := range c.EnvHeaders {
			if val := lookupEnv(env, v); val != "" {
				h[header] = val
			}
		}
		if len(h) > 0 {
			out.Headers = h
		}
	default:
		return out, agent.Errorf(agent.ErrInvalidRequest, "mcp server %s: unknown type %q", name, c.Type)
	}
	return out, nil
}

// addMCP adds the session's MCP servers to inst; a server OpenCode could
// not connect is not an error (the agent goes on without it).
func (a *Adapter) addMCP(ctx context.Context, inst *instance, spec agent.Spec) error {
	names := make([]string, 0, len(spec.MCP))
	for n := range spec.MCP {
		names = append(names, n)
	}
	sort.Strings(names)
	env := append(os.Environ(), spec.Env...)
	for _, n := range names {
		cfg, err := mcpFor(n, spec.MCP[n], env)
		if err != nil {
			return err
		}
		if err := inst.addMCP(ctx, spec.Dir, n, cfg); err != nil {
			return apiErr(fmt.Sprintf("opencode did not add MCP server %s", n), err)
		}
	}
	return nil
}
