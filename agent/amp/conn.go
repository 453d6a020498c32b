package amp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// maxLine bounds one stdout line; a longer one is cut (and then unparsed).
const maxLine = 64 << 20

// maxCrashes is how many turns in a row may fail without a result before
// the session is ended.
const maxCrashes = 3

// conn is one session: its converter, the turn running in a CLI process,
// and the messages queued behind it (a message sent during a turn starts
// its process when that turn's process is gone).
type conn struct {
	a     *Adapter
	path  string
	probe *probe
	mode  string // --mode, "" for Amp's default
	dir   string // the session's settings directory
	spec  agent.Spec
	sink  agent.Sink
	conv  *Converter

	mu      sync.Mutex
	cur     *run
	queue   []agent.Prompt
	closed  bool // Close ran, or the session ended
	crashes int
}

// run is the process of one turn.
type run struct {
	p        *process.Proc
	done     chan struct{} // stdout drained and the exit handled
	ended    bool          // the CLI's result ended the turn (guarded by conn.mu)
	stopping bool          // Interrupt or Close stops it (guarded by conn.mu)
}

func newConn(a *Adapter, path string, p *probe, mode, dir string, spec agent.Spec, sink agent.Sink) *conn {
	c := &conn{a: a, path: path, probe: p, mode: mode, dir: dir, spec: spec, sink: sink, conv: NewConverter()}
	if spec.NativeSessionID != "" {
		c.conv.SetThreadID(spec.NativeSessionID)
	}
	return c
}

// args is the command line of a turn: a new thread, or the session's
// thread continued.
func (c *conn) args(prompt string) []string {
	var args []string
	if t := c.conv.ThreadID(); t != "" {
		args = append(args, "threads", "continue", t)
	}
	if c.probe.streamJSONInput {
		args = append(args, "--execute", "--stream-json", "--stream-json-input")
	} else {
		args = append(args, "--execute", prompt, "--stream-json")
	}
	if c.probe.streamJSONThinking {
		args = append(args, "--stream-json-thinking")
	}
	if c.mode != "" {
		args = append(args, "--mode", c.mode)
	}
	if c.spec.PermissionMode == schema.PermissionModeBypass && c.probe.allowAllFlag {
		args = append(args, "--dangerously-allow-all") // the settings file says so too
	}
	return args
}

// env is what an amp process gets on top of the server's environment
// (which carries AMP_API_KEY and AMP_URL through).
func (c *conn) env() []string {
	env := []string{"AMP_SETTINGS_FILE=" + filepath.Join(c.dir, settingsFile), "NO_COLOR=1"}
	env = append(env, c.spec.Env...)
	return append(env, c.a.opts.Env...)
}

// promptText is the text sent to Amp: attachments are named by path.
func promptText(p agent.Prompt) string {
	if len(p.Attachments) == 0 {
		return p.Text
	}
	var b strings.Builder
	b.WriteString(p.Text)
	b.WriteString("\n\nAttachments:\n")
	for _, a := range p.Attachments {
		b.WriteString("- " + a.Path + "\n")
	}
	return b.String()
}

// Send starts the turn's CLI process, or queues the message behind the
// running turn.
func (c *conn) Send(ctx context.Context, p agent.Prompt) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return agent.Errorf(agent.ErrProcessExited, "amp session is closed")
	}
	if c.cur != nil {
		c.queue = append(c.queue, p)
		c.mu.Unlock()
		return nil
	}
	r, user, err := c.startLocked(p)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	c.begin(r, user)
	return nil
}

// startLocked starts a turn's CLI with the prompt on stdin (closed right
// away: Amp prints its result once input ends). The caller emits the
// user's item and then begins reading (begin), without holding c.mu:
// drafts are never emitted under it.
func (c *conn) startLocked(p agent.Prompt) (*run, []agent.Draft, error) {
	text := promptText(p)
	input, err := json.Marshal(inputLine{Type: "user", Message: inputMessage{Role: "user", Content: []inputBlock{{Type: "text", Text: text}}}})
	if err != nil {
		return nil, nil, err
	}
	pr, err := process.Start(process.Options{
		Path:  c.path,
		Args:  c.args(text),
		Dir:   c.spec.Dir,
		Env:   c.env(),
		Stdin: true,
	})
	if err != nil {
		return nil, nil, agent.Errorf(agent.ErrProcessExited, "start amp: %v", err)
	}
	r := &run{p: pr, done: make(chan struct{})}
	c.cur = r
	go func() {
		// A CLI that dies before reading its input fails the write; its
		// exit is what the turn reports.
		if c.probe.streamJSONInput {
			_, _ = pr.Stdin().Write(append(input, '\n'))
		}
		_ = pr.Stdin().Close()
	}()
	return r, c.conv.UserMessage(text), nil
}

// begin emits the turn's user item, then reads its process's output.
func (c *conn) begin(r *run, user []agent.Draft) {
	for _, d := range user {
		c.sink.Emit(d)
	}
	go c.read(r)
}

