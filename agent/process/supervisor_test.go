//go:build unix

package process

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// lineServer is a stand-in shared server: a shell script that says "ready"
// on stdout, then echoes its stdin; the client is its line reader.
type lineServer struct {
	out *bufio.Reader
}

type fixture struct {
	starts atomic.Int32
	script atomic.Value // string: the script of the next start
	sup    *Supervisor[*lineServer]
}

const echoServer = `echo ready; while read l; do echo "$l"; done`

func newFixture(t *testing.T, cfg SupervisorConfig[*lineServer]) *fixture {
	t.Helper()
	f := &fixture{}
	f.script.Store(echoServer)
	cfg.Name = "test server"
	cfg.Start = func(ctx context.Context) (Instance[*lineServer], error) {
		f.starts.Add(1)
		p, err := Start(Options{Path: "/bin/sh", Args: []string{"-c", f.script.Load().(string)}, Stdin: true})
		if err != nil {
			return Instance[*lineServer]{}, err
		}
		return Instance[*lineServer]{Proc: p, Client: &lineServer{out: bufio.NewReader(p.Stdout())}}, nil
	}
	cfg.Ready = func(ctx context.Context, inst Instance[*lineServer]) error {
		l, err := inst.Client.out.ReadString('\n')
		if err != nil {
			return err
		}
		if l != "ready\n" {
			return fmt.Errorf("unexpected greeting %q", l)
		}
		return nil
	}
	cfg.MinBackoff, cfg.MaxBackoff = time.Millisecond, 5*time.Millisecond
	if cfg.StopGrace == 0 {
		cfg.StopGrace = time.Second
	}
	f.sup = NewSupervisor(cfg)
	t.Cleanup(f.sup.Shutdown)
	return f
}

func (f *fixture) acquire(t *testing.T, hooks LeaseHooks[*lineServer]) (*Lease[*lineServer], Instance[*lineServer]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, inst, err := f.sup.Acquire(ctx, hooks)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	t.Cleanup(l.Release)
	return l, inst
}

func echo(t *testing.T, inst Instance[*lineServer], msg string) {
	t.Helper()
	if _, err := fmt.Fprintln(inst.Proc.Stdin(), msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	l, err := inst.Client.out.ReadString('\n')
	if err != nil || l != msg+"\n" {
		t.Fatalf("echo = %q, %v; want %q", l, err, msg)
	}
}

// eventually polls cond because process deaths and restarts are asynchronous.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestSupervisorStartsLazilyAndStopsWithTheLastLease(t *testing.T) {
	f := newFixture(t, SupervisorConfig[*lineServer]{})
	if st := f.sup.Status(); st.Status != schema.ServerStopped || f.starts.Load() != 0 {
		t.Fatalf("before any lease: status %q, %d starts", st.Status, f.starts.Load())
	}

	l1, inst1 := f.acquire(t, LeaseHooks[*lineServer]{})
	l2, inst2 := f.acquire(t, LeaseHooks[*lineServer]{})
	if inst1.Proc != inst2.Proc || f.starts.Load() != 1 {
		t.Fatalf("two leases: pids %d and %d, %d starts; want one shared server", inst1.Proc.Pid(), inst2.Proc.Pid(), f.starts.Load())
	}
	echo(t, inst1, "hello")
	st := f.sup.Status()
	if st.Status != schema.ServerRunning || st.UptimeMs == nil || st.RestartCount != 0 || st.LastError != nil {
		t.Fatalf("running status = %+v", st)
	}

	l1.Release()
	l1.Release() // idempotent: must not drop l2's hold
	if inst1.Proc.ExitCode() != -1 || f.sup.Pid() != inst1.Proc.Pid() {
		t.Fatal("server stopped while a lease was still held")
	}
	l2.Release()
	// Release of the last lease returns once the process is gone.
	select {
	case <-inst1.Proc.Done():
	default:
		t.Fatal("last Release returned with the server still running")
	}
	if st := f.sup.Status(); st.Status != schema.ServerStopped || f.sup.Pid() != 0 {
		t.Fatalf("after the last release: %+v, pid %d", st, f.sup.Pid())
	}
	if _, err := l2.Instance(context.Background()); !errors.Is(err, ErrLeaseReleased) {
		t.Fatalf("Instance after Release = %v", err)
	}

	// The next lease starts a new server.
	_, inst3 := f.acquire(t, LeaseHooks[*lineServer]{})
	if inst3.Proc == inst1.Proc || f.starts.Load() != 2 {
		t.Fatalf("after restart-from-stopped: %d starts", f.starts.Load())
	}
	echo(t, inst3, "again")
}

