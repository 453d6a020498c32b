package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
)

// Wire is a direct run of an agent CLI against fakellm, without our
// server: it proves the fake server's wire format against the real client
// (and works before an agent's adapter exists).
type Wire struct {
	T   *testing.T
	LLM *fakellm.Server
	// Bin is the installed agent binary; Home and Work are throwaway.
	Bin, Home, Work string
	// Env is the base environment (HOME, XDG dirs, PATH, isolation);
	// Agent.Wire adds its own.
	Env []string
}

// WireSteps is the script every wire check runs in one prompt: a shell
// command, a file write, an edit of that file, and a streamed answer.
func WireSteps() []fakellm.Step {
	return []fakellm.Step{
		fakellm.Bash("echo e2e-$((6*7))"),
		fakellm.Write("wire.txt", "one\n"),
		fakellm.Edit("wire.txt", "one", "two"),
		fakellm.TextChunks("Wire", " check", " done."),
	}
}

// Run runs the CLI in Work with env added to w.Env and returns stdout.
func (w *Wire) Run(env []string, args ...string) string {
	w.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.Bin, args...)
	cmd.Dir = w.Work
	cmd.Env = append(append([]string(nil), w.Env...), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	_ = os.WriteFile(filepath.Join(outDir(), filepath.Base(w.Bin)+"-wire.stdout"), stdout.Bytes(), 0o644)
	_ = os.WriteFile(filepath.Join(outDir(), filepath.Base(w.Bin)+"-wire.stderr"), stderr.Bytes(), 0o644)
	if err != nil {
		w.T.Fatalf("%s %v: %v\nstderr: %s\nstdout tail: %s", w.Bin, args, err, tailOf(stderr.String(), 3000), tailOf(stdout.String(), 3000))
	}
	return stdout.String()
}

// Check asserts what every wire check must show: each step consumed, the
// command's output and the file operations reached the model without
// error, the file is right, and stdout carries the final text.
func (w *Wire) Check(stdout string) {
	w.T.Helper()
	if n := w.LLM.Remaining(); n != 0 {
		w.T.Errorf("%d scripted steps were never requested", n)
	}
	byStep := map[int]fakellm.Request{}
	for _, q := range w.LLM.Requests() {
		if q.Served == fakellm.ServedStep {
			byStep[q.Step] = q
		}
		if q.Served == fakellm.ServedOther && q.Path != "/" {
			w.T.Logf("non-model request: %s %s", q.Method, q.Path)
		}
	}
	for step := 1; step <= 3; step++ {
		res := byStep[step].LatestToolResults()
		if len(res) == 0 {
			w.T.Errorf("request for step %d carries no tool result", step)
		}
		for _, x := range res {
			if x.IsError {
				w.T.Errorf("step %d: tool failed: %q", step, x.Output)
			}
		}
	}
	if got := joinResults(byStep[1].LatestToolResults()); !strings.Contains(got, "e2e-42") {
		w.T.Errorf("the shell tool's output did not reach the model: %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(w.Work, "wire.txt")); string(b) != "two\n" {
		w.T.Errorf("wire.txt is %q, want %q", b, "two\n")
	}
	if !strings.Contains(stdout, "Wire") || !strings.Contains(stdout, "done.") {
		w.T.Errorf("stdout does not show the final text: %s", tailOf(stdout, 2000))
	}
}

func tailOf(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// TestWire runs each agent's CLI directly against fakellm.
func TestWire(t *testing.T) {
	forEachAgent(t, func(t *testing.T, a *Agent, inst installResult) {
		track(t, a.Name, rowWire)
		if a.Wire == nil {
			reason := a.Unusable
			if reason == "" {
				reason = "no direct CLI mode registered"
			}
			skipRow(t, reason)
		}
		if inst.Error != "" || inst.Path == "" {
			t.Fatalf("%s is not installed: %s", a.Name, inst.Error)
		}
		t.Parallel()
		resumed(t)
		tmp := t.TempDir()
		w := &Wire{T: t, LLM: fakellm.New(t), Bin: inst.Path, Home: filepath.Join(tmp, "home"), Work: filepath.Join(tmp, "work")}
		if err := makeDirs(w.Work, w.Home); err != nil {
			t.Fatal(err)
		}
		w.Env = append([]string{"PATH=" + filepath.Dir(inst.Path) + string(os.PathListSeparator) + os.Getenv("PATH")}, homeEnv(w.Home)...)
		w.Env = append(append(w.Env, "LANG=C.UTF-8", "TERM=dumb"), isolationEnv()...)
		w.LLM.SetSteps(WireSteps()...)
		a.Wire(w)
	})
}
