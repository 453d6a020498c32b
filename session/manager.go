package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/skills"
	"github.com/sandbox-agent/sandbox-agent/store"
	"github.com/sandbox-agent/sandbox-agent/store/memory"
)

// Installer installs an agent on first use.
type Installer interface {
	EnsureInstalled(ctx context.Context, agent, version string) (string, error)
}

// Config configures a Manager.
type Config struct {
	Registry *agent.Registry
	// Store defaults to an in-memory store.
	Store store.Store
	// Installer, when set, installs agents lazily at session creation.
	Installer Installer
	// Dir is the working directory of sessions that name none; default the
	// process's current directory.
	Dir string
	// Env returns extra environment for an agent's processes (credentials).
	Env func(agentID string) []string
	// Skills configures where skill sources are fetched and cached.
	Skills skills.Options
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// TurnIdleTimeout, when positive, ends a turn whose agent sent nothing
	// for that long: an error event (code turn_idle_timeout), the agent is
	// interrupted, and the turn ends. Zero (the default) disables it.
	TurnIdleTimeout time.Duration
}

// Manager holds every session of the server.
type Manager struct {
	cfg      Config
	mu       sync.Mutex
	sessions map[string]*Session
	creating map[string]bool
}

// NewManager returns a manager.
func NewManager(cfg Config) *Manager {
	if cfg.Store == nil {
		cfg.Store = memory.New()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Dir == "" {
		cfg.Dir, _ = os.Getwd()
	}
	if abs, err := filepath.Abs(cfg.Dir); err == nil {
		cfg.Dir = abs
	}
	return &Manager{cfg: cfg, sessions: map[string]*Session{}, creating: map[string]bool{}}
}

// Registry returns the agent registry.
func (m *Manager) Registry() *agent.Registry { return m.cfg.Registry }

// Get returns a session by id.
func (m *Manager) Get(id string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return nil, problem.SessionMissing(id)
	}
	return s, nil
}

// List returns every session, most recently created first.
func (m *Manager) List() []schema.SessionInfo {
	m.mu.Lock()
	all := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	out := make([]schema.SessionInfo, 0, len(all))
	for _, s := range all {
		out = append(out, s.Info())
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].CreatedAt != out[j].CreatedAt {
			return out[i].CreatedAt > out[j].CreatedAt
		}
		return out[i].SessionID > out[j].SessionID
	})
	return out
}

var permissionModes = []string{schema.PermissionModeDefault, schema.PermissionModePlan, schema.PermissionModeBypass, schema.PermissionModeAcceptEdits}

