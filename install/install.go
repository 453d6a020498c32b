// Package install puts the agent CLIs (claude, codex, opencode, amp, and the
// ACP agents of agent/acp/registry) on disk.
//
// Two sources are supported: the agents' official release downloads and the
// npm registry, spoken to over plain HTTP so that neither npm nor node is
// needed (except for the rare agent version that is a JavaScript program).
// Installs are serialised per agent with a file lock, downloads go to temp
// files that are renamed into place, and every failure is an *Error naming
// the agent, the URL and the reason.
package install

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Source selects where an agent is downloaded from.
type Source string

const (
	// SourceAuto tries the official release first, then the npm registry.
	SourceAuto Source = "auto"
	// SourceRelease downloads the agent's official release artifact.
	SourceRelease Source = "release"
	// SourceNPM downloads the agent's package from the npm registry.
	SourceNPM Source = "npm"
)

// ParseSource validates a user-supplied source name; "" means auto.
func ParseSource(s string) (Source, error) {
	switch Source(s) {
	case "", SourceAuto:
		return SourceAuto, nil
	case SourceRelease, SourceNPM:
		return Source(s), nil
	}
	return "", fmt.Errorf("unknown install source %q (valid: auto, release, npm)", s)
}

// Config configures a Manager. The zero value is usable: every field has a
// default taken from the environment.
type Config struct {
	// Dir is where agents are installed; default DefaultDir().
	Dir string
	// CacheDir keeps verified downloads across runs; default
	// DefaultCacheDir(). The value "off" disables the cache.
	CacheDir string
	// ReleaseBaseURLs overrides the official release base URL per agent
	// (tests, mirrors). See releaseBase for the defaults.
	ReleaseBaseURLs map[string]string
	// NPMRegistry is the registry URL; default from the npm configuration
	// (environment, project .npmrc, user .npmrc), else the public registry.
	NPMRegistry string
	// HTTPClient is used for every download; default has connect and
	// header timeouts but no overall timeout (artifacts are large).
	HTTPClient *http.Client
}

// Progress reports what an install is doing. Phase is one of resolve,
// download, verify, extract, done. During download, Done and Total count
// bytes (Total is -1 when the server did not say). Message, when set, is a
// human note worth showing (for example why auto mode moved on to npm).
type Progress struct {
	Agent, Phase string
	Done, Total  int64
	URL          string
	Message      string
}

// Options controls one Install call.
type Options struct {
	// Version pins the agent version; "" means the newest usable one.
	Version string
	// Reinstall downloads again even when the agent is already present.
	Reinstall bool
	// Source picks the download source; "" means auto.
	Source Source
	// Progress, when set, is called from the installing goroutine.
	Progress func(Progress)
}

// Result describes the outcome of Install.
type Result struct {
	Agent   string
	Path    string
	Version string
	Source  Source
	// Installed is false when the agent was already present (or another
	// caller installed it while this one waited for the lock).
	Installed bool
}

// ErrUnknownAgent is wrapped by the *Error returned for an agent name this
// package does not know.
var ErrUnknownAgent = errors.New("unknown agent")

// ErrVersionNotFound is wrapped by the *Error returned when the requested
// version does not exist: a caller's mistake, not a failure of the machine.
var ErrVersionNotFound = errors.New("version not found")

// ValidVersion reports whether v can be a version or npm range: printable
// ASCII without control characters, at most 128 bytes.
func ValidVersion(v string) bool {
	if v == "" || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}

// Error is the only error type returned by Install and EnsureInstalled.
type Error struct {
	Agent  string
	URL    string // the URL that failed, if any
	Reason string // a short human explanation
	Err    error  // the underlying error, if any
}

func (e *Error) Error() string { return "install " + e.Agent + ": " + e.detail() }

