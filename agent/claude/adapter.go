// Package claude is the Claude Code adapter: one long-lived `claude` process
// per session, spoken to in bidirectional stream-json with the control
// protocol (initialize, can_use_tool, interrupt). Turns are user lines on
// stdin; a result line ends a turn, not the process. A process that died
// between turns is restarted with --resume on the next message.
//
// native.go holds the wire types, convert*.go the pure conversion to
// universal events (golden-tested against captures in testdata/), hitl.go
// permissions and questions, stdin.go the lines we write, conn.go the
// process side of a session.
package claude

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// ResolveBinary finds the claude binary by name. The server replaces it to
// look in the installer's directory first; the default is exec.LookPath.
var ResolveBinary = func(name string) (string, bool) {
	p, err := exec.LookPath(name)
	return p, err == nil
}

// Defaults of Options.
const (
	DefaultInterruptGrace = 10 * time.Second
	DefaultStartTimeout   = 60 * time.Second
)

// Options configures the adapter.
type Options struct {
	// Binary is the program name (resolved with ResolveBinary) or path;
	// "claude" when empty.
	Binary string
	// ExtraArgs are appended to every claude command line.
	ExtraArgs []string
	// Env is added to every claude process's environment, after the
	// session's own (credentials).
	Env []string
	// InterruptGrace is how long an interrupted turn may take to end
	// before the process is killed (DefaultInterruptGrace when zero).
	InterruptGrace time.Duration
	// StartTimeout bounds the wait for the CLI's answer to initialize
	// (DefaultStartTimeout when zero).
	StartTimeout time.Duration
	// Models configures model discovery.
	Models ModelsOptions
}

// Adapter is the Claude Code agent kind.
type Adapter struct {
	opts Options

	mmu    sync.Mutex
	models *agent.ModelList
}

// New returns the Claude Code adapter.
func New(opts Options) *Adapter {
	if opts.Binary == "" {
		opts.Binary = "claude"
	}
	if opts.InterruptGrace <= 0 {
		opts.InterruptGrace = DefaultInterruptGrace
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	return &Adapter{opts: opts}
}

var _ agent.Adapter = (*Adapter)(nil)

// Info describes Claude Code.
func (a *Adapter) Info() agent.Info {
	return agent.Info{
		ID:                  "claude",
		Name:                "Claude Code",
		Capabilities:        agent.FullCapabilities(false),
		NativeTurns:         false,
		CredentialProviders: []string{"anthropic"},
		PermissionModes:     agent.AllPermissionModes(),
	}
}

// Status reports whether claude is installed, where, and its version
// ("2.1.332 (Claude Code)" → "2.1.332"; empty when it cannot be told).
func (a *Adapter) Status(ctx context.Context) (agent.InstallStatus, error) {
	return process.BinaryStatus(ctx, a.opts.Binary, ResolveBinary), nil
}

func (a *Adapter) resolve() (string, bool) { return process.Resolve(a.opts.Binary, ResolveBinary) }

// Modes returns build and plan. plan starts the CLI in its plan mode: the
// agent only reads and plans until the user approves its plan.
func (a *Adapter) Modes(context.Context) ([]agent.Mode, error) {
	return []agent.Mode{
		{ID: "build", Name: "Build", Description: "Default build mode"},
		{ID: "plan", Name: "Plan", Description: "Plan mode: read-only until the plan is approved"},
	}, nil
}

// Open starts the session's claude process and its initialize handshake.
func (a *Adapter) Open(ctx context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	switch spec.AgentMode {
	case "", "build", "plan":
	default:
		return nil, agent.Errorf(agent.ErrModeUnsupported, "mode not supported: claude does not support agent mode %q", spec.AgentMode)
	}
	switch spec.PermissionMode {
	case "", schema.PermissionModeDefault, schema.PermissionModePlan, schema.PermissionModeBypass, schema.PermissionModeAcceptEdits:
	default:
		return nil, agent.Errorf(agent.ErrInvalidRequest, "invalid permission mode: %s", spec.PermissionMode)
	}
	path, ok := a.resolve()
	if !ok {
		return nil, agent.Errorf(agent.ErrNotInstalled, "agent not installed: claude (%s not found)", a.opts.Binary)
	}
	c := newConn(a, path, spec, sink)
	if err := c.open(ctx); err != nil {
		_ = c.Close(context.Background())
		return nil, err
	}
	return c, nil
}

// cliPermissionMode is the CLI's permission mode for a session at start.
func cliPermissionMode(spec agent.Spec) string {
	if spec.AgentMode == "plan" || spec.PermissionMode == schema.PermissionModePlan {
		return "plan"
	}
	return afterPlanMode(spec)
}

// afterPlanMode is the CLI's mode once a plan is approved.
func afterPlanMode(spec agent.Spec) string {
	switch spec.PermissionMode {
	case schema.PermissionModeBypass:
		return "bypassPermissions"
	case schema.PermissionModeAcceptEdits:
		return "acceptEdits"
	}
	return "default"
}

// args is the claude command line; resume is the native session to resume.
func (a *Adapter) args(spec agent.Spec, resume string) []string {
	args := []string{
		"--input-format", "stream-json", "--output-format", "stream-json", "--verbose",
		"--include-partial-messages", "--permission-prompt-tool", "stdio",
	}
	if resume != "" {
		args = append(args, "--resume", resume)
	}
	if spec.Model != "" && spec.Model != "default" {
		args = append(args, "--model", spec.Model)
	}
	switch mode := cliPermissionMode(spec); mode {
	case "default":
	case "bypassPermissions":
		args = append(args, "--dangerously-skip-permissions")
	default:
		args = append(args, "--permission-mode", mode)
	}
	if cfg := mcpConfig(spec.MCP); cfg != "" {
		args = append(args, "--mcp-config", cfg)
	}
	return append(args, a.opts.ExtraArgs...)
}

// env is what a claude process gets on top of the server's environment.
// The CLI's self-update is off (the installer owns versions); CLAUDECODE is
// cleared so a server started from inside Claude Code can still run it; the
// variant is the thinking effort. bypass refuses to run as root unless the
// CLI is told it is in a sandbox, which is what this server is for.
func (a *Adapter) env(spec agent.Spec) []string {
	env := []string{"DISABLE_AUTOUPDATER=1", "CLAUDECODE="}
	if spec.PermissionMode == schema.PermissionModeBypass && os.Geteuid() == 0 {
		env = append(env, "IS_SANDBOX=1")
	}
	if spec.Variant != "" {
		env = append(env, "CLAUDE_CODE_EFFORT_LEVEL="+spec.Variant)
	}
	env = append(env, spec.Env...)
	return append(env, a.opts.Env...)
}
