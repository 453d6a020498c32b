package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The stamps the test binary is built with (binary_test.go).
const (
	testVersion = "v9.8.7-test"
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
	testDate    = "2026-01-02T03:04:05Z"
)

// patience bounds every wait of these tests. It only matters when a test
// fails (or the machine is very busy), so it is generous.
const patience = 2 * time.Minute

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
	ctx, cancel := context.WithTimeout(context.Background(), patience)
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