// detail is the message without the "install <agent>: " prefix: Reason,
// then the URL and the underlying error unless Reason already says them.
func (e *Error) detail() string {
	s := e.Reason
	if e.URL != "" && !strings.Contains(s, e.URL) {
		s += " (url: " + e.URL + ")"
	}
	// A wrapped *Error (auto mode) is already summed up in Reason.
	var inner *Error
	if e.Err != nil && !strings.Contains(s, e.Err.Error()) && !errors.As(e.Err, &inner) {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Agents lists the installable agents in their canonical order.
// ACP agents (agent/acp/registry) follow the native ones.
func Agents() []string {
	return append([]string{"claude", "codex", "opencode", "amp"}, acpAgents...)
}

// Manager installs and resolves agent binaries. It is safe for concurrent
// use, also across processes sharing the same Dir.
type Manager struct {
	dir      string
	cacheDir string // "" = no cache
	releases map[string]string
	registry string // explicit Config.NPMRegistry, "" = from the npm config
	client   *http.Client
	// npmrc and plat are read from the machine on first use, not in New:
	// the server builds its Manager at start-up and may never install.
	// Tests replace them.
	npmrc func() npmConfig
	plat  func() platform
	// openTemp creates the temp files downloads are written to; a test
	// swaps it to simulate a full disk.
	openTemp func(dir, pattern string) (*os.File, error)
}

// New returns a Manager for cfg, filling defaults from the environment.
func New(cfg Config) *Manager {
	m := &Manager{
		dir:      cfg.Dir,
		cacheDir: cfg.CacheDir,
		releases: map[string]string{},
		client:   cfg.HTTPClient,
		npmrc:    sync.OnceValue(loadNPMConfig),
		plat:     sync.OnceValue(detectPlatform),
		openTemp: os.CreateTemp,
	}
	if m.dir == "" {
		m.dir = DefaultDir()
	}
	if abs, err := filepath.Abs(m.dir); err == nil {
		m.dir = abs
	}
	if m.cacheDir == "" {
		m.cacheDir = DefaultCacheDir()
	}
	if m.cacheDir == "off" || m.cacheDir == "none" {
		m.cacheDir = ""
	}
	for _, a := range Agents() {
		if u := os.Getenv("SANDBOX_AGENT_" + strings.ToUpper(a) + "_RELEASE_URL"); u != "" {
			m.releases[a] = u
		}
	}
	for a, u := range cfg.ReleaseBaseURLs {
		m.releases[a] = u
	}
	m.registry = cfg.NPMRegistry
	if m.client == nil {
		m.client = defaultHTTPClient()
	}
	return m
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 15 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: t}
}

// DefaultDir is the install directory used when Config.Dir is empty:
// $SANDBOX_AGENT_INSTALL_DIR, else $XDG_DATA_HOME/sandbox-agent/bin, else
// ~/.local/share/sandbox-agent/bin (./.sandbox-agent/bin without a home).
func DefaultDir() string {
	if d := os.Getenv("SANDBOX_AGENT_INSTALL_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "sandbox-agent", "bin")
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".local", "share", "sandbox-agent", "bin")
	}
	return filepath.Join(".sandbox-agent", "bin")
}

// DefaultCacheDir is the download cache used when Config.CacheDir is empty:
// $SANDBOX_AGENT_DOWNLOAD_CACHE, else <user cache dir>/sandbox-agent/downloads.
// It returns "" (no cache) when neither can be determined.
func DefaultCacheDir() string {
	if d := os.Getenv("SANDBOX_AGENT_DOWNLOAD_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "sandbox-agent", "downloads")
	}
	return ""
}

// Dir returns the install directory.
func (m *Manager) Dir() string { return m.dir }

// Resolve returns <Dir>/<agent> if it exists, else the agent's binary found
// on PATH. The mock agent is never resolved (it runs in-process). The
// install directory is looked at every time, so an install is seen at once;
// the PATH lookup is remembered for a moment (lookPath).
func (m *Manager) Resolve(agent string) (string, bool) { return m.resolve(agent, false) }

// resolve is Resolve; fresh looks PATH up again (an install decides on it).
func (m *Manager) resolve(agent string, fresh bool) (string, bool) {
	spec, ok := specs[canonical(agent)]
	if !ok {
		return "", false
	}
	p := filepath.Join(m.dir, spec.bin)
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p, true
	}
	return lookPath(spec.bin, fresh)
}

// EnsureInstalled returns the path of agent's binary, installing it first
// when it is missing or when version is set and differs from what resolves.
func (m *Manager) EnsureInstalled(ctx context.Context, agent, version string) (string, error) {
	if agent == "mock" {
		return "", nil
	}
	agent = canonical(agent)
	if _, ok := specs[agent]; !ok {
		return "", unknownAgent(agent)
	}
	if p, ok := m.satisfied(ctx, agent, version); ok {
		return p, nil
	}
	res, err := m.Install(ctx, agent, Options{Version: version})
	if err != nil {
		return "", err
	}
	return res.Path, nil
}

func unknownAgent(agent string) *Error {
	return &Error{Agent: agent, Reason: fmt.Sprintf("unknown agent %q (valid: %s)", agent, strings.Join(Agents(), ", ")), Err: ErrUnknownAgent}
}

// satisfied reports whether agent already resolves (install dir or PATH) at
// the wanted version ("" = any version).
func (m *Manager) satisfied(ctx context.Context, agent, version string) (string, bool) {
	p, ok := m.resolve(agent, true)
	if !ok {
		return "", false
	}
	if version == "" {
		return p, true
	}
	got, err := Version(ctx, p)
	if err != nil || !VersionMatches(got, version) {
		return "", false
	}
	return p, true
}

