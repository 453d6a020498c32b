package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sandbox-agent/sandbox-agent/install"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/invariants"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// waitTimeout bounds each wait for an event. The agents answer a scripted
// model in about a second; the margin is for a loaded CI machine.
const waitTimeout = 60 * time.Second

// Run is one row for one agent: its fake model, directories, server
// process, client, session and the events seen so far.
type Run struct {
	// T is the row's test (a *testing.T, or the known-bug recorder).
	T        testing.TB
	Agent    *Agent
	Scenario *Scenario
	Row      Row
	// ID marks every process of this run (envRunMarker).
	ID string
	// LLM is the row's fake model server.
	LLM *fakellm.Server
	// Home is the throwaway HOME (XDG dirs inside); Work the agent's
	// working directory; InstallDir holds the pinned agent binary.
	Home, Work, InstallDir string
	// C talks to the row's server.
	C *client.Client
	// SessionID is set by CreateSession.
	SessionID string

	ctx     context.Context
	out     string // this row's artifact directory
	binDir  string // the server's install dir: InstallDir, or the capture wrapper's
	srv     *exec.Cmd
	srvDone chan struct{}
	srvLog  *os.File

	mu      sync.Mutex
	events  []schema.Event
	changed chan struct{}
	cursor  int // Next searches from here
}

// runSeq numbers the runs of this process.
var runSeq atomic.Int64

// newRun prepares a row: fakellm, directories, the agent's config, and a
// server started with the agent's environment.
func newRun(t testing.TB, a *Agent, sc *Scenario) *Run {
	id := fmt.Sprintf("%d-%d", os.Getpid(), runSeq.Add(1))
	ctx, cancel := context.WithCancel(context.Background())
	r := &Run{T: t, Agent: a, Scenario: sc, ID: id, ctx: ctx, changed: make(chan struct{}), InstallDir: installDir(a.Name)}
	if sc != nil {
		r.Row = a.Rows[sc.ID]
		r.out = filepath.Join(outDir(), a.Name, sc.ID)
	} else {
		r.out = filepath.Join(outDir(), a.Name, "_probe")
	}
	_ = os.RemoveAll(r.out)
	if err := os.MkdirAll(r.out, 0o755); err != nil {
		t.Fatal(err)
	}
	llmLog, err := os.Create(filepath.Join(r.out, "fakellm.log"))
	if err != nil {
		t.Fatal(err)
	}
	lg := log.New(llmLog, "", log.Ltime|log.Lmicroseconds)
	r.LLM = fakellm.New(t, fakellm.WithLogf(lg.Printf))
	tmp := t.TempDir()
	r.Home, r.Work = filepath.Join(tmp, "home"), filepath.Join(tmp, "work")
	if err := makeDirs(r.Work, r.Home); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.checkInvariants()
		cancel()
		r.stopServer()
		r.saveArtifacts()
		llmLog.Close()
	})
	if sc != nil {
		script := sc.Steps
		if r.Row.Steps != nil {
			script = r.Row.Steps
		}
		if script != nil {
			r.LLM.SetSteps(script(r)...)
		}
	}
	r.binDir = r.InstallDir
	if os.Getenv(envCapture) == "1" && sc != nil {
		r.binDir = filepath.Join(tmp, "bin")
		if err := teeWrapperDir(r.binDir, agentBin(a.Name)); err != nil {
			t.Fatal(err)
		}
	}
	if a.Setup != nil {
		if err := a.Setup(r); err != nil {
			t.Fatalf("%s setup: %v", a.Name, err)
		}
	}
	r.startServer()
	return r
}

// serverEnv is the whole environment of the row's server: nothing of the
// developer's own (no real keys, no real HOME), plus the agent's.
func (r *Run) serverEnv() []string {
	env := append([]string{"PATH=" + r.binDir + string(os.PathListSeparator) + os.Getenv("PATH")}, homeEnv(r.Home)...)
	env = append(env,
		"TMPDIR="+os.TempDir(),
		"LANG=C.UTF-8",
		"TERM=dumb",
		"SANDBOX_AGENT_INSTALL_DIR="+r.binDir,
		"SANDBOX_AGENT_DOWNLOAD_CACHE=off",
		envRunMarker+"="+r.ID,
	)
	if r.binDir != r.InstallDir {
		env = append(env, envTeeReal+"="+filepath.Join(r.InstallDir, agentBin(r.Agent.Name)), envTeeOut+"="+filepath.Join(r.out, "native"))
	}
	if u := os.Getenv("USER"); u != "" {
		env = append(env, "USER="+u)
	}
	env = append(env, isolationEnv()...)
	if r.Agent.Env != nil {
		env = append(env, r.Agent.Env(r)...)
	}
	return append(env, r.Row.Env...)
}

// homeEnv points HOME and the XDG base directories into a throwaway home
// (the places the agents would pick by default, made explicit).
func homeEnv(home string) []string {
	return []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
	}
}

