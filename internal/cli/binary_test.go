package cli

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/client"
)

// binDir holds the binary built for this test run; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// builtBinary is the real sandbox-agent binary, compiled once per test run.
var builtBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "sandbox-agent-bin-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := dir + "/sandbox-agent"
	// Stamped the way the release build stamps it (TestVersion).
	pkg := "github.com/sandbox-agent/sandbox-agent/internal/cli"
	ld := "-X " + pkg + ".Version=" + testVersion + " -X " + pkg + ".Commit=" + testCommit + " -X " + pkg + ".Date=" + testDate
	out, err := exec.Command("go", "build", "-ldflags", ld, "-o", bin, "../../cmd/sandbox-agent").CombinedOutput()
	if err != nil {
		return "", &buildError{err, string(out)}
	}
	return bin, nil
})

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// binary returns the built binary, skipping in -short mode.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := builtBinary()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

// runningServer is the real binary serving on a free loopback port.
type runningServer struct {
	cmd  *exec.Cmd
	base string
	c    *client.Client
	mu   sync.Mutex
	logs []string
	done chan struct{} // closed when the process was reaped
}

// startBinary runs `sandbox-agent server` with args and env (the whole
// environment) and waits until it is healthy. It is killed when the test
// ends.
func startBinary(t *testing.T, env []string, token string, args ...string) *runningServer {
	t.Helper()
	port := freePort(t)
	auth := []string{"--no-token"}
	if token != "" {
		auth = []string{"--token", token}
	}
	cmd := exec.Command(binary(t), append(append([]string{"server", "--port", port}, auth...), args...)...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &runningServer{cmd: cmd, base: "http://127.0.0.1:" + port, done: make(chan struct{})}
	var opts []client.Option
	if token != "" {
		opts = append(opts, client.WithToken(token))
	}
	s.c = client.New(s.base, opts...)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.logs = append(s.logs, sc.Text())
			s.mu.Unlock()
		}
		cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() { s.kill(syscall.SIGKILL) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		if _, err := s.c.Health(ctx); err == nil {
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("server never became healthy; logs:\n%s", s.log())
		case <-s.done:
			t.Fatalf("server exited; logs:\n%s", s.log())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill signals the server and waits until it was reaped.
func (s *runningServer) kill(sig syscall.Signal) {
	_ = s.cmd.Process.Signal(sig)
	<-s.done
}

func (s *runningServer) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.logs, "\n")
}

// baseEnv is the test's environment with a private home, so the binary's
// installer and data directories stay inside the test.
func baseEnv(t *testing.T) []string {
	home := t.TempDir()
	return append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+home+"/data", "XDG_STATE_HOME="+home+"/state",
		"XDG_CACHE_HOME="+home+"/cache", "SANDBOX_AGENT_TOKEN=")
}
