// Package amp is the Amp adapter: the `amp` CLI in execute mode, spoken to
// in its Claude-Code-compatible stream JSON in both directions (the prompt
// as a --stream-json-input line on stdin, records on stdout). Amp's agent
// loop and model calls run on Amp's service (AMP_URL, authenticated with
// AMP_API_KEY); the CLI executes the tools locally.
//
// One CLI process runs one turn: Amp prints its result record only once
// stdin is closed, so the prompt is written and stdin closed, and the next
// turn continues the thread with `amp threads continue <thread id>`.
// Interrupting a turn stops its process.
//
// native.go holds Amp's differences from Claude Code's records (the shared
// decoding is agent/streamjson), convert.go the pure conversion to
// universal events (golden-tested against streams built from Amp's
// documentation in testdata/), probe.go what the installed CLI supports,
// conn.go the processes of a session.
package amp

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Options configures the adapter.
type Options struct {
	// Binary is the program name (resolved with Resolve) or a path; "amp"
	// when empty.
	Binary string
	// Resolve finds a program name; exec.LookPath when nil. The server
	// passes the installer's lookup (its directory first, then PATH).
	Resolve process.Lookup
	// Env is added to every amp process's environment, after the
	// session's own.
	Env []string
	// LookupEnv reads the server's environment (os.LookupEnv when nil):
	// AMP_API_KEY may come from there or from the session's Env.
	LookupEnv func(string) (string, bool)
}

// Adapter is the Amp agent kind.
type Adapter struct {
	opts   Options
	probes probeCache
}

