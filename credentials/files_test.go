package credentials

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Discovery caches the agents' files by path, but a file changed in place
// (same size, new mtime), replaced by a rename (same size and mtime, new
// inode), removed or added is seen by the next discovery.
func TestDiscoverSeesChangedFiles(t *testing.T) {
	home := t.TempDir()
	o := Options{Home: home, Getenv: env(nil)}
	codexKey := func() string {
		t.Helper()
		c, ok := Discover(o).Get("openai")
		if !ok {
			return ""
		}
		return c.APIKey
	}
	path := filepath.Join(home, ".codex", "auth.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := codexKey(); got != "" {
		t.Fatalf("key %q before any file", got)
	}
	mtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(key string, at time.Time) {
		t.Helper()
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(`{"OPENAI_API_KEY":"`+key+`"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(tmp, at, at); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("sk-aaaa-1", mtime)
	if got := codexKey(); got != "sk-aaaa-1" {
		t.Fatalf("key %q, want sk-aaaa-1 (new file)", got)
	}
	if got := codexKey(); got != "sk-aaaa-1" {
		t.Fatalf("key %q from the cache, want sk-aaaa-1", got)
	}
	write("sk-bbbb-2", mtime) // same size and mtime: only the inode tells
	if got := codexKey(); got != "sk-bbbb-2" {
		t.Fatalf("key %q, want sk-bbbb-2 (file replaced)", got)
	}
	// Rewritten in place, same size, a later mtime.
	if err := os.WriteFile(path, []byte(`{"OPENAI_API_KEY":"sk-cccc-3"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime.Add(time.Second), mtime.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := codexKey(); got != "sk-cccc-3" {
		t.Fatalf("key %q, want sk-cccc-3 (file rewritten)", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if got := codexKey(); got != "" {
		t.Fatalf("key %q after the file was removed", got)
	}
}

// BenchmarkAvailable is what GET /v1/agents asks per agent.
func BenchmarkAvailable(b *testing.B) {
	home := b.TempDir()
	t := &testing.T{}
	writeFiles(t, home, map[string]string{
		".claude.json":                    `{"primaryApiKey":"sk-ant-claude-json-key","projects":{"a":{"x":1},"b":{"y":2}}}`,
		".codex/auth.json":                `{"OPENAI_API_KEY":"sk-codex"}`,
		".local/share/opencode/auth.json": `{"openrouter":{"type":"api","key":"sk-or-123456789"}}`,
	})
	b.Setenv("HOME", home)
	for _, v := range []string{"ANTHROPIC_API_KEY", "CLAUDE_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN", "OPENAI_API_KEY", "CODEX_API_KEY", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_DATA_HOME"} {
		b.Setenv(v, "")
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range []string{"anthropic", "openai", "anthropic", "anthropic"} {
			if !Available(p) {
				b.Fatalf("%s not available", p)
			}
		}
	}
}