// read converts the process's stdout until it closes, then handles the
// exit.
func (c *conn) read(r *run) {
	defer close(r.done)
	br := bufio.NewReaderSize(r.p.Stdout(), 64<<10)
	for {
		line, err := readLine(br)
		for _, d := range c.conv.Line(line) {
			if d.Type == schema.EventTurnEnded {
				c.mu.Lock()
				r.ended = true
				c.crashes = 0
				c.mu.Unlock()
			}
			c.sink.Emit(d)
		}
		if err != nil {
			break
		}
	}
	<-r.p.Done()
	c.exited(r)
}

// readLine reads one line; a line longer than maxLine is cut there.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) <= maxLine {
			line = append(line, chunk...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
	}
}

// exited ends the turn of a process that is gone without a result: as
// interrupted when we stopped it, else with an error carrying what the CLI
// said (its "Error: …" line). The session ends when Amp never got as far
// as a thread (the service is unreachable or refuses the key: every retry
// fails alike) or after maxCrashes such turns in a row. Then the next
// queued message starts.
func (c *conn) exited(r *run) {
	c.mu.Lock()
	if c.cur == r {
		c.cur = nil
	}
	if c.closed {
		c.mu.Unlock()
		return
	}
	// The process is gone: so is its turn's state (an interrupt that
	// raced its result included).
	c.conv.EndTurn()
	var out []agent.Draft
	if !r.ended {
		if r.stopping {
			out = append(out, agent.TurnEnded(json.RawMessage(`{"interrupted":true}`), nil))
		} else {
			out = append(out, c.failedLocked(r)...)
		}
	}
	var next *run
	var user []agent.Draft
	for len(c.queue) > 0 && !c.closed {
		p := c.queue[0]
		c.queue = c.queue[1:]
		var err error
		if next, user, err = c.startLocked(p); err == nil {
			break
		}
		out = append(out, agent.ErrorEvent(err.Error(), "send_failed", nil, nil),
			agent.TurnEnded(json.RawMessage(`{"isError":true}`), nil))
	}
	c.mu.Unlock()
	for _, d := range out {
		c.sink.Emit(d)
	}
	if next != nil {
		c.begin(next, user)
	}
}

// failedLocked reports a turn whose process died without a result, and
// ends the session when it cannot go on.
func (c *conn) failedLocked(r *run) []agent.Draft {
	code := r.p.ExitCode()
	stderr := r.p.Stderr()
	msg := cliError(r.p.StderrText())
	if msg == "" {
		msg = fmt.Sprintf("amp exited with status %d without a result", code)
	}
	info := map[string]any{"exitCode": code, "stderr": stderr}
	if sig, ok := process.Signal(r.p); ok {
		code = 128 + int(sig)
		msg = fmt.Sprintf("amp was killed by %s during a turn", process.SignalName(sig))
		info["exitCode"], info["signal"] = code, process.SignalName(sig)
	}
	details, _ := json.Marshal(info)
	out := []agent.Draft{
		agent.ErrorEvent(msg, "amp_exited", details, nil),
		agent.TurnEnded(json.RawMessage(`{"isError":true}`), nil),
	}
	c.crashes++
	if c.conv.ThreadID() != "" && c.crashes < maxCrashes {
		return out
	}
	c.closed = true
	c.queue = nil
	ended := schema.SessionEndedData{
		Reason: schema.EndError, TerminatedBy: schema.ByAgent,
		Message: schema.Ptr(msg), ExitCode: schema.Ptr(code),
	}
	if stderr.Head != nil {
		ended.Stderr = &stderr
	}
	return append(out, agent.SessionEnded(ended))
}

// cliError is the message the CLI gave for failing: its last "Error: …"
// line, else its last line.
func cliError(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.HasPrefix(l, "Error:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "Error:"))
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// Answer is never called: Amp asks no questions in stream JSON mode.
func (c *conn) Answer(context.Context, agent.Reply) error {
	return agent.Errorf(agent.ErrInvalidRequest, "amp has no pending requests")
}

// Interrupt stops the running turn's process (Amp's execute mode has no
// way to stop a turn and go on); the next message continues the thread.
func (c *conn) Interrupt(ctx context.Context) error {
	c.mu.Lock()
	r := c.cur
	if r == nil || r.ended {
		// No turn, or its result is out and the process is exiting: an
		// interrupt noted now would swallow the next turn's error.
		c.mu.Unlock()
		return nil
	}
	r.stopping = true
	c.conv.NoteInterrupt()
	c.mu.Unlock()
	_ = r.p.Terminate(ctx, killGrace)
	<-r.done
	return nil
}

// Close stops the running turn, drops queued messages and removes the
// session's settings.
func (c *conn) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed && c.cur == nil {
		c.mu.Unlock()
		return os.RemoveAll(c.dir)
	}
	c.closed = true
	c.queue = nil
	r := c.cur
	if r != nil {
		r.stopping = true
	}
	c.mu.Unlock()
	if r != nil {
		_ = r.p.Terminate(ctx, killGrace)
		<-r.done
	}
	return os.RemoveAll(c.dir)
}
