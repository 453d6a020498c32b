//go:build unix

package process

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// lookPath finds file in the PATH of env, the child's environment. exec.Command
// would search the server's own PATH, so an Options.Env that puts an agent's
// install directory on PATH would silently run a different binary, or none.
// A file with a slash is used as is (relative to Options.Dir, as exec does).
// Relative PATH entries are skipped, as exec.LookPath refuses them too.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	notFound := &exec.Error{Name: file, Err: exec.ErrNotFound}
	if file == "" {
		return "", notFound
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v // the last one wins, as in exec's deduplication
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue
		}
		cand := filepath.Join(dir, file)
		if fi, err := os.Stat(cand); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return cand, nil
		}
	}
	return "", notFound
}