// Install installs agent according to o. Without Reinstall nothing is
// downloaded when the agent already resolves (at the pinned version, if
// one is given). Concurrent installs of one agent, from goroutines or
// processes sharing Dir, download once: the others wait on a file lock and
// then find the agent installed.
func (m *Manager) Install(ctx context.Context, agent string, o Options) (Result, error) {
	if agent == "mock" {
		return Result{Agent: agent, Version: "builtin"}, nil
	}
	if c := canonical(agent); c != agent {
		res, err := m.Install(ctx, c, o)
		if err == nil {
			res.Agent = agent
		}
		return res, err
	}
	spec, ok := specs[agent]
	if !ok {
		return Result{}, unknownAgent(agent)
	}
	src, err := ParseSource(string(o.Source))
	if err != nil {
		return Result{}, &Error{Agent: agent, Reason: err.Error()}
	}
	start := time.Now()
	if !o.Reinstall {
		if p, ok := m.satisfied(ctx, agent, o.Version); ok {
			return m.present(ctx, agent, p), nil
		}
	}
	ins := &installer{m: m, agent: agent, spec: spec, opts: o, plat: m.plat()}
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return Result{}, ins.ioError("create install dir", m.dir, "", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(m.dir, "."+agent+".lock"))
	if err != nil {
		return Result{}, &Error{Agent: agent, Reason: "wait for install lock", Err: err}
	}
	defer unlock()

	// Someone may have installed it while we waited for the lock.
	if !o.Reinstall {
		if p, ok := m.satisfied(ctx, agent, o.Version); ok {
			return m.present(ctx, agent, p), nil
		}
	} else if r, ok := m.readReceipt(agent); ok && r.InstalledAt.After(start) &&
		(o.Version == "" || VersionMatches(r.Version, o.Version)) {
		if p, ok := m.resolve(agent, true); ok {
			return m.present(ctx, agent, p), nil
		}
	}
	m.cleanStale(agent)

	var res Result
	switch src {
	case SourceRelease:
		res, err = ins.fromRelease(ctx)
	case SourceNPM:
		res, err = ins.fromNPM(ctx)
	default:
		res, err = ins.auto(ctx)
	}
	if err != nil {
		return Result{}, err
	}
	res.Agent, res.Installed = agent, true
	m.writeReceipt(receipt{Agent: agent, Version: res.Version, Source: res.Source, Path: res.Path, InstalledAt: time.Now()})
	ins.progress(Progress{Phase: "done"})
	return res, nil
}

func (m *Manager) present(ctx context.Context, agent, p string) Result {
	r := Result{Agent: agent, Path: p}
	if rc, ok := m.readReceipt(agent); ok && p == filepath.Join(m.dir, specs[agent].bin) {
		r.Version, r.Source = rc.Version, rc.Source
	}
	if r.Version == "" {
		r.Version, _ = Version(ctx, p)
	}
	return r
}

// auto tries the release source and then npm; when both fail the error
// carries both reasons.
func (ins *installer) auto(ctx context.Context) (Result, error) {
	res, relErr := ins.fromRelease(ctx)
	if relErr == nil {
		return res, nil
	}
	if ctx.Err() != nil {
		return Result{}, relErr
	}
	ins.progress(Progress{Phase: "resolve", Message: "release source failed (" + reasonOf(relErr) + "); trying npm"})
	res, npmErr := ins.fromNPM(ctx)
	if npmErr == nil {
		return res, nil
	}
	e := &Error{
		Agent:  ins.agent,
		Reason: fmt.Sprintf("all sources failed: release: %s; npm: %s", reasonOf(relErr), reasonOf(npmErr)),
		Err:    errors.Join(relErr, npmErr),
	}
	var ne *Error
	if errors.As(npmErr, &ne) {
		e.URL = ne.URL
	}
	return Result{}, e
}

// reasonOf renders an error without the "install <agent>: " prefix.
func reasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.detail()
	}
	return err.Error()
}

// installer carries the state of one Install call.
type installer struct {
	m     *Manager
	agent string
	spec  agentSpec
	opts  Options
	plat  platform
}

func (ins *installer) progress(p Progress) {
	if ins.opts.Progress != nil {
		p.Agent = ins.agent
		ins.opts.Progress(p)
	}
}

func (ins *installer) errorf(url string, err error, format string, args ...any) *Error {
	return &Error{Agent: ins.agent, URL: url, Reason: fmt.Sprintf(format, args...), Err: err}
}
