// Package mock is the in-process reference agent. It needs no binary and no
// credentials: every message runs a scripted sequence of universal events
// (messages, reasoning, status, markdown, tools, images, permissions,
// questions, errors), paced like a streaming agent. UI work and the session
// tests use it as the single source of truth for what a well-behaved agent
// emits.
//
// A handful of exact prompts (the ones the upstream test suite sends) map to
// fixed replies; otherwise the first word is a command (send "help" for the
// list) and anything else is echoed back.
package mock

import (
	"context"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// DefaultInterval is the pause between two scripted events when
// Options.Interval is zero. The reference paces at 200 ms; a shorter pause
// keeps tests and demos snappy while still looking like a stream.
const DefaultInterval = 20 * time.Millisecond

// Options configures the mock agent.
type Options struct {
	// Interval is the pause before each scripted event. Zero means
	// DefaultInterval; a negative value means no pause at all.
	Interval time.Duration
}

// Adapter is the mock agent kind.
type Adapter struct {
	interval time.Duration
}

// New returns the mock adapter.
func New(opts Options) *Adapter {
	iv := opts.Interval
	switch {
	case iv == 0:
		iv = DefaultInterval
	case iv < 0:
		iv = 0
	}
	return &Adapter{interval: iv}
}

var _ agent.Adapter = (*Adapter)(nil)

// Info describes the mock agent: it can produce every part of the schema and
// runs in-process, so nothing is shared and no credentials are needed.
func (a *Adapter) Info() agent.Info {
	return agent.Info{
		ID:              "mock",
		Name:            "Mock",
		Capabilities:    agent.FullCapabilities(false),
		PermissionModes: []string{schema.PermissionModeDefault, schema.PermissionModePlan, schema.PermissionModeBypass},
	}
}

// Status reports the mock as always installed.
func (a *Adapter) Status(context.Context) (agent.InstallStatus, error) {
	return agent.InstallStatus{Installed: true, Version: "builtin"}, nil
}

// Modes returns build and plan.
func (a *Adapter) Modes(context.Context) ([]agent.Mode, error) {
	return []agent.Mode{
		{ID: "build", Name: "Build", Description: "Mock agent for UI testing"},
		{ID: "plan", Name: "Plan", Description: "Plan-only mock mode"},
	}, nil
}

// Models returns the single mock model.
func (a *Adapter) Models(context.Context) (agent.ModelList, error) {
	return agent.ModelList{
		Models:       []schema.AgentModelInfo{{ID: "mock", Name: schema.Ptr("Mock")}},
		DefaultModel: schema.Ptr("mock"),
	}, nil
}

// Open starts a mock session. It announces the native session id with a
// native session.started before it returns.
func (a *Adapter) Open(ctx context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch spec.AgentMode {
	case "", "build", "plan":
	default:
		return nil, agent.Errorf(agent.ErrModeUnsupported, "mode not supported: mock does not support agent mode %q", spec.AgentMode)
	}
	c := newConn(spec, sink, a.interval)
	sink.Emit(agent.Draft{
		Type:            schema.EventSessionStarted,
		Data:            &schema.SessionStartedData{Metadata: []byte(`{"mock":true}`)},
		NativeSessionID: c.native,
	})
	go c.loop()
	return c, nil
}

// Installable is false: the mock runs in-process and has nothing to install.
func (a *Adapter) Installable() bool { return false }
