package install

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// These tests install the real agents from the real npm registry. They are
// slow on a cold cache (hundreds of MB) and need the network, so they run
// only with SANDBOX_AGENT_REAL_INSTALL=1 (CI sets it). Downloads go through
// the shared cache (SANDBOX_AGENT_DOWNLOAD_CACHE or the user cache dir), so
// a rerun mostly costs unpacking.
func realInstallEnabled(t *testing.T) {
	t.Helper()
	if os.Getenv("SANDBOX_AGENT_REAL_INSTALL") != "1" {
		t.Skip("set SANDBOX_AGENT_REAL_INSTALL=1 to install the real agents from the npm registry")
	}
}

func TestRealNPMInstall(t *testing.T) {
	realInstallEnabled(t)
	for _, agent := range Agents() {
		t.Run(agent, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			dir := t.TempDir()
			m := New(Config{Dir: dir})
			start := time.Now()
			res, err := m.Install(ctx, agent, Options{Source: SourceNPM})
			if err != nil {
				t.Fatalf("install: %v", err)
			}
			took := time.Since(start)
			if !res.Installed || res.Path != filepath.Join(dir, BinName(agent)) || res.Source != SourceNPM {
				t.Fatalf("unexpected result %+v", res)
			}
			v, err := Version(ctx, res.Path)
			if err != nil || v == "" {
				t.Fatalf("%s --version: %q, %v", res.Path, v, err)
			}
			if !VersionMatches(v, res.Version) {
				t.Errorf("installed %s reports %q, want %s", agent, v, res.Version)
			}
			t.Logf("%s %s (reports %q) installed at %s in %s (cache %s)", agent, res.Version, v, res.Path, took.Round(time.Millisecond), m.cacheDir)

			// Present now: a second Install downloads nothing.
			again, err := m.Install(ctx, agent, Options{Source: SourceNPM})
			if err != nil || again.Installed || again.Path != res.Path {
				t.Fatalf("second install: %+v, %v", again, err)
			}
			p, err := m.EnsureInstalled(ctx, agent, res.Version)
			if err != nil || p != res.Path {
				t.Fatalf("EnsureInstalled: %q, %v", p, err)
			}
		})
	}
}

// A pinned Claude from before 2.1.113 is a JavaScript program: it is
// unpacked with a node launcher.
func TestRealNPMInstallJavaScriptClaude(t *testing.T) {
	realInstallEnabled(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	m := New(Config{Dir: dir})
	start := time.Now()
	res, err := m.Install(ctx, "claude", Options{Source: SourceNPM, Version: "2.1.112"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := Version(ctx, res.Path)
	if err != nil || !VersionMatches(v, "2.1.112") {
		t.Fatalf("version %q, %v", v, err)
	}
	t.Logf("claude %s (JavaScript) installed in %s", v, time.Since(start).Round(time.Millisecond))
}