func TestSupervisorFirstStartFailureIsReturnedWithStderr(t *testing.T) {
	f := newFixture(t, SupervisorConfig[*lineServer]{})
	f.script.Store(`echo "bad config: OPENAI_API_KEY" >&2; exit 3`)
	_, _, err := f.sup.Acquire(context.Background(), LeaseHooks[*lineServer]{})
	if err == nil || !strings.Contains(err.Error(), "bad config: OPENAI_API_KEY") || !strings.Contains(err.Error(), "exit code 3") {
		t.Fatalf("Acquire error = %v; want the exit code and the stderr", err)
	}
	if f.starts.Load() != 1 {
		t.Fatalf("%d starts; a first start that fails is not retried", f.starts.Load())
	}
	if st := f.sup.Status(); st.Status != schema.ServerError || st.LastError == nil {
		t.Fatalf("status after failed start = %+v", st)
	}

	// A later Acquire tries again, and succeeds once the cause is gone.
	f.script.Store(echoServer)
	_, inst := f.acquire(t, LeaseHooks[*lineServer]{})
	echo(t, inst, "ok")
	if f.sup.Status().Status != schema.ServerRunning {
		t.Fatal("not running after a successful acquire")
	}
}

func TestSupervisorReadyFailureKillsTheInstance(t *testing.T) {
	f := newFixture(t, SupervisorConfig[*lineServer]{ReadyTimeout: 200 * time.Millisecond})
	// Never says ready and never exits: only the ready timeout ends it.
	f.script.Store(`echo starting >&2; exec sleep 600`)
	_, _, err := f.sup.Acquire(context.Background(), LeaseHooks[*lineServer]{})
	if err == nil || !strings.Contains(err.Error(), "not ready") || !strings.Contains(err.Error(), "starting") {
		t.Fatalf("Acquire error = %v", err)
	}
	if n := Live(); n != 0 {
		t.Fatalf("%d processes alive after a failed ready probe", n)
	}
}

