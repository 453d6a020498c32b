package credentials

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeFiles lays out files (path relative to root → content) under root.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func discover(t *testing.T, files, vars map[string]string, noOAuth bool) Set {
	t.Helper()
	home := t.TempDir()
	writeFiles(t, home, files)
	return Discover(Options{Home: home, Getenv: env(vars), NoOAuth: noOAuth, Now: func() time.Time { return now }})
}

func cred(provider, source, auth, key string) *Credential {
	return &Credential{Provider: provider, Source: source, AuthType: auth, APIKey: key}
}

func TestDiscoverOrder(t *testing.T) {
	allFiles := map[string]string{
		".amp/config.json":                 `{"auth":{"token":"amp-token-123456"}}`,
		".claude.json":                     `{"primaryApiKey":"sk-ant-claude-json-key"}`,
		".claude/.credentials.json":        `{"claudeAiOauth":{"accessToken":"sk-ant-oat-claude","expiresAt":1700000000000}}`,
		".codex/auth.json":                 `{"OPENAI_API_KEY":null,"tokens":{"access_token":"codex-oauth-access"}}`,
		".local/share/opencode/auth.json":  `{"openai":{"type":"api","key":"sk-opencode-openai"},"openrouter":{"type":"api","key":"sk-or-123456789"},"groq":{"type":"oauth","access":"gsk-oauth","expires":1}}`,
		".claude-oauth-credentials.json":   `{"claudeAiOauth":{"accessToken":"second-oauth"}}`,
		".local/share/opencode/other.json": `{"ignored":true}`,
	}
	without := func(drop ...string) map[string]string {
		m := map[string]string{}
		for k, v := range allFiles {
			if !slices.Contains(drop, k) {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name    string
		files   map[string]string
		vars    map[string]string
		noOAuth bool
		want    Set
	}{
		{
			name:  "environment first, in the reference's order",
			files: allFiles,
			vars: map[string]string{"CLAUDE_API_KEY": "env-claude-key", "CLAUDE_CODE_OAUTH_TOKEN": "env-oauth",
				"CODEX_API_KEY": "env-codex-key"},
			want: Set{Anthropic: cred("anthropic", SourceEnv, APIKey, "env-claude-key"), OpenAI: cred("openai", SourceEnv, APIKey, "env-codex-key"),
				Other: map[string]Credential{"openrouter": *cred("openrouter", SourceOpenCode, APIKey, "sk-or-123456789")}},
		},
		{
			name:  "env OAuth token after env keys",
			vars:  map[string]string{"ANTHROPIC_AUTH_TOKEN": "auth-tok", "CLAUDE_CODE_OAUTH_TOKEN": "oauth-tok"},
			files: map[string]string{},
			want:  Set{Anthropic: cred("anthropic", SourceEnv, OAuth, "oauth-tok"), Other: map[string]Credential{}},
		},
		{
			name:  "amp before claude, codex OAuth, opencode fills the rest",
			files: allFiles,
			want: Set{Anthropic: cred("anthropic", SourceAmp, APIKey, "amp-token-123456"), OpenAI: cred("openai", SourceCodex, OAuth, "codex-oauth-access"),
				Other: map[string]Credential{"openrouter": *cred("openrouter", SourceOpenCode, APIKey, "sk-or-123456789")}},
		},
		{
			name:  "claude API key needs the sk-ant- prefix, OAuth with a numeric expiry is kept",
			files: without(".amp/config.json", ".claude.json"),
			want: Set{Anthropic: cred("anthropic", SourceClaude, OAuth, "sk-ant-oat-claude"), OpenAI: cred("openai", SourceCodex, OAuth, "codex-oauth-access"),
				Other: map[string]Credential{"openrouter": *cred("openrouter", SourceOpenCode, APIKey, "sk-or-123456789")}},
		},
		{
			name:  "claude API key",
			files: without(".amp/config.json"),
			want: Set{Anthropic: cred("anthropic", SourceClaude, APIKey, "sk-ant-claude-json-key"), OpenAI: cred("openai", SourceCodex, OAuth, "codex-oauth-access"),
				Other: map[string]Credential{"openrouter": *cred("openrouter", SourceOpenCode, APIKey, "sk-or-123456789")}},
		},
		{
			name: "expired RFC 3339 claude OAuth falls through to the next file; opencode API key for openai without OAuth",
			files: map[string]string{
				".claude/.credentials.json":       `{"claudeAiOauth":{"accessToken":"old","expiresAt":"2020-01-01T00:00:00Z"}}`,
				".claude-oauth-credentials.json":  `{"claudeAiOauth":{"accessToken":"fresh","expiresAt":"2030-01-01T00:00:00Z"}}`,
				".codex/auth.json":                `{"tokens":{"access_token":"codex-oauth-access"}}`,
				".local/share/opencode/auth.json": allFiles[".local/share/opencode/auth.json"],
			},
			want: Set{Anthropic: cred("anthropic", SourceClaude, OAuth, "fresh"), OpenAI: cred("openai", SourceCodex, OAuth, "codex-oauth-access"),
				Other: map[string]Credential{"openrouter": *cred("openrouter", SourceOpenCode, APIKey, "sk-or-123456789")}},
		},
		{
			name:    "no OAuth",
			files:   without(".amp/config.json", ".claude.json"),
			noOAuth: true,
			vars:    map[string]string{"CLAUDE_CODE_OAUTH_TOKEN": "env-oauth"},
			want: Set{OpenAI: cred("openai", SourceOpenCode, APIKey, "sk-opencode-openai"),
				Other: map[string]Credential{"openrouter": *cred("openrouter", SourceOpenCode, APIKey, "sk-or-123456789")}},
		},
		{
			name: "opencode OAuth unexpired, anthropic slot",
			files: map[string]string{".local/share/opencode/auth.json": `{"anthropic":{"type":"oauth","access":"oc-access","refresh":"r","expires":` +
				"1900000000000" + `},"openai":{"type":"wellknown","key":"x"}}`},
			want: Set{Anthropic: cred("anthropic", SourceOpenCode, OAuth, "oc-access"), Other: map[string]Credential{}},
		},
		{
			name: "malformed and empty files are skipped",
			files: map[string]string{".amp/config.json": `{"apiKey":`, ".claude.json": `[]`, ".codex/auth.json": `{"OPENAI_API_KEY":""}`,
				".local/share/opencode/auth.json": `{"openai":"nope"}`},
			want: Set{Other: map[string]Credential{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := discover(t, tt.files, tt.vars, tt.noOAuth)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Fatalf("-want +got\n%s", d)
			}
		})
	}
}

func TestDiscoverAgentDirVariables(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"cc/.credentials.json":    `{"claudeAiOauth":{"accessToken":"from-claude-config-dir"}}`,
		"cx/auth.json":            `{"OPENAI_API_KEY":"from-codex-home"}`,
		"data/opencode/auth.json": `{"xai":{"type":"api","key":"from-xdg-data"}}`,
	})
	vars := map[string]string{"HOME": filepath.Join(root, "nohome"), "CLAUDE_CONFIG_DIR": filepath.Join(root, "cc"),
		"CODEX_HOME": filepath.Join(root, "cx"), "XDG_DATA_HOME": filepath.Join(root, "data")}
	got := Discover(Options{Getenv: env(vars)})
	want := Set{Anthropic: cred("anthropic", SourceClaude, OAuth, "from-claude-config-dir"), OpenAI: cred("openai", SourceCodex, APIKey, "from-codex-home"),
		Other: map[string]Credential{"xai": *cred("xai", SourceOpenCode, APIKey, "from-xdg-data")}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("-want +got\n%s", d)
	}
	// An explicit home wins over the variables.
	if got := Discover(Options{Home: filepath.Join(root, "nohome"), Getenv: env(vars)}); len(got.All()) != 0 {
		t.Fatalf("explicit empty home found %+v", got.All())
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{"": "****", "12345678": "****", "123456789": "1234...6789", "sk-ant-api03-abcdefwxyz": "sk-a...wxyz"} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnvVarsAndAgentEnv(t *testing.T) {
	s := Set{Anthropic: cred("anthropic", SourceClaude, OAuth, "tok-a"), OpenAI: cred("openai", SourceEnv, APIKey, "key-o"),
		Other: map[string]Credential{"open-router": *cred("open-router", SourceOpenCode, APIKey, "key-r")}}
	want := []EnvVar{{"ANTHROPIC_API_KEY", "tok-a"}, {"CLAUDE_API_KEY", "tok-a"}, {"OPENAI_API_KEY", "key-o"}, {"CODEX_API_KEY", "key-o"}, {"OPEN_ROUTER_API_KEY", "key-r"}}
	if d := cmp.Diff(want, s.EnvVars()); d != "" {
		t.Fatalf("EnvVars -want +got\n%s", d)
	}
	for agent, want := range map[string][]string{
		"claude":   nil, // reads its own OAuth file; openai came from the environment
		"amp":      {"ANTHROPIC_API_KEY=tok-a", "CLAUDE_API_KEY=tok-a"},
		"opencode": {"ANTHROPIC_API_KEY=tok-a", "CLAUDE_API_KEY=tok-a"},
	} {
		if d := cmp.Diff(want, s.AgentEnv(agent)); d != "" {
			t.Errorf("AgentEnv(%s) -want +got\n%s", agent, d)
		}
	}
	s.Anthropic.Source = SourceOpenCode
	s.OpenAI.Source = SourceCodex
	if d := cmp.Diff([]string{"CLAUDE_CODE_OAUTH_TOKEN=tok-a", "ANTHROPIC_AUTH_TOKEN=tok-a", "OPENAI_API_KEY=key-o", "CODEX_API_KEY=key-o"}, s.AgentEnv("claude")); d != "" {
		t.Errorf("claude with a foreign OAuth token -want +got\n%s", d)
	}
	if got := s.AgentEnv("codex"); slices.Contains(got, "OPENAI_API_KEY=key-o") {
		t.Errorf("codex got its own credential injected: %v", got)
	}
}
