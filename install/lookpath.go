package install

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// pathTTL is how long a PATH lookup is trusted. GET /v1/agents resolves
// every agent on every request, and a PATH scan is a stat per directory;
// a binary put on PATH by hand (not by us: our installs go to the install
// directory, which Resolve looks at every time) shows within pathTTL.
const pathTTL = 2 * time.Second

type pathKey struct{ name, path string }

type pathHit struct {
	path string
	ok   bool
	at   time.Time
}

var pathCache = struct {
	sync.Mutex
	m map[pathKey]pathHit
}{m: map[pathKey]pathHit{}}

// lookPath is exec.LookPath, made absolute. Its answer is remembered per
// name and PATH for pathTTL; a remembered path must still be an executable
// file (one stat). fresh looks again, and remembers the new answer.
func lookPath(name string, fresh bool) (string, bool) {
	key := pathKey{name, os.Getenv("PATH")}
	now := time.Now()
	if !fresh {
		pathCache.Lock()
		h, ok := pathCache.m[key]
		pathCache.Unlock()
		if ok && now.Sub(h.at) < pathTTL && (!h.ok || isExecutable(h.path)) {
			return h.path, h.ok
		}
	}
	h := pathHit{at: now}
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		h.path, h.ok = p, true
	}
	pathCache.Lock()
	if len(pathCache.m) >= 64 { // PATH changed many times (tests): start over
		clear(pathCache.m)
	}
	pathCache.m[key] = h
	pathCache.Unlock()
	return h.path, h.ok
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
