package server_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// scriptAdapter is a test agent whose session is a real shell script that
// starts a grandchild and then waits, so terminate can be checked against a
// real process group. Send behaviour is scripted by the prompt.
type scriptAdapter struct {
	dir string
	mu  sync.Mutex
	// procs records the processes started, by session id.
	procs map[string]*process.Proc
}

func newScriptAdapter(dir string) *scriptAdapter {
	return &scriptAdapter{dir: dir, procs: map[string]*process.Proc{}}
}

func (a *scriptAdapter) Info() agent.Info {
	return agent.Info{ID: "script", Name: "Script", PermissionModes: []string{"default"},
		Capabilities: schema.AgentCapabilities{TextMessages: true}}
}
func (a *scriptAdapter) Status(context.Context) (agent.InstallStatus, error) {
	return agent.InstallStatus{Installed: true, Version: "1", Path: "/bin/sh"}, nil
}
func (a *scriptAdapter) Modes(context.Context) ([]agent.Mode, error) {
	return []agent.Mode{{ID: "build", Name: "Build", Description: "x"}}, nil
}
func (a *scriptAdapter) Models(context.Context) (agent.ModelList, error) {
	return agent.ModelList{Models: []schema.AgentModelInfo{{ID: "m"}}, DefaultModel: schema.Ptr("m")}, nil
}

func (a *scriptAdapter) Open(_ context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	pidFile := filepath.Join(a.dir, spec.SessionID+".grandchild")
	p, err := process.Start(process.Options{Path: "/bin/sh", Dir: spec.Dir,
		Args: []string{"-c", `sleep 300 & echo $! > "$1"; echo started >&2; wait`, "sh", pidFile}})
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.procs[spec.SessionID] = p
	a.mu.Unlock()
	c := &scriptConn{p: p, sink: sink}
	go func() {
		<-p.Done()
		c.mu.Lock()
		closing := c.closing
		c.mu.Unlock()
		if !closing {
			// The agent died on its own: end the session with its stderr.
			st := p.Stderr()
			sink.Emit(agent.ErrorEvent("agent exited", "process_exit", nil, nil))
			sink.Emit(agent.SessionEnded(schema.SessionEndedData{Reason: schema.EndError, TerminatedBy: schema.ByAgent,
				Message: schema.Ptr("agent exited"), ExitCode: schema.Ptr(p.ExitCode()), Stderr: &st}))
		}
	}()
	// Wait for the grandchild's pid to be written.
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c, nil
}

type scriptConn struct {
	p       *process.Proc
	sink    agent.Sink
	mu      sync.Mutex
	closing bool
}

var errPlain = errors.New("upstream exploded")

func (c *scriptConn) Send(ctx context.Context, p agent.Prompt) error {
	switch p.Text {
	case "fail":
		return errPlain
	case "slow":
		return context.DeadlineExceeded
	case "crash":
		return c.p.Terminate(ctx, 0) // kill the agent: the watcher ends the session
	}
	c.sink.Emit(agent.ItemCompleted(agent.Message("reply", schema.RoleAssistant, schema.Text("ok")), nil))
	c.sink.Emit(agent.TurnEnded(nil, nil))
	return nil
}
func (c *scriptConn) Answer(context.Context, agent.Reply) error { return nil }
func (c *scriptConn) Interrupt(context.Context) error           { return nil }
func (c *scriptConn) Close(ctx context.Context) error {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	return c.p.Terminate(ctx, 2*time.Second)
}

// failingInstaller fails every install.
type failingInstaller struct{}

func (failingInstaller) Install(context.Context, string, string, bool) error {
	return errors.New("download failed: http://127.0.0.1:1/claude")
}
