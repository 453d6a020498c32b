package acp

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sandbox-agent/sandbox-agent/agent/jsonrpc"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
)

// The client's terminal methods (terminal/create, output, wait_for_exit,
// kill, release) run real processes, each in its own process group through
// agent/process, with stdout and stderr merged into one output buffer.
// Closing the session kills every terminal it created.

// defaultOutputLimit bounds a terminal's kept output when the agent sets
// no outputByteLimit.
const defaultOutputLimit = 1 << 20

// killGrace is how long a killed terminal's processes get after SIGTERM.
const killGrace = 2 * time.Second

type terminals struct {
	fs  *sessionFS
	env []string

	mu   sync.Mutex
	byID map[string]*terminal
	// outputs keeps the last output of released terminals: a tool call's
	// final update may name a terminal the agent already released.
	outputs map[string]string
	next    int
	closed  bool
}

type terminal struct {
	p     *process.Proc
	limit int

	mu        sync.Mutex
	out       []byte
	truncated bool
	read      chan struct{} // closed once all output was read
}

func newTerminals(fs *sessionFS, env []string) *terminals {
	return &terminals{fs: fs, env: env, byID: map[string]*terminal{}, outputs: map[string]string{}}
}

// create starts the command: with arguments it is run as a program, without
// as a shell command line (agents send both forms).
func (ts *terminals) create(p createTerminalParams) (createTerminalResult, *jsonrpc.Error) {
	if p.Command == "" {
		return createTerminalResult{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "command is empty"}
	}
	dir := ts.fs.dir
	if p.Cwd != nil && *p.Cwd != "" {
		rel, e := ts.fs.rel(*p.Cwd)
		if e != nil {
			return createTerminalResult{}, e
		}
		dir = ts.fs.dir + "/" + rel
	}
	args := []string{"-c", "exec 2>&1; " + p.Command}
	if len(p.Args) > 0 {
		args = append([]string{"-c", `exec 2>&1; exec "$0" "$@"`, p.Command}, p.Args...)
	}
	env := append([]string{}, ts.env...)
	for _, e := range p.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	limit := defaultOutputLimit
	if p.OutputByteLimit != nil && *p.OutputByteLimit >= 0 {
		limit = int(min(*p.OutputByteLimit, int64(1<<30)))
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.closed {
		return createTerminalResult{}, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "session is closing"}
	}
	proc, err := process.Start(process.Options{Path: "/bin/sh", Args: args, Dir: dir, Env: env})
	if err != nil {
		return createTerminalResult{}, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: err.Error()}
	}
	ts.next++
	id := fmt.Sprintf("term_%d", ts.next)
	t := &terminal{p: proc, limit: limit, read: make(chan struct{})}
	ts.byID[id] = t
	go t.copy(proc.Stdout())
	return createTerminalResult{TerminalID: id}, nil
}

func (t *terminal) copy(r io.Reader) {
	defer close(t.read)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			t.append(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// append keeps the last limit bytes, cut at a character boundary.
func (t *terminal) append(b []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.out = append(t.out, b...)
	if over := len(t.out) - t.limit; over > 0 {
		for over < len(t.out) && !utf8.RuneStart(t.out[over]) {
			over++
		}
		t.out = append(t.out[:0], t.out[over:]...)
		t.truncated = true
	}
}

func (ts *terminals) get(id string) (*terminal, *jsonrpc.Error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t := ts.byID[id]
	if t == nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "unknown terminal " + id}
	}
	return t, nil
}

func (t *terminal) exitStatus() *terminalExitStatus {
	select {
	case <-t.p.Done():
	default:
		return nil
	}
	st := &terminalExitStatus{}
	if sig, ok := process.Signal(t.p); ok {
		st.Signal = ptr(process.SignalName(sig))
	} else {
		st.ExitCode = ptr(t.p.ExitCode())
	}
	return st
}

func ptr[T any](v T) *T { return &v }

func (t *terminal) output() terminalOutputResult {
	st := t.exitStatus()
	if st != nil {
		// Exited: the output is complete once the pipe is drained.
		select {
		case <-t.read:
		case <-time.After(time.Second):
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return terminalOutputResult{Output: string(t.out), Truncated: t.truncated, ExitStatus: st}
}

// wait blocks until the terminal's command exited or ctx ends.
func (t *terminal) wait(ctx context.Context) (terminalExitStatus, error) {
	select {
	case <-t.p.Done():
		return *t.exitStatus(), nil
	case <-ctx.Done():
		return terminalExitStatus{}, ctx.Err()
	}
}

func (t *terminal) kill() {
	_ = t.p.Terminate(context.Background(), killGrace)
}

// release kills the terminal's command if it still runs and forgets it.
func (ts *terminals) release(id string) *jsonrpc.Error {
	ts.mu.Lock()
	t := ts.byID[id]
	delete(ts.byID, id)
	ts.mu.Unlock()
	if t == nil {
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "unknown terminal " + id}
	}
	t.kill()
	out := t.output().Output
	ts.mu.Lock()
	ts.outputs[id] = out
	ts.mu.Unlock()
	return nil
}

// outputOf is a terminal's output so far, also after its release.
func (ts *terminals) outputOf(id string) (string, bool) {
	ts.mu.Lock()
	t := ts.byID[id]
	out, released := ts.outputs[id]
	ts.mu.Unlock()
	if t != nil {
		return t.output().Output, true
	}
	return out, released
}

// closeAll kills every terminal and refuses new ones.
func (ts *terminals) closeAll() {
	ts.mu.Lock()
	ts.closed = true
	all := ts.byID
	ts.byID = map[string]*terminal{}
	ts.mu.Unlock()
	var wg sync.WaitGroup
	for _, t := range all {
		wg.Add(1)
		go func() { defer wg.Done(); t.kill() }()
	}
	wg.Wait()
}