// makeDirs creates work, home and every directory homeEnv names.
func makeDirs(work, home string) error {
	dirs := []string{work}
	for _, kv := range homeEnv(home) {
		_, dir, _ := strings.Cut(kv, "=")
		dirs = append(dirs, dir)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

var listenRE = regexp.MustCompile(`msg="server listening" addr=(\S+)`)

// startServer runs `sandbox-agent server --no-token --port 0` and waits
// for the address it reports.
func (r *Run) startServer() {
	t := r.T
	if serverBin == "" {
		t.Fatal("no server binary (TestMain did not run prepare)")
	}
	f, err := os.Create(filepath.Join(r.out, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	r.srvLog = f
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(serverBin, "server", "--no-token", "--host", "127.0.0.1", "--port", "0", "--log-level", "debug")
	cmd.Dir = r.Work
	cmd.Env = r.serverEnv()
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r.srv, r.srvDone = cmd, make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(f, line)
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		pr.Close()
	}()
	go func() { _ = cmd.Wait(); close(r.srvDone) }()
	select {
	case a := <-addr:
		r.C = client.New("http://" + a)
	case <-r.srvDone:
		t.Fatalf("server exited at start: %v\n%s", cmd.ProcessState, r.serverLogTail())
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not report its address within 30s\n%s", r.serverLogTail())
	}
	if iso := os.Getenv(envIsolation); iso != isoEnv {
		if got, want := netnsID(fmt.Sprint(cmd.Process.Pid)), netnsID("self"); got != want {
			t.Fatalf("server runs in network namespace %s, not the test's %s", got, want)
		}
	}
}

// stopServer ends the server as an operator would (SIGTERM), then checks
// that no process of the row survives it.
func (r *Run) stopServer() {
	if r.srv == nil {
		return
	}
	_ = r.srv.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.srvDone:
	case <-time.After(15 * time.Second):
		r.T.Errorf("server did not exit within 15s of SIGTERM")
		_ = r.srv.Process.Kill()
		<-r.srvDone
	}
	deadline := time.Now().Add(5 * time.Second)
	var left []proc
	for {
		left = markedProcs(r.ID)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(left) > 0 {
		r.T.Errorf("processes outlived the server: %v", left)
		for _, p := range left {
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
		}
	}
	r.srvLog.Close()
}

// checkInvariants ends the row's session (a no-op if it ended) and checks
// its whole log against the session lifecycle invariants, at the end of
// every scenario against the real CLI.
func (r *Run) checkInvariants() {
	if r.SessionID == "" || r.srv == nil || r.T.Skipped() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := r.C.Terminate(ctx, r.SessionID); err != nil {
		var ce *client.Error
		if errors.As(err, &ce) && ce.StatusCode == http.StatusNotFound {
			return // the scenario deleted it
		}
		r.T.Errorf("terminate at the end of the row: %v", err)
		return
	}
	res, err := r.C.Events(ctx, r.SessionID, client.EventsQuery{})
	if err != nil {
		r.T.Errorf("events at the end of the row: %v", err)
		return
	}
	for _, err := range invariants.Check(res.Events, invariants.Ended) {
		r.T.Errorf("lifecycle invariant: %v", err)
	}
}

func (r *Run) serverLogTail() string {
	b, _ := os.ReadFile(filepath.Join(r.out, "server.log"))
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return "--- server log (tail) ---\n" + string(b)
}

// CreateSession creates the row's session in r.Work, with the scenario's
// and the agent's settings and then mods, and starts following its events
// (include_raw).
func (r *Run) CreateSession(mods ...func(*schema.CreateSessionRequest)) {
	r.T.Helper()
	req := schema.CreateSessionRequest{Agent: r.Agent.Name, Directory: &r.Work}
	if r.Scenario != nil && r.Scenario.Session != nil {
		r.Scenario.Session(&req)
	}
	if r.Row.Session != nil {
		r.Row.Session(&req)
	}
	for _, m := range mods {
		m(&req)
	}
	r.SessionID = "e2e-" + r.Agent.Name + "-" + r.ID
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	resp, err := r.C.CreateSession(ctx, r.SessionID, req)
	if err != nil {
		r.T.Fatalf("create session: %v\n%s", err, r.serverLogTail())
	}
	if !resp.Healthy {
		r.T.Fatalf("create session: unhealthy: %+v", resp.Error)
	}
	go r.follow()
}

// follow collects the session's events until the run ends.
func (r *Run) follow() {
	for ev, err := range r.C.StreamEvents(r.ctx, r.SessionID, client.StreamOptions{IncludeRaw: true}) {
		if err != nil {
			r.T.Logf("event stream: %v", err)
			return
		}
		r.mu.Lock()
		r.events = append(r.events, ev)
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}
}

// Send sends one user message (the turn runs asynchronously).
func (r *Run) Send(text string) {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	if err := r.C.SendMessage(ctx, r.SessionID, schema.MessageRequest{Message: text}); err != nil {
		r.T.Fatalf("send %q: %v", text, err)
	}
}

// Events returns a copy of every event seen so far.
func (r *Run) Events() []schema.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]schema.Event(nil), r.events...)
}

// Next waits for the first event at or after the cursor that matches,
// moves the cursor past it and returns it. It fails the row on timeout,
// listing what was seen.
func (r *Run) Next(what string, match func(schema.Event) bool) schema.Event {
	r.T.Helper()
	return r.NextWithin(waitTimeout, what, match)
}

