package opencode

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Defaults of Options.
const (
	DefaultStartTimeout   = 60 * time.Second
	DefaultInterruptGrace = 10 * time.Second
)

// Options configures the adapter.
type Options struct {
	// Binary is the program name (resolved with Resolve) or a path;
	// "opencode" when empty.
	Binary string
	// Resolve finds a program name; exec.LookPath when nil. The server
	// looks in the installer's directory first.
	Resolve func(name string) (string, bool)
	// ExtraArgs are appended to the `opencode serve` command line.
	ExtraArgs []string
	// Env is added to the server process's environment.
	Env []string
	// Dir is the server process's working directory (the server's own
	// when empty); sessions name their project directory per request.
	Dir string
	// StartTimeout bounds the wait for a new server to answer its health
	// check (DefaultStartTimeout when zero).
	StartTimeout time.Duration
	// InterruptGrace is how long an aborted turn may take to report idle
	// (DefaultInterruptGrace when zero).
	InterruptGrace time.Duration
	// MinBackoff is the first restart delay of a server that died (the
	// supervisor's default when zero).
	MinBackoff time.Duration
	// Logger gets the adapter's diagnostics (slog.Default when nil).
	Logger *slog.Logger
}

// Adapter is the OpenCode agent kind.
type Adapter struct {
	opts Options
	srv  *shared

	mu     sync.Mutex
	modes  []agent.Mode
	models *agent.ModelList
	// linger keeps a server started for modes or models running a little
	// while: creating a session asks for both, then opens the session.
	linger      *process.Lease[*instance]
	lingerTimer *time.Timer
}

// lingerFor is how long a server started only to answer modes or models
// stays up, waiting for the session that usually follows.
const lingerFor = 20 * time.Second

var _ agent.Adapter = (*Adapter)(nil)

