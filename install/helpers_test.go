package install

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	retryDelay = 5 * time.Millisecond
	// Agents installed on this machine's PATH would make installs no-ops.
	var keep []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		has := false
		for _, a := range Agents() {
			if _, err := os.Stat(filepath.Join(d, a)); err == nil {
				has = true
			}
		}
		if !has {
			keep = append(keep, d)
		}
	}
	os.Setenv("PATH", strings.Join(keep, string(os.PathListSeparator)))
	os.Exit(m.Run())
}

// testPlat is the platform the fakes serve builds for.
var testPlat = platform{OS: "linux", Arch: "x64", AVX2: true}

// setPlat makes m install for p instead of this machine.
func setPlat(m *Manager, p platform) { m.plat = func() platform { return p } }

// fakeBin is a shell script that answers --version like a real agent.
func fakeBin(version string) []byte {
	return []byte("#!/bin/sh\necho '" + version + " (Fake Agent)'\n")
}

// brokenBin exits 1 whatever it is asked.
var brokenBin = []byte("#!/bin/sh\necho 'cannot run here' >&2\nexit 1\n")

// entry is one tar member: a file (body, mode) or a symlink (link).
type entry struct {
	body []byte
	mode int64
	link string
}

func tarGz(t *testing.T, files map[string]entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := files[n]
		hdr := &tar.Header{Name: n, Mode: e.mode, Size: int64(len(e.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(499162500, 0)}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		if e.link != "" {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeSymlink, e.link, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.link == "" {
			tw.Write(e.body)
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// fakeHost serves fixed files and counts requests per path. A path can be
// made to fail with a status, to send a truncated body, or to stall.
type fakeHost struct {
	mu       sync.Mutex
	files    map[string][]byte
	status   map[string]int
	truncate map[string]bool
	hits     map[string]int
	delay    time.Duration // before each artifact body
	auth     map[string]string
	// block, when set for a path, sends half the body and then waits for
	// the client to go away.
	block map[string]bool
}

func newFakeHost() *fakeHost {
	return &fakeHost{files: map[string][]byte{}, status: map[string]int{}, truncate: map[string]bool{},
		hits: map[string]int{}, auth: map[string]string{}, block: map[string]bool{}}
}

func (h *fakeHost) set(path string, body []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[path] = body
}

// with runs fn under the host's lock, for changing its behaviour while
// it serves.
func (h *fakeHost) with(fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fn()
}

func (h *fakeHost) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}

func (h *fakeHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	h.mu.Lock()
	h.hits[p]++
	body, ok := h.files[p]
	status, trunc, delay, block := h.status[p], h.truncate[p], h.delay, h.block[p]
	h.auth[p] = r.Header.Get("Authorization")
	h.mu.Unlock()
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if delay > 0 && len(body) > 1000 {
		time.Sleep(delay)
	}
	switch {
	case trunc:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/2])
		// Returning early makes the server cut the connection.
	case block:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	default:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}
}

// newTestManager returns a Manager for testPlat with a private install
// dir and cache.
func newTestManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), "bin")
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(t.TempDir(), "cache")
	}
	if cfg.NPMRegistry == "" {
		cfg.NPMRegistry = "http://127.0.0.1:1/" // nothing listens there
	}
	m := New(cfg)
	setPlat(m, testPlat)
	return m
}

// leftovers lists files in dir other than locks and receipts.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || p == dir {
			return nil
		}
		base := filepath.Base(p)
		if strings.HasSuffix(base, ".lock") || (strings.HasPrefix(base, ".") && strings.HasSuffix(base, ".json")) {
			return nil
		}
		out = append(out, strings.TrimPrefix(p, dir+"/"))
		return nil
	})
	return out
}
