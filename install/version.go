package install

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// versionTimeout bounds each probe of Version.
const versionTimeout = 5 * time.Second

type versionKey struct {
	path, real string
	mtime      time.Time
	size       int64
}

var versionCache sync.Map // versionKey → string

// Version reports the version of the agent binary at path: the first of
// `<bin> --version`, `<bin> version`, `<bin> -V` that exits 0 with output;
// its first non-empty line, cut at the first " (". Results are cached by
// (path, mtime, size) of the resolved file, so calling it on every
// GET /v1/agents is cheap.
func Version(ctx context.Context, path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	key := versionKey{path: path, real: real, mtime: st.ModTime(), size: st.Size()}
	if v, ok := versionCache.Load(key); ok {
		return v.(string), nil
	}
	v, err := probeVersion(ctx, path, versionTimeout)
	if err != nil {
		// A big binary can miss the probe's deadline on a loaded machine;
		// what the installer placed at this very path is known.
		if rv, ok := receiptVersion(path); ok {
			return rv, nil
		}
		return "", err
	}
	versionCache.Store(key, v)
	return v, nil
}

// receiptVersion is the version the installer recorded for the binary at
// path (the receipt .<bin>.json beside it), if it placed that binary.
func receiptVersion(path string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".json"))
	if err != nil {
		return "", false
	}
	var r receipt
	if json.Unmarshal(b, &r) != nil || r.Path != path || r.Version == "" {
		return "", false
	}
	return r.Version, true
}

// probeVersion runs the version probes without caching.
func probeVersion(ctx context.Context, path string, timeout time.Duration) (string, error) {
	var errs []error
	for _, args := range [][]string{{"--version"}, {"version"}, {"-V"}} {
		out, err := runProbe(ctx, path, args, timeout)
		if err == nil {
			if v := firstLine(out); v != "" {
				return v, nil
			}
			err = errors.New("no output")
		}
		errs = append(errs, fmt.Errorf("%s %s: %w", filepath.Base(path), args[0], err))
		if ctx.Err() != nil {
			break
		}
	}
	return "", errors.Join(errs...)
}

func runProbe(ctx context.Context, path string, args []string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = nil
	// Own process group, so a timeout kills anything the CLI spawned.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if err != nil {
		if tail := strings.TrimSpace(lastBytes(stderr.String(), 400)); tail != "" {
			err = fmt.Errorf("%w: %s", err, tail)
		}
		return "", err
	}
	return stdout.String() + "\n" + stderr.String(), nil
}

func firstLine(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if i := strings.Index(line, " ("); i >= 0 {
				line = line[:i]
			}
			return strings.TrimSpace(line)
		}
	}
	return ""
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// VersionMatches reports whether the detected version string (as returned
// by Version, e.g. "codex-cli 0.171.0" or "2.1.332") is the wanted version
// ("0.171.0", "rust-v0.171.0", "v1.18.33" …).
func VersionMatches(detected, wanted string) bool {
	return normVersion(detected) != "" && normVersion(detected) == normVersion(wanted)
}

func normVersion(s string) string {
	s = firstLine(s)
	if f := strings.Fields(s); len(f) > 0 {
		s = f[len(f)-1]
	}
	s = strings.TrimPrefix(s, "rust-v")
	s = strings.TrimPrefix(s, "v")
	return s
}
