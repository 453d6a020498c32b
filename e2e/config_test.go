package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Environment variables of the suite.
const (
	envEnable     = "SANDBOX_AGENT_E2E"             // "1" runs the suite
	envAgents     = "SANDBOX_AGENT_E2E_AGENTS"      // comma-separated agents (default: all registered)
	envCache      = "SANDBOX_AGENT_E2E_CACHE"       // downloads and installed agents, reused across runs
	envOut        = "SANDBOX_AGENT_E2E_OUT"         // logs, events and the matrix of this run
	envBin        = "SANDBOX_AGENT_E2E_BIN"         // a prebuilt sandbox-agent binary (default: built by TestMain)
	envCapture    = "SANDBOX_AGENT_E2E_CAPTURE"     // "1" writes testdata/captures/<agent>/<row>.jsonl
	envUpdateDocs = "SANDBOX_AGENT_E2E_UPDATE_DOCS" // "1" rewrites the docs table instead of checking it
	envIsolation  = "SANDBOX_AGENT_E2E_ISOLATION"   // set by TestMain for the re-executed child: netns, userns or env
	envNetns      = "SANDBOX_AGENT_E2E_NETNS"       // "0" skips the namespace (debugging): env isolation only
	envInstalled  = "SANDBOX_AGENT_E2E_INSTALLED"   // set by TestMain: path of the install report
	envRunMarker  = "E2E_RUN_MARKER"                // set on every server process; its agents inherit it (not SANDBOX_AGENT_*: the server keeps those from agents)
)

func enabled() bool { return os.Getenv(envEnable) == "1" }

// cacheDir is where downloads and installed agents persist between runs (CI
// can cache this directory).
func cacheDir() string {
	if d := os.Getenv(envCache); d != "" {
		return abs(d)
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "sandbox-agent-e2e")
	}
	return filepath.Join(os.TempDir(), "sandbox-agent-e2e")
}

// outDir holds this run's artifacts.
func outDir() string {
	if d := os.Getenv(envOut); d != "" {
		return abs(d)
	}
	return abs(".out")
}

// installDir is where one pinned agent version is installed.
func installDir(agent string) string {
	return filepath.Join(cacheDir(), "agents", agent+"@"+Pins[agent])
}

// selectedAgents is the agents this run covers, in registration order.
func selectedAgents() []string {
	v := strings.TrimSpace(os.Getenv(envAgents))
	if v == "" || v == "all" {
		return agentNames()
	}
	var out []string
	for _, name := range strings.Split(v, ",") {
		if name = strings.TrimSpace(name); name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

func agentSelected(name string) bool { return slices.Contains(selectedAgents(), name) }

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
