package schema

import (
	"encoding/json"
	"errors"
	"fmt"
)

// McpServerConfig configures one MCP server for a session. Type is "local"
// (alias "stdio") or "remote" (alias "http"). On input the reference's
// aliases are accepted; on output the canonical names are written and unset
// options omitted.
type McpServerConfig struct {
	Type string `json:"type"`
	// local
	Command []string          `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	Cwd     *string           `json:"cwd,omitempty"`
	// remote
	URL               string            `json:"url,omitempty"`
	Headers           map[string]string `json:"headers,omitempty"`
	BearerTokenEnvVar *string           `json:"bearerTokenEnvVar,omitempty"`
	EnvHeaders        map[string]string `json:"envHeaders,omitempty"`
	OAuth             json.RawMessage   `json:"oauth,omitempty"`
	Transport         *string           `json:"transport,omitempty"`
	// both
	Enabled   *bool   `json:"enabled,omitempty"`
	TimeoutMs *uint64 `json:"timeoutMs,omitempty"`
}

// MCP server types.
const (
	McpLocal  = "local"
	McpRemote = "remote"
)

// UnmarshalJSON accepts the reference's aliases and a string or array command.
func (c *McpServerConfig) UnmarshalJSON(b []byte) error {
	var aux map[string]json.RawMessage
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	pick := func(names ...string) json.RawMessage {
		for _, n := range names {
			if v, ok := aux[n]; ok && string(v) != "null" {
				return v
			}
		}
		return nil
	}
	into := func(dst any, names ...string) error {
		if v := pick(names...); v != nil {
			if err := json.Unmarshal(v, dst); err != nil {
				return fmt.Errorf("%s: %w", names[0], err)
			}
		}
		return nil
	}
	var out McpServerConfig
	if err := into(&out.Type, "type"); err != nil {
		return err
	}
	switch out.Type {
	case "local", "stdio":
		out.Type = McpLocal
		raw := pick("command")
		if raw == nil {
			return errors.New("command: required for a local MCP server")
		}
		var one string
		if json.Unmarshal(raw, &one) == nil {
			out.Command = []string{one}
		} else if err := json.Unmarshal(raw, &out.Command); err != nil {
			return errors.New("command: must be a string or an array of strings")
		}
		if len(out.Command) == 0 || out.Command[0] == "" {
			return errors.New("mcp command cannot be empty")
		}
		if err := into(&out.Args, "args"); err != nil {
			return err
		}
		if err := into(&out.Env, "env", "environment"); err != nil {
			return err
		}
		if err := into(&out.Cwd, "cwd"); err != nil {
			return err
		}
	case "remote", "http":
		out.Type = McpRemote
		if err := into(&out.URL, "url"); err != nil {
			return err
		}
		if out.URL == "" {
			return errors.New("url: required for a remote MCP server")
		}
		if err := into(&out.Headers, "headers"); err != nil {
			return err
		}
		if err := into(&out.BearerTokenEnvVar, "bearerTokenEnvVar", "bearer_token_env_var"); err != nil {
			return err
		}
		if err := into(&out.EnvHeaders, "envHeaders", "envHttpHeaders", "env_http_headers"); err != nil {
			return err
		}
		if v := pick("oauth"); v != nil {
			out.OAuth = v
		}
		if err := into(&out.Transport, "transport"); err != nil {
			return err
		}
		if out.Transport != nil && *out.Transport != "http" && *out.Transport != "sse" {
			return fmt.Errorf("transport: must be http or sse, got %q", *out.Transport)
		}
	default:
		return fmt.Errorf("type: must be local, stdio, remote or http, got %q", out.Type)
	}
	if err := into(&out.Enabled, "enabled"); err != nil {
		return err
	}
	if err := into(&out.TimeoutMs, "timeoutMs", "timeout"); err != nil {
		return err
	}
	*c = out
	return nil
}

// MarshalJSON writes the canonical form: a local command as a string when it
// is a single word, an array otherwise.
func (c McpServerConfig) MarshalJSON() ([]byte, error) {
	type plain McpServerConfig
	p := plain(c)
	if c.Type == McpLocal && len(c.Command) == 1 {
		type withString struct {
			plain
			Command string `json:"command"`
		}
		return json.Marshal(withString{p, c.Command[0]})
	}
	return json.Marshal(p)
}
