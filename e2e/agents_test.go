package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestAgents runs the scenario table: every selected agent in parallel,
// every row of it in parallel (go test -parallel bounds how many run at
// once), each row on its own server.
func TestAgents(t *testing.T) {
	forEachAgent(t, func(t *testing.T, a *Agent, inst installResult) {
		t.Parallel()
		for _, sc := range scenarios {
			if !sc.appliesTo(a.Name) {
				continue
			}
			t.Run(sc.ID, func(t *testing.T) {
				track(t, a.Name, sc.ID)
				if reason := rowBlocked(t, a, sc, inst); reason != "" {
					skipRow(t, reason)
				}
				t.Parallel()
				resumed(t)
				row := func(tb testing.TB) {
					r := newRun(tb, a, sc)
					body := sc.Run
					if r.Row.Run != nil {
						body = r.Row.Run
					}
					body(r)
				}
				if bug := a.Known[sc.ID]; bug != "" {
					expectFailure(t, bug, row)
					return
				}
				row(t)
			})
		}
	})
}

// forEachAgent runs f as one subtest per selected agent, in registration
// order, with what TestMain installed for it (zero when nothing).
func forEachAgent(t *testing.T, f func(t *testing.T, a *Agent, inst installResult)) {
	t.Helper()
	requireE2E(t)
	rep, err := installReport()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		if agentSelected(a.Name) {
			t.Run(a.Name, func(t *testing.T) { f(t, a, rep[a.Name]) })
		}
	}
}

// rowBlocked says why a row cannot run for an agent (a skip reason), or
// fails the row when the agent should have been runnable.
func rowBlocked(t *testing.T, a *Agent, sc *Scenario, inst installResult) string {
	switch {
	case a.Unusable != "" && len(sc.Only) == 0:
		return a.Unusable
	case a.Unsupported[sc.ID] != "":
		return a.Unsupported[sc.ID]
	case inst.Agent == "":
		t.Fatalf("%s was not installed by TestMain", a.Name)
	case inst.Error != "":
		t.Fatalf("install %s: %s", a.Name, inst.Error)
	case adapterMissing(a.Name):
		return "adapter missing"
	}
	return ""
}

// adapterMissing reports whether the server still registers the agent's
// placeholder (agent/pending), which refuses every session. It reads the
// registry wiring rather than asking the server, because a real adapter
// that cannot find its binary must fail the rows, not skip them.
func adapterMissing(agent string) bool {
	b, err := os.ReadFile("../internal/cli/wiring.go")
	if err != nil {
		return false
	}
	return strings.Contains(string(b), fmt.Sprintf("pending.New(%q)", agent))
}

// TestInstall checks what TestMain installed: the pinned version, from
// npm, into the suite's cache, runnable.
func TestInstall(t *testing.T) {
	forEachAgent(t, func(t *testing.T, a *Agent, res installResult) {
		track(t, a.Name, rowInstall)
		if res.Agent == "" {
			t.Fatalf("%s was not installed", a.Name)
		}
		if res.Error != "" {
			t.Fatalf("install %s@%s: %s", a.Name, res.Want, res.Error)
		}
		if !strings.Contains(res.Version, res.Want) {
			t.Errorf("installed version %q, pinned %q", res.Version, res.Want)
		}
		st, err := os.Stat(res.Path)
		if err != nil || st.Mode()&0o111 == 0 {
			t.Fatalf("%s is not an executable file: %v", res.Path, err)
		}
		// A last look that the binary runs here (offline).
		probe := "--version"
		if a.NoVersionFlag {
			probe = "--help"
		}
		cmd := exec.Command(res.Path, probe)
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin", "DISABLE_AUTOUPDATER=1"}
		done := make(chan struct{})
		var out []byte
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("%s --version hung", res.Path)
		}
		if err != nil || (!a.NoVersionFlag && !strings.Contains(string(out), res.Want)) {
			t.Errorf("%s %s: %v: %q", res.Path, probe, err, out)
		}
		t.Logf("%s %s at %s (install %.1fs, fresh download: %v)", a.Name, res.Version, res.Path, res.Seconds, res.Fresh)
	})
}
