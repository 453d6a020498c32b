// Package codex is the Codex adapter: one shared `codex app-server` per
// server process, spoken to in JSON-RPC over stdio (agent/jsonrpc) and kept
// alive by a process.Supervisor, with one thread per session. The server
// starts with the first session and stops with the last; if it dies it is
// restarted and every live session resumes its thread (thread/resume).
//
// native.go holds the wire types, convert.go the pure conversion of a
// thread's notifications (golden-tested against captures in testdata/),
// hitl.go approvals and questions, conn.go a session, server.go the shared
// process and the routing of its messages by thread id.
package codex

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/jsonrpc"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/credentials"
	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// ResolveBinary finds the codex binary by name. The server replaces it to
// look in the installer's directory first; the default is exec.LookPath.
var ResolveBinary = func(name string) (string, bool) {
	p, err := exec.LookPath(name)
	return p, err == nil
}

// Options configures the adapter.
type Options struct {
	// Binary is the program name (resolved with ResolveBinary) or path;
	// "codex" when empty.
	Binary string
	// ExtraArgs are appended to the app-server command line.
	ExtraArgs []string
	// Env is added to the app-server's environment.
	Env []string
	// Version is reported to the app-server as our client version.
	Version string
	// RequestTimeout bounds each JSON-RPC request (default 60s).
	RequestTimeout time.Duration
	// HasCredentials overrides the credential check at session creation;
	// by default an OpenAI key in the environment or Codex's own login.
	HasCredentials func(env []string) bool
}

// Adapter is the Codex agent kind.
type Adapter struct {
	opts Options
	srv  *server

	emu sync.Mutex
	env []string // the environment the next app-server starts with

	mmu    sync.Mutex
	models *agent.ModelList
}

// New returns the Codex adapter.
func New(opts Options) *Adapter {
	if opts.Binary == "" {
		opts.Binary = "codex"
	}
	if opts.Version == "" {
		opts.Version = "0.0.0"
	}
	a := &Adapter{opts: opts}
	a.srv = newServer(a.start, opts.Version)
	return a
}

var _ agent.Adapter = (*Adapter)(nil)

// Info describes Codex.
func (a *Adapter) Info() agent.Info {
	return agent.Info{
		ID:                  "codex",
		Name:                "Codex",
		Capabilities:        agent.FullCapabilities(true),
		CredentialProviders: []string{"openai"},
		PermissionModes:     agent.AllPermissionModes(),
	}
}

// Status reports the binary and the shared app-server.
func (a *Adapter) Status(ctx context.Context) (agent.InstallStatus, error) {
	srv := a.srv.sup.Status()
	st := process.BinaryStatus(ctx, a.opts.Binary, ResolveBinary)
	st.Server = &srv
	return st, nil
}

func (a *Adapter) resolve() (string, bool) { return process.Resolve(a.opts.Binary, ResolveBinary) }

// Modes are build and plan; plan asks for a plan before acting.
func (a *Adapter) Modes(context.Context) ([]agent.Mode, error) {
	return []agent.Mode{
		{ID: "build", Name: "Build", Description: "Default build mode"},
		{ID: "plan", Name: "Plan", Description: "Make a plan before acting"},
	}, nil
}

// policy is how a permission mode maps onto the app-server.
type policy struct {
	approval  string // approvalPolicy
	sandbox   string // sandbox mode
	autoEdits bool   // accept file changes without asking (acceptEdits)
	plan      bool   // ask for approval of the plan before acting
}

// policyFor maps permission modes: default asks before anything not known
// to be safe (untrusted); plan also keeps the workspace read-only; bypass
// never asks; acceptEdits asks for commands and accepts file changes.
// Commands run without Codex's own sandbox, as this server is the sandbox.
func policyFor(mode string) (policy, error) {
	switch mode {
	case "", schema.PermissionModeDefault:
		return policy{approval: "untrusted", sandbox: "danger-full-access"}, nil
	case schema.PermissionModeAcceptEdits:
		return policy{approval: "untrusted", sandbox: "danger-full-access", autoEdits: true}, nil
	case schema.PermissionModePlan:
		return policy{approval: "untrusted", sandbox: "read-only", plan: true}, nil
	case schema.PermissionModeBypass:
		return policy{approval: "never", sandbox: "danger-full-access"}, nil
	}
	return policy{}, agent.Errorf(agent.ErrInvalidRequest, "invalid permission mode: %s", mode)
}

