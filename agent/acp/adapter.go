// Package acp is the generic adapter for agents that speak the Agent Client
// Protocol (JSON-RPC 2.0 over the agent's stdio: initialize, session/new,
// session/prompt, session/update notifications, session/request_permission,
// session/cancel, and the client's fs/* and terminal/* methods). One
// Adapter serves one entry of the ACP registry (agent/acp/registry); each
// session runs its own agent process.
//
// native.go holds the wire types, convert.go the pure conversion of
// session/update notifications to universal events, conn.go a session (the
// process, turns, permissions), fs.go and terminal.go the client methods
// the agent may call. testdata/acp-schema-v1.json is the protocol's JSON
// schema; protocol_test.go validates every message against it.
package acp

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/acp/registry"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/credentials"
	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Defaults of Options.
const (
	DefaultStartTimeout   = 60 * time.Second
	DefaultRequestTimeout = 60 * time.Second
	DefaultInterruptGrace = 10 * time.Second
)

// Options configures an adapter.
type Options struct {
	// Binary overrides the entry's executable (a name resolved with
	// Resolve, or a path).
	Binary string
	// Resolve finds an agent's executable by agent id; exec.LookPath of
	// the entry's Bin when nil. The server looks in the installer's
	// directory first.
	Resolve process.Lookup
	// ExtraArgs are appended to the entry's command line.
	ExtraArgs []string
	// Env is added to the agent's environment after the entry's own.
	Env []string
	// StartTimeout bounds initialize and session/new
	// (DefaultStartTimeout when zero).
	StartTimeout time.Duration
	// RequestTimeout bounds every request but session/prompt
	// (DefaultRequestTimeout when zero).
	RequestTimeout time.Duration
	// InterruptGrace is how long Interrupt waits for the agent to end the
	// cancelled turn (DefaultInterruptGrace when zero).
	InterruptGrace time.Duration
	// HasCredentials overrides the credential check at session creation.
	HasCredentials func(env []string) bool
}

// Adapter is one ACP agent kind.
type Adapter struct {
	e    registry.Entry
	opts Options

	mu     sync.Mutex
	modes  []agent.Mode
	models *agent.ModelList
}

var _ agent.Adapter = (*Adapter)(nil)

// New returns the adapter for registry entry e.
func New(e registry.Entry, opts Options) *Adapter {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.InterruptGrace <= 0 {
		opts.InterruptGrace = DefaultInterruptGrace
	}
	return &Adapter{e: e, opts: opts}
}

// All returns an adapter for every registry entry.
func All(opts Options) []agent.Adapter {
	var out []agent.Adapter
	for _, e := range registry.Entries() {
		out = append(out, New(e, opts))
	}
	return out
}

// Info describes the agent: what every ACP agent can report through the
// protocol. Questions and plan approval have no ACP method.
func (a *Adapter) Info() agent.Info {
	return agent.Info{
		ID:   a.e.ID,
		Name: a.e.Name,
		Capabilities: schema.AgentCapabilities{
			Permissions: true, ToolCalls: true, ToolResults: true, TextMessages: true,
			Images: a.e.Images, FileAttachments: true, SessionLifecycle: true,
			ErrorEvents: true, Reasoning: true, Status: true,
			CommandExecution: true, FileChanges: true, McpTools: true,
			StreamingDeltas: true, ItemStarted: true,
		},
		CredentialProviders: slices.Clone(a.e.Credentials),
		PermissionModes: []string{schema.PermissionModeDefault, schema.PermissionModeBypass,
			schema.PermissionModeAcceptEdits},
	}
}

// binary is what to resolve and how: the configured binary as is, else the
// agent id through Resolve (the installer knows which file serves it),
// else the entry's executable on PATH.
func (a *Adapter) binary() (string, process.Lookup) {
	switch {
	case a.opts.Binary != "":
		return a.opts.Binary, nil
	case a.opts.Resolve != nil:
		return a.e.ID, a.opts.Resolve
	}
	return a.e.Bin, nil
}

func (a *Adapter) resolve() (string, bool) { return process.Resolve(a.binary()) }

// Status reports the executable and its version.
func (a *Adapter) Status(ctx context.Context) (agent.InstallStatus, error) {
	bin, lookup := a.binary()
	return process.BinaryStatus(ctx, bin, lookup), nil
}

