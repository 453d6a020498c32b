package codex

import (
	"path/filepath"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// planPrefix is what plan mode puts before every prompt.
const planPrefix = "Make a plan before acting.\n\n"

// input is a prompt as turn/start input: the text, images as localImage
// (the CLI sends them to the model), other files named in the text for the
// agent to read with its tools.
func (c *conn) input(p agent.Prompt) ([]userInput, error) {
	text := p.Text
	if c.spec.AgentMode == "plan" {
		text = planPrefix + text
	}
	var images []userInput
	var files []string
	for _, at := range p.Attachments {
		path := at.Path
		if isURL(path) {
			// Data URLs and remote images go to the model as they are; a
			// remote file of another kind is named for the agent to fetch.
			if strings.HasPrefix(path, "data:image/") || (!strings.HasPrefix(path, "data:") && isImage(at)) {
				images = append(images, userInput{Type: "image", URL: path})
			} else {
				files = append(files, path)
			}
			continue
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(c.spec.Dir, path)
		}
		if isImage(at) {
			images = append(images, userInput{Type: "localImage", Path: path})
			continue
		}
		files = append(files, path)
	}
	if len(files) > 0 {
		text += "\n\nAttached files:\n- " + strings.Join(files, "\n- ")
	}
	if text == "" && len(images) == 0 {
		return nil, agent.Errorf(agent.ErrInvalidRequest, "empty message")
	}
	in := []userInput{{Type: "text", Text: text, TextElements: nil}}
	return append(in, images...), nil
}

func isURL(p string) bool {
	return strings.HasPrefix(p, "data:") || strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://")
}

func isImage(at schema.MessageAttachment) bool {
	if at.MIME != nil {
		return strings.HasPrefix(*at.MIME, "image/")
	}
	switch strings.ToLower(filepath.Ext(at.Path)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".webp":
		return true
	}
	return false
}

// mcpConfig renders the session's MCP servers as the CLI's mcp_servers
// config table, passed in thread/start's config overrides: stdio servers as
// command/args/env, remote ones as url with headers.
func mcpConfig(servers map[string]schema.McpServerConfig) map[string]any {
	out := map[string]any{}
	for name, s := range servers {
		if s.Enabled != nil && !*s.Enabled {
			continue
		}
		e := map[string]any{}
		switch s.Type {
		case schema.McpLocal:
			if len(s.Command) == 0 {
				continue
			}
			e["command"] = s.Command[0]
			if args := append(append([]string{}, s.Command[1:]...), s.Args...); len(args) > 0 {
				e["args"] = args
			}
			if len(s.Env) > 0 {
				e["env"] = s.Env
			}
			if s.Cwd != nil {
				e["cwd"] = *s.Cwd
			}
		case schema.McpRemote:
			e["url"] = s.URL
			if len(s.Headers) > 0 {
				e["http_headers"] = s.Headers
			}
			if len(s.EnvHeaders) > 0 {
				e["env_http_headers"] = s.EnvHeaders
			}
			if s.BearerTokenEnvVar != nil {
				e["bearer_token_env_var"] = *s.BearerTokenEnvVar
			}
		default:
			continue
		}
		if s.TimeoutMs != nil {
			e["tool_timeout_sec"] = float64(*s.TimeoutMs) / 1000
		}
		out[name] = e
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
