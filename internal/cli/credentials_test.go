package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// fakeHome holds each agent's config files; every secret in it contains
// "SECRET" so a test can tell whether one was printed whole.
func fakeHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	files := map[string]string{
		".amp/config.json":                `{"anthropicApiKey":"sk-ant-amp-SECRET1-aaaa"}`,
		".claude.json":                    `{"primaryApiKey":"sk-ant-api03-SECRET2-bbbb","numStartups":3}`,
		".claude/.credentials.json":       `{"claudeAiOauth":{"accessToken":"sk-ant-oat01-SECRET3-cccc","refreshToken":"r","expiresAt":1900000000000}}`,
		".codex/auth.json":                `{"OPENAI_API_KEY":null,"tokens":{"access_token":"codex-SECRET4-dddd","refresh_token":"r"}}`,
		".local/share/opencode/auth.json": `{"openrouter":{"type":"api","key":"sk-or-SECRET5-eeee"},"openai":{"type":"api","key":"sk-oc-SECRET6-ffff"}}`,
	}
	for rel, content := range files {
		p := filepath.Join(home, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

func TestCredentialsCommands(t *testing.T) {
	bin := binary(t)
	home := fakeHome(t)
	c := cli{bin: bin, env: cleanEnv(home)}

	masked := func(args ...string) result {
		t.Helper()
		r := c.ok(t, args...)
		if strings.Contains(r.stdout+r.stderr, "SECRET") {
			t.Fatalf("%v printed a secret without --reveal:\n%s%s", args, r.stdout, r.stderr)
		}
		return r
	}

	table := masked("credentials", "extract").stdout
	for _, want := range []string{
		"anthropic   api_key  amp       sk-a...aaaa",
		"openai      oauth    codex     code...dddd",
		"openrouter  api_key  opencode  sk-o...eeee",
	} {
		if !strings.Contains(table, want) {
			t.Fatalf("table lacks %q:\n%s", want, table)
		}
	}
	var set map[string]json.RawMessage
	if err := json.Unmarshal([]byte(masked("credentials", "extract", "--json").stdout), &set); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(set["anthropic"]), `"redacted": true`) || !strings.Contains(string(set["other"]), `"openrouter"`) {
		t.Fatalf("json: %s", set)
	}
	env := masked("credentials", "extract-env", "--export").stdout
	if !strings.HasPrefix(env, "export ANTHROPIC_API_KEY=sk-a...aaaa\nexport CLAUDE_API_KEY=sk-a...aaaa\nexport OPENAI_API_KEY=code...dddd\n") ||
		!strings.Contains(env, "export OPENROUTER_API_KEY=sk-o...eeee\n") {
		t.Fatalf("extract-env:\n%s", env)
	}
	if got := masked("credentials", "extract", "--agent", "codex").stdout; got != "code...dddd\n" {
		t.Fatalf("--agent codex: %q", got)
	}
	if got := masked("credentials", "extract", "--provider", "openrouter").stdout; got != "sk-o...eeee\n" {
		t.Fatalf("--provider openrouter: %q", got)
	}
	masked("credentials", "extract-env", "--agent", "claude")

	// --reveal prints them whole, and extract-env feeds a shell.
	if got := c.ok(t, "credentials", "extract", "--agent", "claude", "--reveal").stdout; got != "sk-ant-amp-SECRET1-aaaa\n" {
		t.Fatalf("--reveal: %q", got)
	}
	if out := c.ok(t, "credentials", "extract", "--json", "-r").stdout; !strings.Contains(out, `"api_key": "codex-SECRET4-dddd",
    "redacted": false`) {
		t.Fatalf("--json --reveal:\n%s", out)
	}
	sh := exec.Command("sh", "-c", `eval "$("$0" credentials extract-env --export --reveal)" && echo "$OPENAI_API_KEY $CLAUDE_API_KEY $OPENROUTER_API_KEY"`, bin)
	sh.Env = c.env
	out, err := sh.CombinedOutput()
	if err != nil || string(out) != "codex-SECRET4-dddd sk-ant-amp-SECRET1-aaaa sk-or-SECRET5-eeee\n" {
		t.Fatalf("eval: %v %q", err, out)
	}

	// The order: the environment first, then Amp, Claude's key, Claude's
	// OAuth token; --no-oauth skips tokens (Codex's here, so OpenCode's
	// openai key is next).
	withEnv := cli{bin: bin, env: cleanEnv(home, "CLAUDE_API_KEY=env-SECRET7-gggg")}
	if got := withEnv.ok(t, "credentials", "extract", "-a", "amp").stdout; got != "env-...gggg\n" {
		t.Fatalf("environment first: %q", got)
	}
	if err := os.Remove(filepath.Join(home, ".amp/config.json")); err != nil {
		t.Fatal(err)
	}
	if got := masked("credentials", "extract", "-a", "claude").stdout; got != "sk-a...bbbb\n" {
		t.Fatalf("claude key: %q", got)
	}
	if err := os.Remove(filepath.Join(home, ".claude.json")); err != nil {
		t.Fatal(err)
	}
	if got := masked("credentials", "extract", "-a", "claude").stdout; got != "sk-a...cccc\n" {
		t.Fatalf("claude OAuth: %q", got)
	}
	if got := masked("credentials", "extract", "-a", "codex", "--no-oauth").stdout; got != "sk-o...ffff\n" {
		t.Fatalf("--no-oauth: %q", got)
	}
	// --home-dir looks elsewhere than $HOME.
	elsewhere := cli{bin: bin, env: cleanEnv(t.TempDir())}
	elsewhere.fails(t, 1, []string{"credentials", "extract", "-a", "codex"}, "no credentials found for codex")
	if got := elsewhere.ok(t, "credentials", "extract", "-a", "codex", "--home-dir", home).stdout; got != "code...dddd\n" {
		t.Fatalf("--home-dir: %q", got)
	}
	elsewhere.fails(t, 2, []string{"credentials", "extract", "-a", "cursor"}, "--agent must be")
}

// A server whose user is logged in to an agent reports that agent's
// credentials as available; one in an empty home does not.
func TestServerSeesConfigFileCredentials(t *testing.T) {
	bin := binary(t)
	for _, tc := range []struct {
		home string
		want bool
	}{{fakeHome(t), true}, {t.TempDir(), false}} {
		base := startBinary(t, cleanEnv(tc.home), "tok").base
		c := cli{bin: bin, env: cleanEnv(tc.home, "SANDBOX_AGENT_ENDPOINT="+base, "SANDBOX_AGENT_TOKEN=tok")}
		agents := decode[schema.AgentListResponse](t, c.ok(t, "api", "agents", "list"))
		i := slices.IndexFunc(agents.Agents, func(a schema.AgentInfo) bool { return a.ID == "claude" })
		if i < 0 || agents.Agents[i].CredentialsAvailable != tc.want {
			t.Fatalf("home %s: claude %+v, want credentialsAvailable %v", tc.home, agents.Agents[i], tc.want)
		}
	}
}