// New returns the OpenCode adapter. Nothing starts until the first session
// (or modes/models request) needs the server.
func New(opts Options) *Adapter {
	if opts.Binary == "" {
		opts.Binary = "opencode"
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.InterruptGrace <= 0 {
		opts.InterruptGrace = DefaultInterruptGrace
	}
	a := &Adapter{opts: opts}
	a.srv = newShared(a)
	return a
}

func (a *Adapter) logger() *slog.Logger {
	if a.opts.Logger != nil {
		return a.opts.Logger
	}
	return slog.Default() // set by the server after the registry is built
}

func (a *Adapter) info(msg string, args ...any) {
	a.logger().Info(msg, append(args, "agent", "opencode")...)
}

func (a *Adapter) logf(format string, args ...any) {
	a.logger().Debug(fmt.Sprintf(format, args...), "agent", "opencode")
}

// Info describes OpenCode.
func (a *Adapter) Info() agent.Info {
	return agent.Info{
		ID:                  "opencode",
		Name:                "OpenCode",
		Capabilities:        agent.FullCapabilities(true),
		CredentialProviders: []string{"anthropic", "openai"},
		PermissionModes:     agent.AllPermissionModes(),
	}
}

func (a *Adapter) resolve() (string, bool) { return process.Resolve(a.opts.Binary, a.opts.Resolve) }

// Status reports the binary and the shared server.
func (a *Adapter) Status(ctx context.Context) (agent.InstallStatus, error) {
	srv := a.srv.sup.Status()
	st := process.BinaryStatus(ctx, a.opts.Binary, a.opts.Resolve)
	st.Server = &srv
	return st, nil
}

// withServer runs f against the shared server, starting it for the call if
// no session holds it.
func (a *Adapter) withServer(ctx context.Context, f func(*instance) error) error {
	if _, ok := a.resolve(); !ok {
		return agent.Errorf(agent.ErrNotInstalled, "agent not installed: opencode (%s not found)", a.opts.Binary)
	}
	lease, pi, err := a.srv.sup.Acquire(ctx, process.LeaseHooks[*instance]{})
	if err != nil {
		return agent.Errorf(agent.ErrProcessExited, "opencode server did not start: %v", err)
	}
	defer a.keep(lease)
	return f(pi.Client)
}

// keep holds lease for lingerFor, in place of any lease held so far.
func (a *Adapter) keep(lease *process.Lease[*instance]) {
	a.mu.Lock()
	old, oldTimer := a.linger, a.lingerTimer
	a.linger = lease
	a.lingerTimer = time.AfterFunc(lingerFor, func() { a.dropLinger(lease) })
	a.mu.Unlock()
	if oldTimer != nil {
		oldTimer.Stop()
	}
	if old != nil {
		old.Release()
	}
}

// dropLinger releases the lingering lease (only that one, when set): a
// session now holds the server, or nobody came.
func (a *Adapter) dropLinger(only *process.Lease[*instance]) {
	a.mu.Lock()
	l := a.linger
	if l == nil || (only != nil && l != only) {
		a.mu.Unlock()
		return
	}
	a.linger = nil
	if a.lingerTimer != nil {
		a.lingerTimer.Stop()
	}
	a.mu.Unlock()
	l.Release()
}

// Modes lists the server's primary agents (build, plan and any the user
// configured); hidden internal ones (title, summary, compaction) are left
// out.
func (a *Adapter) Modes(ctx context.Context) ([]agent.Mode, error) {
	a.mu.Lock()
	if a.modes != nil {
		defer a.mu.Unlock()
		return a.modes, nil
	}
	a.mu.Unlock()
	var list []agentInfo
	err := a.withServer(ctx, func(inst *instance) error {
		var err error
		list, err = inst.agents(ctx, a.opts.Dir)
		return err
	})
	if err != nil {
		return nil, err
	}
	modes := primaryModes(list)
	a.mu.Lock()
	a.modes = modes
	a.mu.Unlock()
	return modes, nil
}

func primaryModes(list []agentInfo) []agent.Mode {
	modes := []agent.Mode{}
	for _, ag := range list {
		if ag.Hidden || ag.Mode == "subagent" {
			continue
		}
		name := ag.Name
		if name != "" {
			name = strings.ToUpper(name[:1]) + name[1:]
		}
		modes = append(modes, agent.Mode{ID: ag.Name, Name: name, Description: ag.Description})
	}
	return modes
}

// Models lists every model of the server's configured providers as
// provider/model, with its variants; the default is the configured model.
func (a *Adapter) Models(ctx context.Context) (agent.ModelList, error) {
	a.mu.Lock()
	if a.models != nil {
		defer a.mu.Unlock()
		return *a.models, nil
	}
	a.mu.Unlock()
	var prov providersResponse
	var cfg struct {
		Model string `json:"model"`
	}
	err := a.withServer(ctx, func(inst *instance) error {
		var err error
		if prov, err = inst.providers(ctx, a.opts.Dir); err != nil {
			return err
		}
		return inst.call(ctx, "GET", "/config", a.opts.Dir, nil, &cfg)
	})
	if err != nil {
		return agent.ModelList{}, err
	}
	ml := modelList(prov, cfg.Model)
	a.mu.Lock()
	a.models = &ml
	a.mu.Unlock()
	return ml, nil
}

func modelList(prov providersResponse, configured string) agent.ModelList {
	ml := agent.ModelList{Models: []schema.AgentModelInfo{}}
	for _, p := range prov.Providers {
		ids := make([]string, 0, len(p.Models))
		for id := range p.Models {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			m := p.Models[id]
			info := schema.AgentModelInfo{ID: p.ID + "/" + id}
			if m.Name != "" {
				info.Name = schema.Ptr(m.Name)
			}
			for v := range m.Variants {
				info.Variants = append(info.Variants, v)
			}
			sort.Strings(info.Variants)
			ml.Models = append(ml.Models, info)
		}
	}
	def := configured
	if def == "" && len(prov.Providers) > 0 {
		if m := prov.Default[prov.Providers[0].ID]; m != "" {
			def = prov.Providers[0].ID + "/" + m
		}
	}
	if def != "" {
		ml.DefaultModel = schema.Ptr(def)
	}
	return ml
}

// permissionRules maps our permission modes onto OpenCode's per-session
// permission rules, which override its configuration (the last matching
// rule wins): default asks before commands and edits, acceptEdits asks
// before commands only, bypass allows everything. plan runs the plan
// agent, which refuses edits itself.
func permissionRules(mode string) []permissionRule {
	switch mode {
	case schema.PermissionModeBypass:
		return []permissionRule{{Permission: "*", Pattern: "*", Action: "allow"}}
	case schema.PermissionModeAcceptEdits:
		return []permissionRule{{Permission: "bash", Pattern: "*", Action: "ask"}, {Permission: "edit", Pattern: "*", Action: "allow"}}
	}
	return []permissionRule{{Permission: "bash", Pattern: "*", Action: "ask"}, {Permission: "edit", Pattern: "*", Action: "ask"}}
}

// serverEnv is what `opencode serve` gets on top of the server's
// environment: its password, no self-update (the installer owns
// versions), the question tool, and our configuration layer
// (OPENCODE_CONFIG_CONTENT, merged over the user's files, which stay
// untouched): OpenAI- and Anthropic-compatible base URLs from the
// environment.
func (a *Adapter) serverEnv(password string) ([]string, error) {
	cfg := map[string]any{"autoupdate": false}
	providers := map[string]any{}
	for _, p := range []struct{ id, env string }{{"openai", "OPENAI_BASE_URL"}, {"anthropic", "ANTHROPIC_BASE_URL"}} {
		if u := lookupEnv(a.opts.Env, p.env); u != "" {
			providers[p.id] = map[string]any{"options": map[string]any{"baseURL": u}}
		}
	}
	if len(providers) > 0 {
		cfg["provider"] = providers
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	env := []string{
		"OPENCODE_SERVER_PASSWORD=" + password,
		"OPENCODE_DISABLE_AUTOUPDATE=1",
		"OPENCODE_ENABLE_QUESTION_TOOL=1",
		"OPENCODE_CONFIG_CONTENT=" + string(b),
	}
	return append(env, a.opts.Env...), nil
}

// lookupEnv reads name from extra (last wins) or the process environment.
func lookupEnv(extra []string, name string) string {
	for i := len(extra) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(extra[i], name+"="); ok {
			return v
		}
	}
	return os.Getenv(name)
}

// Open creates (or, with NativeSessionID, re-opens) an OpenCode session on
// the shared server, starting the server if it is not running.
func (a *Adapter) Open(ctx context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	switch spec.PermissionMode {
	case "", schema.PermissionModeDefault, schema.PermissionModePlan, schema.PermissionModeBypass, schema.PermissionModeAcceptEdits:
	default:
		return nil, agent.Errorf(agent.ErrInvalidRequest, "invalid permission mode: %s", spec.PermissionMode)
	}
	if _, err := modelFor(spec.Model); err != nil {
		return nil, err
	}
	if _, ok := a.resolve(); !ok {
		return nil, agent.Errorf(agent.ErrNotInstalled, "agent not installed: opencode (%s not found)", a.opts.Binary)
	}
	c := &conn{a: a, s: a.srv, spec: spec, sink: sink}
	lease, pi, err := a.srv.sup.Acquire(ctx, process.LeaseHooks[*instance]{
		Restarted: func(ctx context.Context, pi process.Instance[*instance]) { c.restarted(ctx, pi) },
		Lost:      func(err error, stderr schema.StderrOutput) { c.lost(err, stderr) },
	})
	if err != nil {
		return nil, agent.Errorf(agent.ErrProcessExited, "opencode server did not start: %v", err)
	}
	c.lease = lease
	a.dropLinger(nil)
	if err := a.openSession(ctx, c, pi.Client); err != nil {
		lease.Release()
		return nil, err
	}
	return c, nil
}

func (a *Adapter) openSession(ctx context.Context, c *conn, inst *instance) error {
	spec := c.spec
	if mode := agentFor(spec); mode != "" {
		list, err := inst.agents(ctx, spec.Dir)
		if err != nil {
			return apiErr("opencode did not list its agents", err)
		}
		if !hasMode(primaryModes(list), mode) {
			return agent.Errorf(agent.ErrModeUnsupported, "mode not supported: opencode has no primary agent %q", mode)
		}
	}
	if err := a.addMCP(ctx, inst, spec); err != nil {
		return err
	}
	var info sessionInfo
	var err error
	if spec.NativeSessionID != "" {
		info, err = inst.getSession(ctx, spec.Dir, spec.NativeSessionID)
	} else {
		info, err = inst.createSession(ctx, spec.Dir, createSessionBody{Permission: permissionRules(spec.PermissionMode)})
	}
	if err != nil {
		return apiErr("opencode did not open the session", err)
	}
	c.nativeID = info.ID
	c.conv = NewConverter(info.ID)
	a.srv.add(c)
	meta, _ := json.Marshal(map[string]any{"nativeSessionId": info.ID, "directory": info.Directory, "version": info.Version,
		"agent": agentFor(spec), "model": spec.Model, "variant": spec.Variant})
	c.emit(agent.Draft{Type: schema.EventSessionStarted, Data: &schema.SessionStartedData{Metadata: meta}, NativeSessionID: info.ID})
	return nil
}

func hasMode(modes []agent.Mode, id string) bool {
	for _, m := range modes {
		if m.ID == id {
			return true
		}
	}
	return false
}
