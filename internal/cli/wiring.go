package cli

import (
	"context"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/mock"
	"github.com/sandbox-agent/sandbox-agent/agent/pending"
	"github.com/sandbox-agent/sandbox-agent/credentials"
	"github.com/sandbox-agent/sandbox-agent/server"
	"github.com/sandbox-agent/sandbox-agent/session"
)

// newRegistry lists the agents in the reference's order.
func newRegistry() *agent.Registry {
	return agent.NewRegistry(
		pending.New("claude"),
		pending.New("codex"),
		pending.New("opencode"),
		pending.New("amp"),
		mock.New(mock.Options{}),
	)
}

func agentEnv(string) []string { return nil }

func credentialsAvailable(provider string) bool { return credentials.Available(provider) }

func newInstaller() session.Installer { return nil }

func newHTTPInstaller() server.Installer { return nil }

var _ = context.Background