// NextWithin is Next with its own timeout.
func (r *Run) NextWithin(d time.Duration, what string, match func(schema.Event) bool) schema.Event {
	r.T.Helper()
	ev, ok := r.next(match, d)
	if !ok {
		r.T.Fatalf("timed out after %v waiting for %s; events after the cursor:\n%s\n%s", d, what, r.dumpFrom(r.Mark()), r.serverLogTail())
	}
	return ev
}

func (r *Run) next(match func(schema.Event) bool, timeout time.Duration) (schema.Event, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for i := r.cursor; i < len(r.events); i++ {
			if match(r.events[i]) {
				r.cursor = i + 1
				ev := r.events[i]
				r.mu.Unlock()
				return ev, true
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return schema.Event{}, false
		case <-r.ctx.Done():
			return schema.Event{}, false
		}
	}
}

// until waits up to timeout for cond to hold over all events so far,
// without moving the cursor; it reports whether it did.
func (r *Run) until(timeout time.Duration, cond func([]schema.Event) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond(r.events)
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		case <-r.ctx.Done():
			return false
		}
	}
}

// Mark returns the cursor, for Since.
func (r *Run) Mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cursor
}

// Since returns the events from index mark up to the cursor.
func (r *Run) Since(mark int) []schema.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]schema.Event(nil), r.events[mark:r.cursor]...)
}

// Skip skips the row with a reason the matrix shows.
func (r *Run) Skip(reason string) {
	r.T.Helper()
	skipRow(r.T, reason)
}

// AgentProcs returns the live processes of the row that run the agent's
// binary (everything the server started from the install directory), or
// its script when the agent is a JavaScript program run by node.
func (r *Run) AgentProcs() []proc {
	var out []proc
	inDir := func(path string) bool {
		return strings.HasPrefix(path, r.InstallDir+string(os.PathSeparator)) || strings.HasPrefix(path, realPath(r.InstallDir)+string(os.PathSeparator))
	}
	for _, p := range markedProcs(r.ID) {
		if r.srv != nil && p.PID == r.srv.Process.Pid {
			continue
		}
		args := strings.Fields(p.Cmd)
		if inDir(p.Exe) || (filepath.Base(p.Exe) == "node" && len(args) > 1 && inDir(args[1])) {
			out = append(out, p)
		}
	}
	return out
}

func realPath(p string) string {
	if rp, err := filepath.EvalSymlinks(p); err == nil {
		return rp
	}
	return p
}

func (r *Run) dumpFrom(i int) string {
	evs := r.Events()
	var b strings.Builder
	if i > len(evs) {
		i = len(evs)
	}
	for _, ev := range evs[i:] {
		b.WriteString("  " + brief(ev) + "\n")
	}
	if b.Len() == 0 {
		b.WriteString("  (none)\n")
	}
	return b.String()
}

// saveArtifacts writes the row's events (and, with envCapture, the raw
// native lines) for whoever debugs it next.
func (r *Run) saveArtifacts() {
	evs := r.Events()
	if len(evs) == 0 {
		return
	}
	var all bytes.Buffer
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		all.Write(b)
		all.WriteByte('\n')
	}
	_ = os.WriteFile(filepath.Join(r.out, "events.jsonl"), all.Bytes(), 0o644)
	if os.Getenv(envCapture) != "1" || r.Scenario == nil {
		return
	}
	dir := filepath.Join("testdata", "captures", r.Agent.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.T.Logf("captures: %v", err)
		return
	}
	for _, stream := range []string{"stdin", "stdout"} {
		if b, err := os.ReadFile(filepath.Join(r.out, "native."+stream+".jsonl")); err == nil && len(b) > 0 {
			_ = os.WriteFile(filepath.Join(dir, r.Scenario.ID+"."+stream+".jsonl"), b, 0o644)
		}
	}
	var raw bytes.Buffer
	var last []byte
	for _, ev := range evs {
		if ev.Source != schema.SourceAgent || len(ev.Raw) == 0 {
			continue
		}
		var c bytes.Buffer
		if json.Compact(&c, ev.Raw) != nil {
			c.Reset()
			c.Write(ev.Raw)
		}
		if bytes.Equal(c.Bytes(), last) {
			continue // several events from one native line
		}
		last = append(last[:0], c.Bytes()...)
		raw.Write(c.Bytes())
		raw.WriteByte('\n')
	}
	if raw.Len() == 0 {
		return
	}
	_ = os.WriteFile(filepath.Join(dir, r.Scenario.ID+".jsonl"), raw.Bytes(), 0o644)
}

// brief is a one-line description of an event for failure messages.
func brief(ev schema.Event) string {
	s := fmt.Sprintf("#%d %s", ev.Sequence, ev.Type)
	if ev.Synthetic {
		s += " (synthetic)"
	}
	b, _ := json.Marshal(ev.Data)
	return s + " " + trunc(string(b), 300)
}

// agentBin is the agent's executable name in an install dir (opencode-acp
// runs the opencode binary).
func agentBin(agent string) string { return install.BinName(agent) }
