//go:build unix

package process

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sh starts script under /bin/sh and makes sure it is gone when the test ends.
func sh(t *testing.T, script string) *Proc {
	t.Helper()
	p, err := Start(Options{Path: "/bin/sh", Args: []string{"-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Terminate(context.Background(), 0)
		io.Copy(io.Discard, p.Stdout())
	})
	return p
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	l, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read stdout: %v", err)
	}
	return strings.TrimSuffix(l, "\n")
}

func readPid(t *testing.T, r *bufio.Reader) int {
	t.Helper()
	pid, err := strconv.Atoi(readLine(t, r))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// dead reports whether pid no longer runs. A zombie counts as dead: an
// orphaned grandchild is reparented to init, and reaping it is init's job.
func dead(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) != nil // no /proc (not Linux)
	}
	s := string(stat)
	return strings.HasPrefix(s[strings.LastIndexByte(s, ')')+1:], " Z")
}

// waitDead polls because a SIGKILLed process dies asynchronously.
func waitDead(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if dead(pid) {
			return
		}
	}
	t.Fatalf("process %d survived", pid)
}

func signalOf(t *testing.T, p *Proc) syscall.Signal {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(p.Err(), &ee) {
		t.Fatalf("Err() = %v, want *exec.ExitError", p.Err())
	}
	return ee.Sys().(syscall.WaitStatus).Signal()
}

