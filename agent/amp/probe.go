package amp

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// probe is what an installed amp CLI supports, read once per binary file
// (path, size, mtime: one version) from `amp --help`.
type probe struct {
	streamJSONInput    bool // --stream-json-input: the prompt as a JSON line on stdin
	streamJSONThinking bool // --stream-json-thinking: thinking blocks in the output
	allowAllFlag       bool // --dangerously-allow-all (else the settings key does it)
	modeFlag           bool // -m/--mode
	modes              []string
}

func (p *probe) hasMode(m string) bool {
	for _, x := range p.modes {
		if x == m {
			return true
		}
	}
	return false
}

// modesRe finds the agent modes in --mode's help: "Set the agent mode (low,
// medium, high, ultra, or a plugin mode …)".
var modesRe = regexp.MustCompile(`(?s)--mode <value>\s+Set the agent mode \(([^)]*)\)`)

// parseHelp reads the flags and modes from `amp --help`.
func parseHelp(help string) *probe {
	p := &probe{
		streamJSONInput:    strings.Contains(help, "--stream-json-input"),
		streamJSONThinking: strings.Contains(help, "--stream-json-thinking"),
		allowAllFlag:       strings.Contains(help, "--dangerously-allow-all"),
		modeFlag:           strings.Contains(help, "--mode"),
	}
	if m := modesRe.FindStringSubmatch(help); m != nil && p.modeFlag {
		// The built-in modes come first; "or a plugin mode …" ends them.
		for _, f := range strings.Split(m[1], ",") {
			f = strings.TrimSpace(f)
			if strings.HasPrefix(f, "or ") {
				break
			}
			if f != "" && !strings.ContainsAny(f, " \t\n") {
				p.modes = append(p.modes, f)
			}
		}
	}
	return p
}

type probeKey struct {
	path  string
	size  int64
	mtime time.Time
}

// probeCache holds one probe per binary file; concurrent callers share
// one `amp --help` run.
type probeCache struct {
	mu sync.Mutex
	m  map[probeKey]*probeEntry
}

type probeEntry struct {
	once sync.Once
	p    *probe
	err  error
}

// probeTimeout bounds one `amp --help`.
const probeTimeout = 30 * time.Second

// helpRuns counts `amp --help` runs (tests check the cache).
var helpRuns atomic.Int64

func (c *probeCache) get(ctx context.Context, path string) (*probe, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(real)
	if err != nil {
		return nil, err
	}
	key := probeKey{path: real, size: st.Size(), mtime: st.ModTime()}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[probeKey]*probeEntry{}
	}
	e := c.m[key]
	if e == nil {
		e = &probeEntry{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.p, e.err = runHelp(ctx, path) })
	if e.err != nil {
		c.mu.Lock()
		delete(c.m, key) // a failed probe is tried again next time
		c.mu.Unlock()
	}
	return e.p, e.err
}

func runHelp(ctx context.Context, path string) (*probe, error) {
	helpRuns.Add(1)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeTimeout)
	defer cancel()
	home, err := os.MkdirTemp("", "sandbox-agent-amp-help-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(home)
	cmd := exec.CommandContext(ctx, path, "--help")
	// Its own settings and log file: reading the help must not touch the
	// user's Amp configuration.
	cmd.Env = append(os.Environ(), "AMP_SETTINGS_FILE="+filepath.Join(home, "settings.json"),
		"AMP_LOG_FILE="+filepath.Join(home, "cli.log"), "NO_COLOR=1")
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil && len(out) == 0 {
		return nil, err
	}
	p := parseHelp(string(out))
	if !strings.Contains(string(out), "--stream-json") {
		return nil, fmt.Errorf("%s --help does not list --stream-json: this amp is too old", path)
	}
	return p, nil
}
