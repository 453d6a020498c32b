// Package pending describes the agents whose adapters are not built yet
// (codex, opencode, amp): they are listed with their capabilities and their
// true install state, and refuse sessions with agent_not_installed, so
// clients see the whole agent set and a clear reason.
package pending

import (
	"context"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Adapter is an agent without an adapter yet.
type Adapter struct {
	info    agent.Info
	resolve func(name string) (string, bool)
}

// New returns the placeholder for one of codex, opencode, amp.
func New(id string) *Adapter {
	info := agent.Info{ID: id, Name: id, PermissionModes: []string{schema.PermissionModeDefault}}
	c := schema.AgentCapabilities{ToolCalls: true, ToolResults: true, TextMessages: true, McpTools: true}
	switch id {
	case "codex":
		info.Name = "Codex"
		c = schema.AgentCapabilities{PlanMode: true, Permissions: true, ToolCalls: true, ToolResults: true, TextMessages: true,
			Images: true, FileAttachments: true, SessionLifecycle: true, ErrorEvents: true, Reasoning: true, Status: true,
			CommandExecution: true, FileChanges: true, McpTools: true, StreamingDeltas: true, ItemStarted: true, SharedProcess: true}
		info.CredentialProviders = []string{"openai"}
	case "opencode":
		info.Name = "OpenCode"
		c.Images, c.FileAttachments, c.SessionLifecycle, c.ErrorEvents = true, true, true, true
		c.StreamingDeltas, c.ItemStarted, c.SharedProcess = true, true, true
		info.CredentialProviders = []string{"anthropic", "openai"}
	case "amp":
		info.Name = "Amp"
		c.ErrorEvents = true
		info.CredentialProviders = []string{"anthropic"}
	}
	info.Capabilities = c
	return &Adapter{info: info}
}

// WithResolver makes Status report the agent's binary as resolve finds it
// (the installer's directory, then PATH): an installed CLI reads installed,
// with its path and version, although no session can use it yet.
func (a *Adapter) WithResolver(resolve func(name string) (string, bool)) *Adapter {
	a.resolve = resolve
	return a
}

// Info implements agent.Adapter.
func (a *Adapter) Info() agent.Info { return a.info }

// Status implements agent.Adapter.
func (a *Adapter) Status(ctx context.Context) (agent.InstallStatus, error) {
	st := agent.InstallStatus{}
	if a.resolve != nil {
		st = process.BinaryStatus(ctx, a.info.ID, a.resolve)
	}
	if a.info.Capabilities.SharedProcess {
		st.Server = &schema.ServerStatusInfo{Status: schema.ServerStopped}
	}
	return st, nil
}

// Modes implements agent.Adapter.
func (a *Adapter) Modes(context.Context) ([]agent.Mode, error) {
	return []agent.Mode{{ID: "build", Name: "Build", Description: "Default build mode"}}, nil
}

// Models implements agent.Adapter.
func (a *Adapter) Models(context.Context) (agent.ModelList, error) {
	return agent.ModelList{Models: []schema.AgentModelInfo{}}, nil
}

// Open implements agent.Adapter: always agent_not_installed.
func (a *Adapter) Open(context.Context, agent.Spec, agent.Sink) (agent.Conn, error) {
	return nil, agent.Errorf(agent.ErrNotInstalled, "the %s adapter is not available in this build yet", a.info.ID)
}

// Installable is false: installing the CLI would not help until the
// adapter exists, so session creation fails fast instead of downloading.
func (a *Adapter) Installable() bool { return false }