func TestSupervisorRestartsAndReattachesLeases(t *testing.T) {
	f := newFixture(t, SupervisorConfig[*lineServer]{})
	var mu sync.Mutex
	var reattached []int
	release := make(chan struct{})
	hooks := LeaseHooks[*lineServer]{
		Restarted: func(ctx context.Context, inst Instance[*lineServer]) {
			mu.Lock()
			echo(t, inst, "resume") // the hook may talk to the new instance
			mu.Unlock()
			select {
			case <-release:
			case <-ctx.Done(): // the server is being stopped
				return
			}
			mu.Lock()
			reattached = append(reattached, inst.Proc.Pid())
			mu.Unlock()
		},
		Lost: func(error, schema.StderrOutput) { t.Error("Lost called for a server that came back") },
	}
	l1, old := f.acquire(t, hooks)
	l2, _ := f.acquire(t, hooks)

	if err := syscall.Kill(old.Proc.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-old.Proc.Done()
	eventually(t, "the restart", func() bool { return f.starts.Load() == 2 })

	// While the leases re-attach, Instance waits: a session must not send
	// to the new instance before it resumed its thread there.
	got := make(chan Instance[*lineServer], 1)
	go func() {
		inst, err := l1.Instance(context.Background())
		if err != nil {
			t.Errorf("Instance during re-attach: %v", err)
		}
		got <- inst
	}()
	select {
	case <-got:
		t.Fatal("Instance returned before the Restarted hooks finished")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	inst := <-got
	if inst.Proc == old.Proc {
		t.Fatal("Instance returned the dead instance")
	}
	mu.Lock()
	if len(reattached) != 2 || reattached[0] != inst.Proc.Pid() || reattached[1] != inst.Proc.Pid() {
		t.Fatalf("reattached on %v; want both leases on pid %d", reattached, inst.Proc.Pid())
	}
	mu.Unlock()
	if inst2, err := l2.Instance(context.Background()); err != nil || inst2.Proc != inst.Proc {
		t.Fatalf("second lease: %v", err)
	}
	echo(t, inst, "after restart")

	st := f.sup.Status()
	if st.Status != schema.ServerRunning || st.RestartCount != 1 || st.LastError == nil || !strings.Contains(*st.LastError, "SIGKILL") {
		t.Fatalf("status after restart = %+v", st)
	}
}

func TestSupervisorGivesUpAndTellsTheLeases(t *testing.T) {
	f := newFixture(t, SupervisorConfig[*lineServer]{MaxRestarts: 2})
	type loss struct {
		err    error
		stderr schema.StderrOutput
	}
	lost := make(chan loss, 1)
	l, inst := f.acquire(t, LeaseHooks[*lineServer]{
		Lost: func(err error, stderr schema.StderrOutput) { lost <- loss{err, stderr} },
	})
	// Every restart dies at once.
	f.script.Store(`echo "fatal: cannot bind" >&2; exit 1`)
	if err := syscall.Kill(inst.Proc.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var got loss
	select {
	case got = <-lost:
	case <-time.After(20 * time.Second):
		t.Fatal("Lost was never called")
	}
	if got.stderr.Head == nil || !strings.Contains(*got.stderr.Head, "fatal: cannot bind") {
		t.Fatalf("Lost stderr = %+v", got.stderr)
	}
	if !strings.Contains(got.err.Error(), "exit code 1") {
		t.Fatalf("Lost err = %v", got.err)
	}
	// One crash then two failed restarts: the third start gives up.
	if n := f.starts.Load(); n != 3 {
		t.Fatalf("%d starts; want 1 + MaxRestarts", n)
	}
	if _, err := l.Instance(context.Background()); !errors.Is(err, ErrServerLost) {
		t.Fatalf("Instance after loss = %v", err)
	}
	st := f.sup.Status()
	if st.Status != schema.ServerError || st.LastError == nil || !strings.Contains(*st.LastError, "cannot bind") {
		t.Fatalf("status after loss = %+v", st)
	}
	if n := Live(); n != 0 {
		t.Fatalf("%d processes alive after the server was lost", n)
	}
}

func TestSupervisorReleaseDuringBackoffStartsNothing(t *testing.T) {
	f := newFixture(t, SupervisorConfig[*lineServer]{})
	f.sup.cfg.MinBackoff, f.sup.cfg.MaxBackoff = time.Hour, time.Hour
	l, inst := f.acquire(t, LeaseHooks[*lineServer]{})
	if err := syscall.Kill(inst.Proc.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "backoff", func() bool { return f.sup.Status().Status == schema.ServerError })
	done := make(chan struct{})
	go func() { l.Release(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Release blocked behind the backoff")
	}
	if f.starts.Load() != 1 || f.sup.Status().Status != schema.ServerStopped {
		t.Fatalf("%d starts, status %q", f.starts.Load(), f.sup.Status().Status)
	}
}

func TestKillAllDoesNotLetSupervisorsRestart(t *testing.T) {
	f := newFixture(t, SupervisorConfig[*lineServer]{})
	l, inst := f.acquire(t, LeaseHooks[*lineServer]{})
	KillAll(time.Second)
	<-inst.Proc.Done()
	if n := Live(); n != 0 || f.starts.Load() != 1 {
		t.Fatalf("after KillAll: %d live, %d starts", n, f.starts.Load())
	}
	if _, err := l.Instance(context.Background()); err == nil {
		t.Fatal("Instance after shutdown succeeded")
	}
	if _, _, err := f.sup.Acquire(context.Background(), LeaseHooks[*lineServer]{}); err == nil {
		t.Fatal("Acquire after shutdown succeeded")
	}
}

func TestSupervisorConcurrentAcquireRelease(t *testing.T) {
	f := newFixture(t, SupervisorConfig[*lineServer]{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				l, inst, err := f.sup.Acquire(context.Background(), LeaseHooks[*lineServer]{})
				if err != nil {
					t.Error(err)
					return
				}
				if inst.Proc.ExitCode() != -1 {
					t.Error("got an instance that already exited")
				}
				l.Release()
			}
		})
	}
	wg.Wait()
	if n := Live(); n != 0 {
		t.Fatalf("%d processes alive after every lease was released", n)
	}
}
