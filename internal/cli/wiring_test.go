package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/install"
	"github.com/sandbox-agent/sandbox-agent/problem"
)

func TestInstallProblems(t *testing.T) {
	if err := checkVersion("2.1.332"); err != nil {
		t.Fatal(err)
	}
	if err := checkVersion("^2.1"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"\x0e#", "þæ»", string(make([]byte, 200))} {
		pe, ok := problem.As(checkVersion(bad))
		if !ok || pe.Kind != problem.InvalidRequest || pe.Details["field"] != "agentVersion" {
			t.Fatalf("%q: %v", bad, pe)
		}
	}
	missing := &install.Error{Agent: "claude", Reason: "not published", Err: fmt.Errorf("npm: %w", install.ErrVersionNotFound)}
	if pe, _ := problem.As(installProblem("claude", "9.9.9", missing)); pe == nil || pe.HTTPStatus() != 400 || pe.Details["field"] != "agentVersion" {
		t.Fatalf("missing version → %v", pe)
	}
	down := &install.Error{Agent: "claude", URL: "https://registry.example/x", Reason: "connection refused", Err: errors.New("dial")}
	if pe, _ := problem.As(installProblem("claude", "", down)); pe == nil || pe.Kind != problem.InstallFailed || pe.Details["url"] != "https://registry.example/x" {
		t.Fatalf("network failure → %v", pe)
	}
}

// The server hands an agent what other agents' config files hold, and
// lets the environment win.
func TestAgentEnvFromConfigFiles(t *testing.T) {
	home := t.TempDir()
	for _, v := range []string{"ANTHROPIC_API_KEY", "CLAUDE_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN",
		"OPENAI_API_KEY", "CODEX_API_KEY", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_DATA_HOME"} {
		t.Setenv(v, "")
	}
	t.Setenv("HOME", home)
	if err := os.MkdirAll(filepath.Join(home, ".codex"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".codex", "auth.json"), []byte(`{"OPENAI_API_KEY":"sk-from-codex"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := agentEnv("claude"), []string{"OPENAI_API_KEY=sk-from-codex", "CODEX_API_KEY=sk-from-codex"}; !slices.Equal(got, want) {
		t.Fatalf("claude env = %v, want %v", got, want)
	}
	if got := agentEnv("codex"); len(got) != 0 {
		t.Fatalf("codex reads its own file, got %v", got)
	}
	if !credentialsAvailable("openai") || credentialsAvailable("anthropic") {
		t.Fatal("availability does not follow the config files")
	}
	t.Setenv("OPENAI_API_KEY", "sk-env")
	if got := agentEnv("claude"); len(got) != 0 {
		t.Fatalf("the environment's key is inherited, not injected: %v", got)
	}
}
