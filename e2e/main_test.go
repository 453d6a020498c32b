package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/install"
)

// serverBin is the sandbox-agent binary under test, set by TestMain.
var serverBin string

// TestMain prepares what every test shares (server binary, installed CLIs,
// the isolated network), runs the tests, and prints the matrix.
//
// The first process builds and installs (it needs the registry), then
// re-executes the test binary in a loopback-only network namespace when it
// can; that child runs the tests. Without namespaces one process does both.
func TestMain(m *testing.M) {
	flag.Parse()
	if !enabled() {
		fmt.Printf("e2e: real-agent tests skipped; set %s=1 to run them\n", envEnable)
		os.Exit(m.Run())
	}
	os.Exit(mainE2E(m))
}

func mainE2E(m *testing.M) int {
	isolation := os.Getenv(envIsolation)
	if isolation == "" {
		// First process: everything that needs the network.
		if err := prepare(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		if os.Getenv(envNetns) != "0" {
			if code, ok := reexecIsolated(); ok {
				return code
			}
			fmt.Fprintln(os.Stderr, "e2e: no network namespace available (not root, no user namespaces): falling back to proxy variables pointing at a dead port")
		}
		isolation = isoEnv
		os.Setenv(envIsolation, isoEnv)
	} else if isolation != isoEnv {
		if err := loopbackUp(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: bringing up lo in the test network namespace:", err)
			return 1
		}
	}
	serverBin = os.Getenv(envBin)
	start := time.Now()
	code := m.Run()
	if code2 := finish(isolation, time.Since(start)); code == 0 {
		code = code2
	}
	return code
}

// prepare builds the server binary and installs the selected agents, and
// hands both to the test process through the environment.
func prepare() error {
	if err := os.MkdirAll(outDir(), 0o755); err != nil {
		return err
	}
	if os.Getenv(envBin) == "" {
		bin, err := buildServer()
		if err != nil {
			return err
		}
		os.Setenv(envBin, bin)
	}
	report := installAgents(context.Background(), selectedAgents())
	path := filepath.Join(outDir(), "install.json")
	b, _ := json.MarshalIndent(report, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	os.Setenv(envInstalled, path)
	return nil
}

// buildServer builds cmd/sandbox-agent into the output directory.
func buildServer() (string, error) {
	t0 := time.Now()
	bin := filepath.Join(outDir(), "bin", "sandbox-agent")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/sandbox-agent/sandbox-agent/cmd/sandbox-agent")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building the server: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built %s in %.1fs\n", bin, time.Since(t0).Seconds())
	return bin, nil
}

// installResult is one agent's line of the install report.
type installResult struct {
	Agent   string  `json:"agent"`
	Want    string  `json:"want"`
	Version string  `json:"version,omitempty"`
	Path    string  `json:"path,omitempty"`
	Dir     string  `json:"dir"`
	Fresh   bool    `json:"fresh"`
	Seconds float64 `json:"seconds"`
	Error   string  `json:"error,omitempty"`
}

// installAgents installs the pinned version of every agent, in parallel,
// from the npm registry, through our installer. Downloads are cached under
// cacheDir()/downloads; an agent already installed there is not
// downloaded again.
func installAgents(ctx context.Context, names []string) map[string]installResult {
	// The installer runs `<agent> --version`; keep those runs quiet too.
	os.Setenv("DISABLE_AUTOUPDATER", "1")
	os.Setenv("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
	var mu sync.Mutex
	out := map[string]installResult{}
	var wg sync.WaitGroup
	for _, name := range names {
		if Pins[name] == "" {
			out[name] = installResult{Agent: name, Error: "no pinned version in versions_test.go"}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := installOne(ctx, name)
			mu.Lock()
			out[name] = res
			mu.Unlock()
			if res.Error != "" {
				fmt.Fprintf(os.Stderr, "e2e: install %s@%s failed after %.1fs: %s\n", name, res.Want, res.Seconds, res.Error)
			} else {
				fmt.Fprintf(os.Stderr, "e2e: %s %s ready in %.1fs (fresh=%v) at %s\n", name, res.Version, res.Seconds, res.Fresh, res.Path)
			}
		}()
	}
	wg.Wait()
	return out
}

func installOne(ctx context.Context, name string) installResult {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	t0 := time.Now()
	res := installResult{Agent: name, Want: Pins[name], Dir: installDir(name)}
	m := install.New(install.Config{Dir: res.Dir, CacheDir: filepath.Join(cacheDir(), "downloads")})
	r, err := m.Install(ctx, name, install.Options{Version: Pins[name], Source: install.SourceNPM})
	res.Seconds = time.Since(t0).Seconds()
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Version, res.Path, res.Fresh = r.Version, r.Path, r.Installed
	if !strings.HasPrefix(res.Path, res.Dir) {
		res.Error = fmt.Sprintf("resolved to %s, outside the e2e install dir %s (another %s on PATH?)", res.Path, res.Dir, name)
	}
	return res
}

// installReport reads what prepare installed.
func installReport() (map[string]installResult, error) {
	path := os.Getenv(envInstalled)
	if path == "" {
		return nil, fmt.Errorf("%s is not set: TestMain did not run the install step", envInstalled)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep map[string]installResult
	return rep, json.Unmarshal(b, &rep)
}