// defaultMode stands for the agent's own default mode: sessions ask for
// "build" unless told otherwise, and an agent without such a mode keeps
// its default.
var defaultMode = agent.Mode{ID: "build", Name: "Default", Description: "The agent's default mode"}

// Modes are the session modes the agent offered in its last session (ACP
// agents name them per session), with build for its default. Before the
// first session they are unknown: any mode is accepted ("custom") and the
// session checks it against what the agent offers.
func (a *Adapter) Modes(context.Context) ([]agent.Mode, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.modes == nil {
		return []agent.Mode{defaultMode, {ID: "custom", Name: "Custom", Description: "Any mode the agent offers"}}, nil
	}
	if !slices.ContainsFunc(a.modes, func(m agent.Mode) bool { return m.ID == defaultMode.ID }) {
		return append([]agent.Mode{defaultMode}, a.modes...), nil
	}
	return slices.Clone(a.modes), nil
}

// Models are the model choices the agent offered in its last session.
func (a *Adapter) Models(context.Context) (agent.ModelList, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.models == nil {
		return agent.ModelList{Models: []schema.AgentModelInfo{}}, nil
	}
	return *a.models, nil
}

// learn keeps the modes and models a new session offered.
func (a *Adapter) learn(r newSessionResult) {
	var modes []agent.Mode
	var models *agent.ModelList
	if r.Modes != nil {
		for _, m := range r.Modes.AvailableModes {
			modes = append(modes, agent.Mode{ID: m.ID, Name: m.Name, Description: m.Description})
		}
	}
	for _, o := range r.ConfigOptions {
		switch o.Category {
		case "mode":
			if modes == nil {
				for _, v := range o.values() {
					modes = append(modes, agent.Mode{ID: v.Value, Name: v.Name, Description: v.Description})
				}
			}
		case "model":
			ml := agent.ModelList{Models: []schema.AgentModelInfo{}}
			for _, v := range o.values() {
				ml.Models = append(ml.Models, schema.AgentModelInfo{ID: v.Value, Name: schema.Ptr(v.Name)})
			}
			var cur string
			if jsonString(o.CurrentValue, &cur) && cur != "" {
				ml.DefaultModel = schema.Ptr(cur)
			}
			models = &ml
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if modes != nil {
		a.modes = modes
	}
	if models != nil {
		a.models = models
	}
}

// Open starts the agent for one session.
func (a *Adapter) Open(ctx context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	switch spec.PermissionMode {
	case "", schema.PermissionModeDefault, schema.PermissionModeBypass, schema.PermissionModeAcceptEdits:
	default:
		return nil, agent.Errorf(agent.ErrModeUnsupported, "%s does not support permission mode %q", a.e.ID, spec.PermissionMode)
	}
	path, ok := a.resolve()
	if !ok {
		return nil, agent.Errorf(agent.ErrNotInstalled, "agent not installed: %s (%s not found)", a.e.ID, a.e.Bin)
	}
	env := append(append(append([]string{}, a.e.Env...), a.opts.Env...), spec.Env...)
	if err := a.checkCredentials(env); err != nil {
		return nil, err
	}
	c := newConn(a, spec, sink, path, env)
	if err := c.start(ctx); err != nil {
		_ = c.Close(context.Background())
		return nil, err
	}
	return c, nil
}

// checkCredentials refuses a session when the entry needs one of its
// credential variables and none is set (in the session's or the server's
// environment, or discovered from another agent's configuration).
func (a *Adapter) checkCredentials(env []string) error {
	if len(a.e.CredentialVars) == 0 {
		return nil
	}
	if a.opts.HasCredentials != nil {
		if a.opts.HasCredentials(env) {
			return nil
		}
	} else {
		for _, k := range a.e.CredentialVars {
			if envValue(env, k) != "" || os.Getenv(k) != "" {
				return nil
			}
		}
		for _, p := range a.e.Credentials {
			if _, ok := credentials.Lookup(p); ok {
				return nil
			}
		}
	}
	v := a.e.CredentialVars[0]
	return problem.New(problem.InvalidRequest, "%s has no credentials: set %s in the server's environment", a.e.ID, v).
		With("variable", v).With("field", v)
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