// Create starts a session with a client-chosen id.
func (m *Manager) Create(ctx context.Context, id string, req schema.CreateSessionRequest) (*Session, error) {
	ad, ok := m.cfg.Registry.Get(req.Agent)
	if !ok {
		return nil, problem.Unsupported(req.Agent)
	}
	info := ad.Info()
	if id == "" {
		return nil, problem.Invalid("session id must not be empty")
	}
	permMode := valueOr(req.PermissionMode, schema.PermissionModeDefault)
	if !slices.Contains(permissionModes, permMode) {
		return nil, problem.Invalid("invalid permission mode: %s", permMode).With("field", "permissionMode")
	}
	if !slices.Contains(info.PermissionModes, permMode) {
		if permMode != schema.PermissionModeAcceptEdits {
			e := problem.New(problem.ModeNotSupported, "mode not supported: %s %s", info.ID, permMode).With("mode", permMode)
			e.Agent = info.ID
			return nil, e
		}
		permMode = schema.PermissionModeDefault
	}

	m.mu.Lock()
	if _, dup := m.sessions[id]; dup || m.creating[id] {
		m.mu.Unlock()
		e := problem.New(problem.SessionAlreadyExists, "session already exists: %s", id)
		e.SessionID = id
		return nil, e
	}
	m.creating[id] = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.creating, id)
		m.mu.Unlock()
	}()

	agentMode := valueOr(req.AgentMode, "build")
	if modes, err := ad.Modes(ctx); err == nil && !modeAllowed(modes, agentMode) {
		e := problem.New(problem.ModeNotSupported, "mode not supported: %s %s", info.ID, agentMode).With("mode", agentMode)
		e.Agent = info.ID
		return nil, e
	}
	dir := m.cfg.Dir
	if req.Directory != nil && *req.Directory != "" {
		dir = *req.Directory
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(m.cfg.Dir, dir)
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, problem.Invalid("directory does not exist or is not a directory: %s", dir).With("field", "directory")
		}
	}
	if err := m.ensureInstalled(ctx, ad, valueOr(req.AgentVersion, "")); err != nil {
		return nil, err
	}
	if req.Skills != nil && len(req.Skills.Sources) > 0 {
		if _, err := skills.Install(ctx, *req.Skills, dir, m.cfg.Skills); err != nil {
			return nil, err
		}
	}
	variant := valueOr(req.Variant, "")
	model := valueOr(req.Model, "")
	if model == "" {
		if ml, err := ad.Models(ctx); err == nil && ml.DefaultModel != nil {
			model = *ml.DefaultModel
		}
	}
	now := m.cfg.Now()
	rec := store.SessionRecord{
		ID: id, Agent: info.ID, AgentMode: agentMode, PermissionMode: permMode,
		Model: nilIfEmpty(model), Variant: nilIfEmpty(variant),
		Directory: req.Directory, Title: req.Title, MCP: req.MCP, Skills: req.Skills,
		CreatedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli(),
	}
	s := m.newSession(ad, rec, dir)
	conn, err := ad.Open(ctx, s.spec, sink{s})
	if err != nil {
		s.unwatch()
		s.stopLife()
		return nil, wrapAgentErr(err, info.ID, id)
	}
	if err := m.cfg.Store.PutSession(ctx, rec); err != nil {
		s.unwatch()
		s.stopLife()
		_ = conn.Close(context.Background())
		return nil, fmt.Errorf("store session: %w", err)
	}

	s.mu.Lock()
	s.conn = conn
	// The native id may already be known from drafts emitted while opening;
	// the daemon's session.started carries it, as the reference does.
	for _, d := range s.prebuf {
		if d.NativeSessionID != "" {
			s.pipe.native = d.NativeSessionID
			break
		}
	}
	meta, _ := json.Marshal(map[string]any{"agent": info.ID, "agentMode": agentMode, "permissionMode": permMode,
		"model": nilIfEmpty(model), "variant": nilIfEmpty(variant)})
	s.daemonLocked(schema.EventSessionStarted, &schema.SessionStartedData{Metadata: meta})
	s.phase = phaseLive
	s.holding++ // releaseLocked flushes what was emitted while opening
	autos, ended := s.releaseLocked()
	started := s.pipe.nextSeq - 1
	s.mu.Unlock()
	s.awaitPublished(ctx, started)

	m.mu.Lock()
	m.sessions[id] = s
	m.mu.Unlock()
	s.after(autos, ended)
	return s, nil
}

// newSession builds a session (not yet opened) of a record.
func (m *Manager) newSession(ad agent.Adapter, rec store.SessionRecord, dir string) *Session {
	info := ad.Info()
	s := &Session{
		id: rec.ID, info: info, ad: ad, store: m.cfg.Store, dir: dir,
		log: m.cfg.Logger.With("session", rec.ID, "agent", info.ID),
		rec: rec, pipe: newPipeline(rec.ID, m.cfg.Now), gone: make(chan struct{}),
		perms: map[string]*pendingPerm{}, quests: map[string]*pendingQuestion{}, always: map[string]bool{},
		closedCh: make(chan struct{}), endedCh: make(chan struct{}), deletedCh: make(chan struct{}),
		readersCh: make(chan struct{}), idleTimeout: m.cfg.TurnIdleTimeout,
	}
	s.life, s.stopLife = context.WithCancel(context.Background())
	var env []string
	if m.cfg.Env != nil {
		env = m.cfg.Env(info.ID)
	}
	s.unwatch = func() {}
	if a, ok := m.cfg.Store.(store.Acker); ok {
		s.async = true
		s.unwatch = a.Watch(rec.ID, s.publish)
	}
	s.spec = agent.Spec{SessionID: rec.ID, AgentMode: rec.AgentMode, PermissionMode: rec.PermissionMode,
		Model: valueOr(rec.Model, ""), Variant: valueOr(rec.Variant, ""), Dir: dir, Env: env, MCP: rec.MCP}
	return s
}

