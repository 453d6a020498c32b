package install

import (
	"os"
	"path/filepath"
	"testing"
)

// A PATH lookup is remembered, but a binary removed from PATH is noticed at
// once, a fresh lookup (an install deciding) sees a new one, and an install
// into the install directory wins at once.
func TestResolveRemembersPATH(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	m := New(Config{Dir: t.TempDir(), CacheDir: "off"})
	if p, ok := m.Resolve("amp"); ok {
		t.Fatalf("Resolve = %q before any binary", p)
	}
	bin := filepath.Join(dir, "amp")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, ok := m.Resolve("amp"); ok {
		t.Fatalf("Resolve = %q: the remembered miss was not used", p)
	}
	if p, ok := m.resolve("amp", true); !ok || p != bin {
		t.Fatalf("fresh resolve = %q, %v; want %s", p, ok, bin)
	}
	if p, ok := m.Resolve("amp"); !ok || p != bin {
		t.Fatalf("Resolve = %q, %v after the fresh lookup; want %s", p, ok, bin)
	}
	placed := filepath.Join(m.Dir(), "amp")
	if err := os.WriteFile(placed, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, _ := m.Resolve("amp"); p != placed {
		t.Fatalf("Resolve = %q, want the install directory's %s", p, placed)
	}
	if err := os.Remove(placed); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	if p, ok := m.Resolve("amp"); ok {
		t.Fatalf("Resolve = %q after the binary was removed", p)
	}
}