func TestStdinStdoutRoundTrip(t *testing.T) {
	p, err := Start(Options{Path: "cat", Stdin: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(p.Stdin(), "hello\nworld\n"); err != nil {
		t.Fatal(err)
	}
	p.Stdin().Close()
	out, err := io.ReadAll(p.Stdout())
	if err != nil || string(out) != "hello\nworld\n" {
		t.Fatalf("stdout = %q, %v", out, err)
	}
	<-p.Done()
	if p.ExitCode() != 0 || p.Err() != nil || Live() != 0 {
		t.Fatalf("exit=%d err=%v live=%d", p.ExitCode(), p.Err(), Live())
	}
}

func TestStdinDefaultsToDevNull(t *testing.T) {
	p, err := Start(Options{Path: "cat"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Stdin() != nil {
		t.Fatal("Stdin() != nil without Options.Stdin")
	}
	out, _ := io.ReadAll(p.Stdout())
	<-p.Done()
	if len(out) != 0 || p.ExitCode() != 0 {
		t.Fatalf("stdout=%q exit=%d", out, p.ExitCode())
	}
}

func TestExitCode(t *testing.T) {
	for script, want := range map[string]int{"exit 0": 0, "exit 3": 3, "kill -KILL $$": -1} {
		p := sh(t, script)
		<-p.Done()
		if p.ExitCode() != want {
			t.Errorf("%q: exit code %d, want %d", script, p.ExitCode(), want)
		}
		if (want == 0) != (p.Err() == nil) {
			t.Errorf("%q: Err() = %v", script, p.Err())
		}
	}
}

func TestTerminateKillsGrandchild(t *testing.T) {
	p := sh(t, "sleep 300 & echo $!; sleep 300")
	out := bufio.NewReader(p.Stdout())
	grandchild := readPid(t, out)
	if dead(grandchild) {
		t.Fatal("grandchild not running before Terminate")
	}
	if err := p.Terminate(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("Terminate returned before Done")
	}
	if p.ExitCode() != -1 || signalOf(t, p) != syscall.SIGTERM {
		t.Fatalf("exit=%d err=%v", p.ExitCode(), p.Err())
	}
	waitDead(t, grandchild)
	// The grandchild held stdout too; EOF proves nobody does any more.
	if _, err := io.ReadAll(out); err != nil {
		t.Fatal(err)
	}
}

func TestLeaderExitKillsGroup(t *testing.T) {
	p := sh(t, "sleep 300 & echo $!")
	out := bufio.NewReader(p.Stdout())
	grandchild := readPid(t, out)
	<-p.Done()
	if p.ExitCode() != 0 {
		t.Fatalf("exit=%d err=%v", p.ExitCode(), p.Err())
	}
	waitDead(t, grandchild)
	io.ReadAll(out)
}

// trap ” makes SIGTERM ignored, and ignored signals are inherited, so the
// whole group (sh and sleep) ignores it.
const ignoreTERM = "trap '' TERM; echo ready; sleep 300"

func TestTerminateEscalatesToKill(t *testing.T) {
	p := sh(t, ignoreTERM)
	readLine(t, bufio.NewReader(p.Stdout()))
	if err := p.Terminate(context.Background(), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if sig := signalOf(t, p); sig != syscall.SIGKILL {
		t.Fatalf("killed by %v, want SIGKILL", sig)
	}
}

func TestTerminateContextEndsGrace(t *testing.T) {
	p := sh(t, ignoreTERM)
	readLine(t, bufio.NewReader(p.Stdout()))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Terminate(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if sig := signalOf(t, p); sig != syscall.SIGKILL {
		t.Fatalf("killed by %v, want SIGKILL", sig)
	}
}

func TestTerminateConcurrentAndAfterExit(t *testing.T) {
	p := sh(t, "sleep 300")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := p.Terminate(context.Background(), time.Second); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := p.Terminate(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestKillAll(t *testing.T) {
	var ps []*Proc
	for _, script := range []string{"sleep 300", "sleep 300 & sleep 300", ignoreTERM} {
		ps = append(ps, sh(t, script))
	}
	readLine(t, bufio.NewReader(ps[2].Stdout())) // trap installed
	if n := Live(); n != 3 {
		t.Fatalf("Live() = %d, want 3", n)
	}
	KillAll(100 * time.Millisecond)
	if n := Live(); n != 0 {
		t.Fatalf("Live() after KillAll = %d", n)
	}
	for _, p := range ps {
		select {
		case <-p.Done():
		default:
			t.Fatalf("pid %d not reaped", p.Pid())
		}
	}
}

func TestStderrFromProcess(t *testing.T) {
	p := sh(t, `i=1; while [ $i -le 1000 ]; do echo "line $i" >&2; i=$((i+1)); done
		head -c 2000 /dev/zero | tr '\0' a >&2; echo >&2; printf 'no newline' >&2`)
	<-p.Done()
	o := p.Stderr()
	wantTail := lines(953, 1000) + "\n" + strings.Repeat("a", 500) + "...\nno newline"
	if !o.Truncated || *o.TotalLines != 1002 || *o.Head != lines(1, 20) || *o.Tail != wantTail {
		t.Fatalf("total=%d truncated=%v\nhead=%q\ntail=%q", *o.TotalLines, o.Truncated, *o.Head, *o.Tail)
	}
	if !strings.Contains(p.StderrText(), "\n... 932 lines omitted ...\n") {
		t.Fatalf("StderrText = %q", p.StderrText())
	}
}

func TestEnv(t *testing.T) {
	run := func(o Options) string {
		t.Helper()
		p, err := Start(o)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(p.Stdout())
		<-p.Done()
		return string(out)
	}
	if got := run(Options{Path: "sh", Args: []string{"-c", "echo $FOO"}, Env: []string{"FOO=bar", "FOO=baz"}}); got != "baz\n" {
		t.Errorf("appended env: %q", got)
	}
	if got := run(Options{Path: "/usr/bin/env", Env: []string{"A=1"}, ReplaceEnv: true}); got != "A=1\n" {
		t.Errorf("replaced env: %q", got)
	}
	if got := run(Options{Path: "/usr/bin/env", ReplaceEnv: true}); got != "" {
		t.Errorf("empty env: %q", got)
	}

	// The program is looked up in the child's PATH, not ours.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mytool"), []byte("#!/bin/sh\necho mine\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := run(Options{Path: "mytool", Env: []string{"PATH=" + dir + ":/usr/bin:/bin"}}); got != "mine\n" {
		t.Errorf("lookup in child PATH: %q", got)
	}
	if got := run(Options{Path: "pwd", Dir: dir}); got != dir+"\n" {
		t.Errorf("Dir: %q", got)
	}
}

func TestStartError(t *testing.T) {
	for _, path := range []string{"no-such-program-xyz", "/no/such/program"} {
		if p, err := Start(Options{Path: path}); err == nil {
			t.Errorf("Start(%q) = %v, nil", path, p.Pid())
		}
	}
	if n := Live(); n != 0 {
		t.Fatalf("Live() = %d", n)
	}
}

// A descendant that leaves the group (setsid) is out of reach of group
// signals; it must at least not pin Done by holding stderr open.
func TestEscapedDescendantDoesNotPinDone(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid")
	}
	// The pid file is written after setsid, so the leader exits (and the
	// reaper kills its group) only once the escape has happened.
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := sh(t, `setsid sh -c 'echo $$ >"$0"; exec sleep 300' `+pidFile+` &
		while [ ! -s `+pidFile+` ]; do sleep 0.01; done; cat `+pidFile)
	escaped := readPid(t, bufio.NewReader(p.Stdout()))
	defer syscall.Kill(escaped, syscall.SIGKILL) // before sh's cleanup drains stdout
	<-p.Done()
	if p.ExitCode() != 0 || !errors.Is(p.Err(), exec.ErrWaitDelay) {
		t.Fatalf("exit=%d err=%v", p.ExitCode(), p.Err())
	}
}

func TestSignal(t *testing.T) {
	p, err := Start(Options{Path: "/bin/sh", Args: []string{"-c", "kill -9 $$"}})
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	sig, ok := Signal(p)
	if !ok || SignalName(sig) != "SIGKILL" || p.ExitCode() != -1 {
		t.Fatalf("signal %v %v exit %d", sig, ok, p.ExitCode())
	}
	q, _ := Start(Options{Path: "/bin/sh", Args: []string{"-c", "exit 3"}})
	<-q.Done()
	if _, ok := Signal(q); ok || q.ExitCode() != 3 {
		t.Fatal("plain exit reported as a signal")
	}
}

// The server's own variables, its token first, never reach a child; those
// meant for agents, and everything else, do.
func TestEnvScrubsServerVariables(t *testing.T) {
	t.Setenv("SANDBOX_AGENT_TOKEN", "server-secret")
	t.Setenv("sandbox_agent_token", "server-secret")
	t.Setenv("SANDBOX_AGENT_INSTALL_DIR", "/opt/agents")
	t.Setenv("SANDBOX_AGENT_NODE", "/opt/node")
	t.Setenv("ANTHROPIC_API_KEY", "for-the-agent")
	p, err := Start(Options{Path: "/usr/bin/env", Env: []string{"EXTRA=1"}})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(p.Stdout())
	<-p.Done()
	env := string(out)
	if strings.Contains(env, "server-secret") || strings.Contains(env, "INSTALL_DIR") {
		t.Errorf("server variables leaked into the child:\n%s", env)
	}
	for _, want := range []string{"SANDBOX_AGENT_NODE=/opt/node\n", "ANTHROPIC_API_KEY=for-the-agent\n", "EXTRA=1\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("child env lacks %q:\n%s", want, env)
		}
	}
}
