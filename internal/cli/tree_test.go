package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// TestEveryRouteHasACommand walks the server's route table (its OpenAPI
// document) and fails for a route no api command calls.
func TestEveryRouteHasACommand(t *testing.T) {
	srv, cleanup := buildServer(serverOptions{noToken: true}, discardLogger())
	defer cleanup()
	routes := map[string]string{}
	for path, item := range srv.OpenAPI().Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "PUT": item.Put, "POST": item.Post,
			"DELETE": item.Delete, "PATCH": item.Patch, "HEAD": item.Head, "OPTIONS": item.Options} {
			if op != nil {
				routes[op.OperationID] = method + " " + path
			}
		}
	}
	if len(routes) < 26 {
		t.Fatalf("only %d routes in the table: %v", len(routes), routes)
	}
	commands := map[string]string{}
	for _, c := range visibleCommands(newRootCmd()) {
		if op := c.Annotations[opAnnotation]; op != "" {
			if prev, dup := commands[op]; dup {
				t.Errorf("%s and %s both call %s", prev, c.CommandPath(), op)
			}
			commands[op] = c.CommandPath()
		}
	}
	for op, route := range routes {
		if commands[op] == "" {
			t.Errorf("route %s (%s) has no `sandbox-agent api` command", route, op)
		}
	}
	for op, cmd := range commands {
		if routes[op] == "" {
			t.Errorf("%s names operation %s, which is not a route", cmd, op)
		}
	}
}

// TestHelp: every command says what it does and shows an example.
func TestHelp(t *testing.T) {
	for _, c := range visibleCommands(newRootCmd()) {
		if c.Short == "" || strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s: short %q, example %q", c.CommandPath(), c.Short, c.Example)
		}
	}
}

// TestCLIDocs fails when docs/cli.md is not what the command tree
// generates (`make cli-docs` rewrites it).
func TestCLIDocs(t *testing.T) {
	var b bytes.Buffer
	if err := writeCLIDocs(&b, newRootCmd()); err != nil {
		t.Fatal(err)
	}
	const path = "../../docs/cli.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, b.Bytes()) {
		t.Fatal("docs/cli.md is stale: run `make cli-docs`")
	}
	for _, want := range []string{"## sandbox-agent api sessions send-message-stream", "## sandbox-agent daemon start", "--reveal"} {
		if !bytes.Contains(have, []byte(want)) {
			t.Errorf("docs/cli.md lacks %q", want)
		}
	}
}

func TestVersion(t *testing.T) {
	c := cli{bin: binary(t), env: cleanEnv(t.TempDir())}
	want := "sandbox-agent " + testVersion + " (commit " + testCommit[:12] + ", built " + testDate + ")\n"
	if got := c.ok(t, "--version").stdout; got != want {
		t.Fatalf("--version = %q, want %q", got, want)
	}
	var info BuildInfo
	if err := json.Unmarshal([]byte(c.ok(t, "version", "--json").stdout), &info); err != nil {
		t.Fatal(err)
	}
	if info.Version != testVersion || info.Commit != testCommit || info.Date != testDate || info.GoVersion == "" {
		t.Fatalf("version --json: %+v", info)
	}
	if out := c.ok(t, "version").stdout; !strings.Contains(out, "commit:   "+testCommit) {
		t.Fatalf("version: %s", out)
	}
}

// Unstamped, the version is the module's when built from a module download
// (go install …@v1.2.3; internal/release checks the real thing), and the
// dev version when built from a checkout.
func TestModuleVersion(t *testing.T) {
	mod := func(v string, settings ...debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/sandbox-agent/sandbox-agent", Version: v}, Settings: settings}
	}
	vcs := debug.BuildSetting{Key: "vcs.revision", Value: "c94505b1d2e0"}
	for _, c := range []struct {
		info *debug.BuildInfo
		want string
	}{
		{mod("v1.2.3"), "v1.2.3"},
		{mod("v0.0.0-20261129095955-c94505b1d2e0"), "v0.0.0-20261129095955-c94505b1d2e0"},
		{mod("v0.0.0-20261129095955-c94505b1d2e0+dirty", vcs), devVersion},
		{mod("(devel)"), devVersion},
		{mod(""), devVersion},
		{nil, devVersion},
	} {
		if got := moduleVersion(c.info); got != c.want {
			t.Errorf("moduleVersion(%+v) = %q, want %q", c.info, got, c.want)
		}
	}
}

func TestCompletion(t *testing.T) {
	f := newAPIFixture(t)
	bash := f.ok(t, "completion", "bash").stdout
	if _, err := exec.LookPath("bash"); err == nil {
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(bash)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("bash -n: %v\n%s", err, out)
		}
	}
	if !strings.Contains(f.ok(t, "completion", "zsh").stdout, "#compdef sandbox-agent") ||
		!strings.Contains(f.ok(t, "completion", "fish").stdout, "complete -c sandbox-agent") {
		t.Fatal("zsh or fish script is not one")
	}
	f.fails(t, 2, []string{"completion", "tcsh"}, "bash, zsh or fish")
	complete := func(args ...string) string {
		return f.ok(t, append([]string{"__complete"}, args...)...).stdout
	}
	if out := complete("api", "ses"); !strings.HasPrefix(out, "sessions\t") {
		t.Fatalf("api ses → %q", out)
	}
	if out := complete("api", "sessions", "reply-permission", "s", "p", "--reply", ""); !strings.HasPrefix(out, "once\nalways\nreject\n") {
		t.Fatalf("--reply → %q", out)
	}
	f.ok(t, "api", "sessions", "create", "completed-session", "-a", "mock")
	if out := complete("api", "sessions", "get", ""); !strings.HasPrefix(out, "completed-session\tmock\n") {
		t.Fatalf("session ids → %q", out)
	}
}
