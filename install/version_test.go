package install

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/procs"
)

func TestVersionProbesAndCache(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	bin := filepath.Join(dir, "agent")
	// --version fails; `version` prints a blank line, then the version.
	script := "#!/bin/sh\necho x >> " + count + "\ncase \"$1\" in\n--version) echo nope >&2; exit 2;;\nversion) printf '\\n  tool 1.2.3 (build abc)\\nmore\\n';;\nesac\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		v, err := Version(ctx, bin)
		if err != nil || v != "tool 1.2.3" {
			t.Fatalf("Version = %q, %v", v, err)
		}
	}
	if b, _ := os.ReadFile(count); strings.Count(string(b), "x") != 2 {
		t.Errorf("ran %d times; want 2 (one probe failed, then cached)", strings.Count(string(b), "x"))
	}
	// A changed binary is probed again.
	os.WriteFile(bin, []byte("#!/bin/sh\necho 'v9.9.9 (x)'\n"), 0o755)
	future := time.Now().Add(time.Hour)
	os.Chtimes(bin, future, future)
	if v, _ := Version(ctx, bin); v != "v9.9.9" {
		t.Errorf("after change: %q", v)
	}
}

func TestVersionFailsForBrokenBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "agent")
	os.WriteFile(bin, brokenBin, 0o755)
	if v, err := Version(context.Background(), bin); err == nil {
		t.Fatalf("got %q", v)
	}
	if _, err := Version(context.Background(), filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("missing binary has a version")
	}
}

func TestVersionTimeoutKillsProcessGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	dir := t.TempDir()
	bin, pidFile := filepath.Join(dir, "agent"), filepath.Join(dir, "pid")
	os.WriteFile(bin, []byte("#!/bin/sh\nsleep 30 &\necho $! >"+pidFile+"\nwait\n"), 0o755)
	start := time.Now()
	_, err := probeVersion(context.Background(), bin, 200*time.Millisecond)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
	// The timing alone would pass with only the shell killed (WaitDelay
	// stops waiting for the pipes sleep holds): sleep itself must be gone.
	procs.WaitGone(t, procs.PIDFile(t, pidFile), 5*time.Second, "the probe's child")
}

// A binary whose probe fails reports the version the installer recorded
// for it (its receipt), and only for that exact path.
func TestVersionFallsBackToReceipt(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "agent")
	os.WriteFile(bin, brokenBin, 0o755)
	b, _ := json.Marshal(receipt{Agent: "agent", Version: "1.2.3", Path: bin})
	os.WriteFile(filepath.Join(dir, ".agent.json"), b, 0o644)
	if v, err := Version(context.Background(), bin); err != nil || v != "1.2.3" {
		t.Fatalf("Version = %q, %v; want the receipt's 1.2.3", v, err)
	}
	b, _ = json.Marshal(receipt{Agent: "agent", Version: "1.2.3", Path: filepath.Join(dir, "other")})
	os.WriteFile(filepath.Join(dir, ".agent.json"), b, 0o644)
	if v, err := Version(context.Background(), bin); err == nil {
		t.Fatalf("a receipt for another path gave %q", v)
	}
}
