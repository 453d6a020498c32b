package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// TestAgentEnvHasNoServerSecrets (issue 8, bug 3): an agent spawned by the
// real server does not inherit the server's token or its other
// SANDBOX_AGENT_* settings, only what is meant for agents.
func TestAgentEnvHasNoServerSecrets(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "env.txt")
	// A fake claude that records its environment and quits.
	fake := "#!/bin/sh\nenv > \"$FAKE_AGENT_ENV_DUMP\"\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, "claude"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(baseEnv(t), "SANDBOX_AGENT_TOKEN=server-secret", "SANDBOX_AGENT_INSTALL_DIR="+dir,
		"SANDBOX_AGENT_NODE=/opt/node", "FAKE_AGENT_ENV_DUMP="+dump, "ANTHROPIC_API_KEY=for-the-agent")
	s := startBinary(t, env, "server-secret")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The fake exits before it is ready, so creating fails; its
	// environment is on disk by then.
	_, _ = s.c.CreateSession(ctx, "env", schema.CreateSessionRequest{Agent: "claude"})
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatalf("the fake agent never ran: %v; logs:\n%s", err, s.log())
	}
	got := string(b)
	if strings.Contains(got, "server-secret") || strings.Contains(got, "SANDBOX_AGENT_INSTALL_DIR") {
		t.Errorf("the agent inherited server settings:\n%s", got)
	}
	for _, want := range []string{"SANDBOX_AGENT_NODE=/opt/node\n", "ANTHROPIC_API_KEY=for-the-agent\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("agent env lacks %q:\n%s", want, got)
		}
	}
}
