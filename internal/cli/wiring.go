package cli

import (
	"context"
	"errors"
	"sync"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/acp"
	"github.com/sandbox-agent/sandbox-agent/agent/amp"
	"github.com/sandbox-agent/sandbox-agent/agent/claude"
	"github.com/sandbox-agent/sandbox-agent/agent/codex"
	"github.com/sandbox-agent/sandbox-agent/agent/mock"
	"github.com/sandbox-agent/sandbox-agent/agent/opencode"
	"github.com/sandbox-agent/sandbox-agent/credentials"
	"github.com/sandbox-agent/sandbox-agent/install"
	"github.com/sandbox-agent/sandbox-agent/problem"
)

// installer is the process-wide agent installer.
var installer = sync.OnceValue(func() *install.Manager { return install.New(install.Config{}) })

// newRegistry lists the agents in the reference's order.
func newRegistry(o serverOptions) *agent.Registry {
	// Adapters find their binaries where the installer puts them first.
	resolve := func(name string) (string, bool) { return installer().Resolve(name) }
	claude.ResolveBinary = resolve
	codex.ResolveBinary = resolve
	adapters := []agent.Adapter{
		claude.New(claude.Options{StartTimeout: o.agentStartTimeout}),
		codex.New(codex.Options{Version: Version}),
		opencode.New(opencode.Options{Resolve: resolve, StartTimeout: o.agentStartTimeout}),
		amp.New(amp.Options{Resolve: resolve}),
	}
	// ACP agents (agent/acp/registry) follow the native ones.
	adapters = append(adapters, acp.All(acp.Options{Resolve: resolve, StartTimeout: o.agentStartTimeout})...)
	return agent.NewRegistry(append(adapters, mock.New(mock.Options{}))...)
}

// agentEnv hands an agent the credentials found in other agents' config
// files (those from the environment it inherits anyway). It looks again at
// every session, so an agent logged in meanwhile just works.
func agentEnv(agentID string) []string {
	return credentials.Discover(credentials.Options{}).AgentEnv(agentID)
}

func credentialsAvailable(provider string) bool { return credentials.Available(provider) }

// agentInstaller adapts the install package to the session and server
// interfaces, turning its errors into install_failed problems.
type agentInstaller struct{ m *install.Manager }

func (a agentInstaller) EnsureInstalled(ctx context.Context, id, version string) (string, error) {
	if err := checkVersion(version); err != nil {
		return "", err
	}
	p, err := a.m.EnsureInstalled(ctx, id, version)
	return p, installProblem(id, version, err)
}

func (a agentInstaller) Install(ctx context.Context, id, version string, reinstall bool) error {
	if err := checkVersion(version); err != nil {
		return err
	}
	_, err := a.m.Install(ctx, id, install.Options{Version: version, Reinstall: reinstall})
	return installProblem(id, version, err)
}

func checkVersion(v string) error {
	if v != "" && !install.ValidVersion(v) {
		return problem.Invalid("agentVersion must be a version or npm range of printable ASCII, at most 128 bytes").With("field", "agentVersion")
	}
	return nil
}

// installProblem: a version that does not exist is the caller's mistake
// (400 naming agentVersion); anything else is install_failed.
func installProblem(id, version string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, install.ErrVersionNotFound) {
		e := problem.Invalid("agentVersion %s of %s is not available: %s", version, id, err.Error()).With("field", "agentVersion")
		e.Agent, e.Err = id, err
		return e
	}
	e := problem.InstallFailure(id, err)
	var ie *install.Error
	if errors.As(err, &ie) && ie.URL != "" {
		e.With("url", ie.URL)
	}
	return e
}

func newInstaller() agentInstaller { return agentInstaller{installer()} }