// Installable is implemented by adapters that have nothing to install (the
// in-process mock) or cannot run yet; they return false.
type Installable interface{ Installable() bool }

func (m *Manager) ensureInstalled(ctx context.Context, ad agent.Adapter, version string) error {
	id := ad.Info().ID
	if in, ok := ad.(Installable); ok && !in.Installable() {
		return nil // Open reports whether the agent can run
	}
	if m.cfg.Installer != nil {
		if _, err := m.cfg.Installer.EnsureInstalled(ctx, id, version); err != nil {
			return problem.InstallFailure(id, err)
		}
		return nil
	}
	st, err := ad.Status(ctx)
	if err != nil || !st.Installed {
		e := problem.New(problem.AgentNotInstalled, "agent not installed: %s", id)
		e.Agent = id
		return e
	}
	return nil
}

// Delete terminates a session and forgets it and its events. The id stays
// taken (Create answers session_already_exists) until the old session's log
// is wiped, so a new session of the same id never shares its state.
// Concurrent deletes of one session all succeed once it is gone.
func (m *Manager) Delete(ctx context.Context, id string) error {
	s, err := m.Get(id)
	if err != nil {
		return err
	}
	return s.delete(ctx, func() {
		m.mu.Lock()
		if m.sessions[id] == s {
			delete(m.sessions, id)
		}
		m.mu.Unlock()
	})
}

// Shutdown closes every session's agent connection (killing its processes)
// without recording events, for server shutdown.
func (m *Manager) Shutdown(ctx context.Context) {
	m.mu.Lock()
	all := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.stopLife()
			s.closeConn(ctx)
		}()
	}
	wg.Wait()
}

func modeAllowed(modes []agent.Mode, mode string) bool {
	for _, md := range modes {
		if md.ID == mode || md.ID == "custom" {
			return true
		}
	}
	return false
}

// AgentProblem maps an error an adapter returned outside any session (modes,
// models) onto a problem document, as session operations do: an agent that is
// not installed is a 404, never a 500.
func AgentProblem(err error, agentID string) error {
	return wrapAgentErr(err, agentID, "")
}

// wrapAgentErr maps an adapter error onto a problem kind.
func wrapAgentErr(err error, agentID, sessionID string) error {
	if pe, ok := problem.As(err); ok {
		return pe
	}
	kind := problem.StreamError
	detail := "stream error: " + err.Error()
	switch {
	case errors.Is(err, agent.ErrNotInstalled):
		kind, detail = problem.AgentNotInstalled, "agent not installed: "+agentID
	case errors.Is(err, agent.ErrModeUnsupported):
		kind, detail = problem.ModeNotSupported, "mode not supported: "+err.Error()
	case errors.Is(err, agent.ErrInvalidRequest):
		kind, detail = problem.InvalidRequest, "invalid request: "+err.Error()
	case errors.Is(err, agent.ErrProcessExited):
		kind, detail = problem.AgentProcessExited, "agent process exited: "+agentID
	case errors.Is(err, context.DeadlineExceeded):
		kind, detail = problem.Timeout, "timeout"
	}
	e := &problem.Error{Kind: kind, Detail: detail, Agent: agentID, SessionID: sessionID, Err: err}
	if kind == problem.StreamError || kind == problem.AgentProcessExited || kind == problem.Timeout {
		e.With("message", err.Error())
	}
	return e
}

func valueOr(p *string, def string) string {
	if p == nil || *p == "" {
		return def
	}
	return *p
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