// Open starts the session's thread on the shared app-server, starting the
// server first if no session uses it.
func (a *Adapter) Open(ctx context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	switch spec.AgentMode {
	case "", "build", "plan":
	default:
		return nil, agent.Errorf(agent.ErrModeUnsupported, "codex does not support agent mode %q", spec.AgentMode)
	}
	pol, err := policyFor(spec.PermissionMode)
	if err != nil {
		return nil, err
	}
	if _, ok := a.resolve(); !ok {
		return nil, agent.Errorf(agent.ErrNotInstalled, "agent not installed: codex (%s not found)", a.opts.Binary)
	}
	env := append(append([]string{}, spec.Env...), a.opts.Env...)
	has := a.opts.HasCredentials
	if has == nil {
		has = hasCredentials
	}
	if !has(env) {
		return nil, problem.New(problem.InvalidRequest,
			"codex has no credentials: set OPENAI_API_KEY (or CODEX_API_KEY) in the server's environment, or log in with `codex login`").
			With("variable", "OPENAI_API_KEY").With("field", "OPENAI_API_KEY")
	}
	a.emu.Lock()
	a.env = env
	a.emu.Unlock()
	c := &conn{a: a, spec: spec, sink: sink, pol: pol, pending: map[string]pendingReq{}}
	if err := c.open(ctx); err != nil {
		_ = c.Close(context.Background())
		return nil, err
	}
	return c, nil
}

// hasCredentials reports an OpenAI key in env or the server's environment,
// or a Codex login (auth.json under CODEX_HOME or ~/.codex).
func hasCredentials(env []string) bool {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if (k == "OPENAI_API_KEY" || k == "CODEX_API_KEY") && v != "" {
			return true
		}
	}
	if os.Getenv("OPENAI_API_KEY") != "" || os.Getenv("CODEX_API_KEY") != "" || hasLogin(env) {
		return true
	}
	_, ok := credentials.Lookup("openai")
	return ok
}

// hasLogin reports a Codex login: auth.json in the Codex home.
func hasLogin(env []string) bool {
	_, err := os.Stat(filepath.Join(codexHome(env), "auth.json"))
	return err == nil
}

// codexHome is CODEX_HOME (the session's, else the server's), else ~/.codex.
func codexHome(env []string) string {
	if h := envValue(env, "CODEX_HOME"); h != "" {
		return h
	}
	if h := os.Getenv("CODEX_HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return filepath.Join(h, ".codex")
}

func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// args is the app-server command line: request_user_input enabled (it is
// how Codex asks questions), the update check, plugins, apps and
// analytics off, since they reach outside hosts.
func (a *Adapter) args() []string {
	args := []string{"app-server",
		"--enable", "default_mode_request_user_input",
		"--disable", "plugins", "--disable", "remote_plugin", "--disable", "apps",
		"-c", "check_for_update_on_startup=false",
		"-c", "analytics.enabled=false",
		"-c", "suppress_unstable_features_warning=true",
	}
	return append(args, a.opts.ExtraArgs...)
}

// providerArgs picks the model provider from the environment, on the
// command line only (nothing is written to CODEX_HOME). The CLI itself
// reads neither OPENAI_BASE_URL nor OPENAI_API_KEY for its built-in openai
// provider (0.169: that one authenticates through `codex login`). So when
// the server was given an endpoint (OPENAI_BASE_URL), or a key while the
// user has neither a login nor a provider of their own in config.toml, the
// app-server gets a provider of ours on the Responses API with that URL
// (default the OpenAI API) and that key variable; otherwise the user's
// config and login stand.
func providerArgs(env []string) []string {
	get := func(k string) string {
		if v := envValue(env, k); v != "" {
			return v
		}
		return os.Getenv(k)
	}
	keyVar := ""
	for _, k := range []string{"OPENAI_API_KEY", "CODEX_API_KEY"} {
		if get(k) != "" {
			keyVar = k
			break
		}
	}
	base := get("OPENAI_BASE_URL")
	if base == "" && (keyVar == "" || hasLogin(env) || ownProvider(env)) {
		return nil
	}
	if base == "" {
		base = "https://api.openai.com/v1"
	}
	p := fmt.Sprintf(`{name="sandbox-agent", base_url=%s, wire_api="responses"`, strconv.Quote(base))
	if keyVar != "" {
		p += fmt.Sprintf(", env_key=%q", keyVar)
	}
	return []string{"-c", "model_providers.sandbox-agent=" + p + "}", "-c", `model_provider="sandbox-agent"`}
}

// ownProvider reports a top-level model_provider in the user's config.toml.
func ownProvider(env []string) bool {
	b, err := os.ReadFile(filepath.Join(codexHome(env), "config.toml"))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			return false // top-level keys come before the first table
		}
		if k, _, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == "model_provider" {
			return true
		}
	}
	return false
}

// start spawns one app-server.
func (a *Adapter) start(ctx context.Context, h jsonrpc.Handler) (*process.Proc, *jsonrpc.Conn, error) {
	path, ok := a.resolve()
	if !ok {
		return nil, nil, agent.Errorf(agent.ErrNotInstalled, "agent not installed: codex (%s not found)", a.opts.Binary)
	}
	a.emu.Lock()
	env := append([]string{}, a.env...)
	a.emu.Unlock()
	args := append(a.args(), providerArgs(env)...)
	p, err := process.Start(process.Options{Path: path, Args: args, Env: env, Stdin: true})
	if err != nil {
		return nil, nil, err
	}
	c := jsonrpc.New(p.Stdout(), p.Stdin(), h, jsonrpc.Options{Timeout: a.opts.RequestTimeout})
	return p, c, nil
}