// New returns the Amp adapter.
func New(opts Options) *Adapter {
	if opts.Binary == "" {
		opts.Binary = "amp"
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	return &Adapter{opts: opts}
}

var _ agent.Adapter = (*Adapter)(nil)

// Info describes Amp. It makes its own items (itemStarted) but does not
// stream tokens: a message arrives whole, as one delta per text block.
// Permissions cannot be asked in stream JSON mode (a tool that needs one
// fails the run), so only default and bypass exist.
func (a *Adapter) Info() agent.Info {
	return agent.Info{
		ID:   "amp",
		Name: "Amp",
		Capabilities: schema.AgentCapabilities{
			ToolCalls: true, ToolResults: true, TextMessages: true,
			ErrorEvents: true, Reasoning: true, McpTools: true,
			ItemStarted: true,
		},
		// Amp's access token is its own (AMP_API_KEY or `amp login`), not
		// a provider slot: see CredentialsAvailable.
		PermissionModes: []string{schema.PermissionModeDefault, schema.PermissionModeBypass},
	}
}

func (a *Adapter) resolve() (string, bool) { return process.Resolve(a.opts.Binary, a.opts.Resolve) }

// Status reports whether amp is installed, where, and its version.
func (a *Adapter) Status(ctx context.Context) (agent.InstallStatus, error) {
	return process.BinaryStatus(ctx, a.opts.Binary, a.opts.Resolve), nil
}

// defaultMode runs the CLI without --mode: Amp picks its default.
var defaultMode = agent.Mode{ID: "build", Name: "Build", Description: "Default build mode (Amp's default agent mode)"}

// Modes returns build (Amp's default) and the agent modes the installed
// CLI's help lists for --mode (low, medium, high, ultra in the pinned
// version): each picks Amp's model, system prompt and tools.
func (a *Adapter) Modes(ctx context.Context) ([]agent.Mode, error) {
	modes := []agent.Mode{defaultMode}
	path, ok := a.resolve()
	if !ok {
		return modes, nil
	}
	p, err := a.probes.get(ctx, path)
	if err != nil {
		return modes, nil
	}
	for _, m := range p.modes {
		modes = append(modes, agent.Mode{ID: m, Name: strings.ToUpper(m[:1]) + m[1:],
			Description: "Amp agent mode " + m + " (chooses the model, system prompt and tools)"})
	}
	return modes, nil
}

// Models is empty: Amp has no model choice (its agent modes choose the
// model on Amp's service).
func (a *Adapter) Models(context.Context) (agent.ModelList, error) {
	return agent.ModelList{Models: []schema.AgentModelInfo{}}, nil
}

// legacyModel is the placeholder model id 0.1.11 listed (and filled in at
// create); accepted so that its clients keep working, and ignored.
const legacyModel = "amp-default"

// Open checks what a session needs and prepares its settings; the CLI
// starts with the first message.
func (a *Adapter) Open(ctx context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	path, ok := a.resolve()
	if !ok {
		return nil, agent.Errorf(agent.ErrNotInstalled, "agent not installed: amp (%s not found)", a.opts.Binary)
	}
	if spec.Model != "" && spec.Model != legacyModel {
		return nil, problem.Invalid("amp has no model choice (model %q); pick an agent mode instead", spec.Model).With("field", "model")
	}
	switch spec.PermissionMode {
	case "", schema.PermissionModeDefault, schema.PermissionModeBypass:
	case schema.PermissionModePlan:
		return nil, agent.Errorf(agent.ErrModeUnsupported, "amp does not support permission mode plan")
	default:
		return nil, agent.Errorf(agent.ErrInvalidRequest, "invalid permission mode: %s", spec.PermissionMode)
	}
	if !a.hasKey(spec) {
		return nil, problem.Invalid("amp needs AMP_API_KEY (an Amp access token, see https://ampcode.com/settings) in the server's environment, or a key saved by `amp login`; there is none").
			With("field", "AMP_API_KEY")
	}
	p, err := a.probes.get(ctx, path)
	if err != nil {
		return nil, agent.Errorf(agent.ErrProcessExited, "amp --help failed: %v", err)
	}
	mode := ""
	switch spec.AgentMode {
	case "", defaultMode.ID:
	default:
		if !p.hasMode(spec.AgentMode) {
			return nil, agent.Errorf(agent.ErrModeUnsupported, "amp does not support agent mode %q", spec.AgentMode)
		}
		mode = spec.AgentMode
	}
	dir, err := writeSettings(spec)
	if err != nil {
		return nil, agent.Errorf(agent.ErrStream, "amp settings: %v", err)
	}
	return newConn(a, path, p, mode, dir, spec, sink), nil
}

// CredentialsAvailable reports whether a session could start for want of a
// key: AMP_API_KEY in the server's environment, or a key saved by `amp
// login` (GET /v1/agents; 0.1.11 looked at the Anthropic key, which Amp
// does not use).
func (a *Adapter) CredentialsAvailable() bool { return a.hasKey(agent.Spec{}) }

// hasKey reports whether the CLI will have an Amp access token: in
// AMP_API_KEY, or saved by `amp login` in its secrets file.
func (a *Adapter) hasKey(spec agent.Spec) bool {
	for _, kv := range append(append([]string(nil), spec.Env...), a.opts.Env...) {
		if k, v, _ := strings.Cut(kv, "="); k == "AMP_API_KEY" && v != "" {
			return true
		}
	}
	if v, ok := a.opts.LookupEnv("AMP_API_KEY"); ok && v != "" {
		return true
	}
	return a.loggedIn()
}

// loggedIn reports whether `amp login` saved an API key in the CLI's file
// storage (<data dir>/amp/secrets.json, keys "apiKey@<service url>").
func (a *Adapter) loggedIn() bool {
	data, _ := a.opts.LookupEnv("XDG_DATA_HOME")
	if data == "" {
		home, _ := a.opts.LookupEnv("HOME")
		if home == "" {
			return false
		}
		data = filepath.Join(home, ".local", "share")
	}
	b, err := os.ReadFile(filepath.Join(data, "amp", "secrets.json"))
	if err != nil {
		return false
	}
	var secrets map[string]any
	if json.Unmarshal(b, &secrets) != nil {
		return false
	}
	for k, v := range secrets {
		if s, ok := v.(string); ok && s != "" && strings.HasPrefix(k, "apiKey@") {
			return true
		}
	}
	return false
}

// settingsFile is the per-session settings the CLI reads (AMP_SETTINGS_FILE),
// so it never reads or writes the user's own: no update checks or
// notifications, the session's MCP servers, and allow-all for bypass.
const settingsFile = "settings.json"

func writeSettings(spec agent.Spec) (string, error) {
	dir, err := os.MkdirTemp("", "sandbox-agent-amp-")
	if err != nil {
		return "", err
	}
	s := map[string]any{
		"amp.updates.mode":          "disabled",
		"amp.notifications.enabled": false,
		"amp.dangerouslyAllowAll":   spec.PermissionMode == schema.PermissionModeBypass,
	}
	if servers := mcpServers(spec.MCP); len(servers) > 0 {
		s["amp.mcpServers"] = servers
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, settingsFile), b, 0o600)
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// mcpServers is the session's MCP servers in Amp's settings shape:
// {command, args, env} for a local server, {url, headers} for a remote one.
func mcpServers(cfg map[string]schema.McpServerConfig) map[string]any {
	out := map[string]any{}
	for name, c := range cfg {
		if c.Enabled != nil && !*c.Enabled {
			continue
		}
		switch {
		case c.URL != "":
			s := map[string]any{"url": c.URL}
			if len(c.Headers) > 0 {
				s["headers"] = c.Headers
			}
			out[name] = s
		case len(c.Command) > 0:
			s := map[string]any{"command": c.Command[0], "args": append(append([]string{}, c.Command[1:]...), c.Args...)}
			if len(c.Env) > 0 {
				s["env"] = c.Env
			}
			out[name] = s
		}
	}
	return out
}

// Bounds of a turn's process: killGrace between SIGTERM and SIGKILL.
const killGrace = 1500 * time.Millisecond
