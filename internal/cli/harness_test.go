package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/client"
)

// The stamps the test binary is built with.
const (
	testVersion = "v9.8.7-test"
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
	testDate    = "2026-01-02T03:04:05Z"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
	binOut  []byte
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// cliBinary builds the real binary once per test run, stamped the way the
// release build stamps it.
func cliBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "sandbox-agent-cli-test")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "sandbox-agent")
		pkg := "github.com/sandbox-agent/sandbox-agent/internal/cli"
		ld := "-X " + pkg + ".Version=" + testVersion + " -X " + pkg + ".Commit=" + testCommit + " -X " + pkg + ".Date=" + testDate
		binOut, binErr = exec.Command("go", "build", "-ldflags", ld, "-o", binPath, "../../cmd/sandbox-agent").CombinedOutput()
	})
	if binErr != nil {
		t.Fatalf("build: %v\n%s", binErr, binOut)
	}
	return binPath
}

// cleanEnv is the test process's environment without anything that would
// make a run depend on the developer's machine: tokens, endpoints, keys,
// agent directories. HOME and XDG_DATA_HOME point into home.
func cleanEnv(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "SANDBOX_AGENT_"), strings.HasSuffix(k, "_API_KEY"), strings.HasSuffix(k, "_TOKEN"),
			k == "HOME", k == "XDG_DATA_HOME", k == "CLAUDE_CONFIG_DIR", k == "CODEX_HOME":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, ".local", "share"))
	return append(env, extra...)
}

// result is one run of the CLI.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs the binary with an environment.
type cli struct {
	bin string
	env []string
}

func (c cli) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// ok runs and fails the test unless the exit status is 0.
func (c cli) ok(t *testing.T, args ...string) result {
	t.Helper()
	r := c.run(t, "", args...)
	if r.code != 0 {
		t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// fails runs and checks the exit status and that stderr holds every want.
func (c cli) fails(t *testing.T, code int, args []string, want ...string) result {
	t.Helper()
	r := c.run(t, "", args...)
	if r.code != code {
		t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, r.code, code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Fatalf("%v: stderr lacks %q:\n%s", args, w, r.stderr)
		}
	}
	return r
}

// startServer runs `sandbox-agent server` with a token on a free port
// and stops it (SIGTERM) when the test ends.
func startServer(t *testing.T, bin string, env []string, token string) string {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin, "server", "--port", port, "--token", token)
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("server did not stop on SIGTERM; logs:\n%s", logs.String())
		}
	})
	base := "http://127.0.0.1:" + port
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := client.New(base)
	for {
		if _, err := c.Health(ctx); err == nil {
			return base
		}
		select {
		case <-done:
			t.Fatalf("server exited:\n%s", logs.String())
		case <-ctx.Done():
			t.Fatalf("server never became healthy:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
