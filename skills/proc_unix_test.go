//go:build unix

package skills

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/procs"
	"github.com/sandbox-agent/sandbox-agent/problem"
)

func TestGitHonoursContext(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	// A git that hangs, with a child of its own, like a stalled fetch.
	tmp := t.TempDir()
	fake, pidFile := filepath.Join(tmp, "git"), filepath.Join(tmp, "pid")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nsleep 30 &\necho $! >"+pidFile+"\nwait\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Install(ctx, cfg(gitSource("file:///nowhere.git", "")), t.TempDir(), Options{CacheDir: t.TempDir(), Git: fake})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
	wantProblem(t, err, problem.StreamError, "file:///nowhere.git")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v: the process group was not killed", d)
	}
	// The timing alone would pass with only git killed (WaitDelay stops
	// waiting for the stderr sleep holds): sleep itself must be gone.
	procs.WaitGone(t, procs.PIDFile(t, pidFile), 5*time.Second, "git's child")
}
