//go:build unix

// Package process is the one way agent adapters spawn child processes.
//
// Every child runs in its own process group, so that it and everything it
// starts can be signalled as one unit: terminating a Proc (or shutting the
// server down with KillAll) never leaves orphans behind, and every child is
// reaped, so none lingers as a zombie. Stdin and stdout belong to the caller;
// stderr is captured into a bounded head+tail buffer that feeds the stderr
// field of session.ended.
package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// waitDelay bounds how long reaping waits for stderr to reach EOF after the
// process group was killed. Only a descendant that escaped the group (setsid)
// can hold the pipe open that long; without the bound it would pin Done forever.
const waitDelay = 2 * time.Second

// Options describes a child process.
type Options struct {
	// Path is the program. Without a slash it is looked up in the PATH of
	// the child's environment (see Env), not only the server's own PATH.
	Path string
	// Args are the arguments, not including the program name.
	Args []string
	// Dir is the working directory; empty means the server's.
	Dir string
	// Env holds extra KEY=VALUE entries appended to the server's
	// environment; a later entry for the same key wins. The server's own
	// SANDBOX_AGENT_* variables (its token among them) are never inherited,
	// only those meant for agents (see agentVars); entries given here are
	// kept as they are.
	Env []string
	// ReplaceEnv makes Env the whole environment (nil Env means empty).
	ReplaceEnv bool
	// Stdin pipes the child's stdin to Proc.Stdin; otherwise it reads /dev/null.
	Stdin bool
}

// Proc is a running (or finished) child process and its process group.
// All methods are safe for concurrent use.
type Proc struct {
	cmd    *exec.Cmd
	pid    int // also the process group id, because of Setpgid
	stdin  io.WriteCloser
	stdout *stdoutReader
	stderr *stderrBuf

	// mu orders group signals against reaping: once reaping is set the
	// group has been SIGKILLed and the leader may be reaped at any moment,
	// after which its pid (= pgid) may be reused by an unrelated process,
	// so nobody may signal -pid any more.
	mu      sync.Mutex
	reaping bool

	done     chan struct{}
	exitCode int
	err      error
}

// Start starts the process described by o. The caller must drain Stdout
// (or accept that the child blocks once the pipe fills) and eventually
// either see Done or call Terminate.
func Start(o Options) (*Proc, error) {
	env := o.Env
	if !o.ReplaceEnv {
		env = append(inheritedEnv(), o.Env...)
	} else if env == nil {
		env = []string{} // nil would make exec inherit our environment
	}
	path, err := lookPath(o.Path, env)
	if err != nil {
		return nil, fmt.Errorf("process: start %s: %w", o.Path, err)
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        append([]string{o.Path}, o.Args...),
		Dir:         o.Dir,
		Env:         env,
		SysProcAttr: sysProcAttr(),
		WaitDelay:   waitDelay,
	}

	p := &Proc{cmd: cmd, stderr: newStderrBuf(), done: make(chan struct{}), exitCode: -1}
	// Our own pipe rather than cmd.StdoutPipe: exec.Cmd.Wait closes its
	// pipes when the process exits, which would discard output the caller
	// has not read yet, and we Wait right away in the reaper.
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("process: start %s: %w", o.Path, err)
	}
	if o.Stdin {
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			r.Close()
			w.Close()
			return nil, fmt.Errorf("process: start %s: %w", o.Path, err)
		}
	}
	cmd.Stdout = w
	cmd.Stderr = p.stderr

	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("process: start %s: %w", o.Path, err)
	}
	// The child has its own copy; ours must go or the reader never sees EOF.
	w.Close()
	p.stdout = &stdoutReader{f: r}
	p.pid = cmd.Process.Pid

	register(p)
	recordGroup(p.pid)
	go p.reap()
	return p, nil
}

// Pid returns the process id, which is also its process group id.
func (p *Proc) Pid() int { return p.pid }

// Stdin returns the write end of the child's stdin, or nil unless
// Options.Stdin was set. Close it to send EOF. It is closed automatically
// once the process has exited.
func (p *Proc) Stdin() io.WriteCloser { return p.stdin }

// Stdout returns the child's stdout. Read it until EOF; it closes itself
// then. EOF arrives once every process holding the pipe has exited, which
// includes descendants, so it can come after Done.
func (p *Proc) Stdout() io.Reader { return p.stdout }

// Done is closed after the process exited, its group was killed and the
// leader was reaped. Stderr is complete by then.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitCode returns the exit status, or -1 if the process was killed by a
// signal or has not finished yet. Valid after Done.
func (p *Proc) ExitCode() int {
	select {
	case <-p.done:
		return p.exitCode
	default:
		return -1
	}
}

// Err returns the error from waiting on the process, as exec.Cmd.Wait
// reports it: nil on exit 0, an *exec.ExitError on a non-zero exit or a
// signal, exec.ErrWaitDelay when an escaped descendant kept stderr open.
// It returns nil before Done.
func (p *Proc) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Stderr returns a snapshot of the captured stderr in the shape of
// session.ended: Head is nil when nothing was written, so the caller can
// omit the field. It may be called while the process runs.
func (p *Proc) Stderr() schema.StderrOutput { return p.stderr.output() }

// StderrText returns the captured stderr as one string for logs and error
// messages, with a marker where lines were dropped.
func (p *Proc) StderrText() string { return p.stderr.text() }

// stdoutReader closes the pipe at EOF, so a caller that reads to the end
// does not also have to remember to close it.
type stdoutReader struct {
	f *os.File
}

func (s *stdoutReader) Read(b []byte) (int, error) {
	n, err := s.f.Read(b)
	if errors.Is(err, os.ErrClosed) {
		return n, io.EOF // we closed it at an earlier EOF
	}
	if err != nil {
		s.f.Close()
	}
	return n, err
}
