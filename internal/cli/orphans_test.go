package cli

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/procs"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// fakeClaudeWithChild answers initialize like the claude CLI, starts a
// grandchild (in its process group) whose pid it writes to
// $FAKE_AGENT_CHILD_PID, then reads stdin until EOF.
const fakeClaudeWithChild = `#!/bin/sh
IFS= read -r line
id=$(printf '%s' "$line" | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p')
sleep 300 &
echo $! > "$FAKE_AGENT_CHILD_PID"
printf '{"type":"control_response","response":{"subtype":"success","request_id":"%s","response":{}}}\n' "$id"
exec cat >/dev/null
`

// TestKilledServerLeavesNoOrphans (issue 8): after kill -9 of the server
// its agent's own children live on (only the agent got the parent-death
// signal); the next server started on the same data directory kills them.
func TestKilledServerLeavesNoOrphans(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	dir := t.TempDir()
	childFile := filepath.Join(dir, "child.pid")
	if err := os.WriteFile(filepath.Join(dir, "claude"), []byte(fakeClaudeWithChild), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(baseEnv(t), "SANDBOX_AGENT_INSTALL_DIR="+dir, "FAKE_AGENT_CHILD_PID="+childFile)
	data := t.TempDir()

	first := startBinary(t, env, "", "--data-dir", data)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := first.c.CreateSession(ctx, "s", schema.CreateSessionRequest{Agent: "claude"}); err != nil {
		t.Fatalf("create: %v; logs:\n%s", err, first.log())
	}
	b, err := os.ReadFile(childFile)
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })

	first.kill(syscall.SIGKILL)
	time.Sleep(300 * time.Millisecond)
	if !procs.Alive(child) {
		t.Fatal("the agent's child died with the server: the test proves nothing")
	}

	second := startBinary(t, env, "", "--data-dir", data)
	for deadline := time.Now().Add(10 * time.Second); procs.Alive(child); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the orphaned child %d survived the next start; logs:\n%s", child, second.log())
		}
	}
	if !strings.Contains(second.log(), "previous instance left behind") {
		t.Errorf("the cleanup was not logged:\n%s", second.log())
	}
	// Records of a live server are left alone: a third server must not
	// kill the second one's agents.
	if _, err := second.c.CreateSession(ctx, "s2", schema.CreateSessionRequest{Agent: "claude"}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(childFile)
	child2, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	t.Cleanup(func() { syscall.Kill(child2, syscall.SIGKILL) })
	third := startBinary(t, env, "", "--data-dir", data)
	_ = third
	time.Sleep(300 * time.Millisecond)
	if !procs.Alive(child2) {
		t.Fatal("a new server killed the agents of a server that still runs")
	}
}
