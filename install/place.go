package install

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// verifyTimeout bounds the --version run that accepts a fresh binary; the
// first start of a 400 MB executable from a cold page cache can be slow.
const verifyTimeout = 60 * time.Second

// placeSingle installs one executable at <Dir>/<bin>. write fills the temp
// file it is given; the result is run with --version and then renamed into
// place, so <Dir>/<bin> is never a partial file.
func (ins *installer) placeSingle(ctx context.Context, url string, write func(tmp string) error) (string, string, error) {
	m := ins.m
	f, err := m.openTemp(m.dir, "."+ins.spec.bin+".new-*")
	if err != nil {
		return "", "", ins.ioError("create temp file", m.dir, url, err)
	}
	tmp := f.Name()
	f.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmp)
		}
	}()
	ins.progress(Progress{Phase: "extract", URL: url})
	if err := write(tmp); err != nil {
		if _, ok := err.(*Error); ok {
			return "", "", err
		}
		return "", "", ins.ioError("unpack binary", tmp, url, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", "", ins.ioError("chmod", tmp, url, err)
	}
	v, err := ins.verifyRuns(ctx, tmp, url)
	if err != nil {
		return "", "", err
	}
	dst, err := ins.activate(tmp, "", "move binary into place", url)
	if err != nil {
		return "", "", err
	}
	done = true
	return dst, v, nil
}

// placeTree installs a package directory at <Dir>/<agent>-pkg/<version>/
// and points <Dir>/<bin> at the executable inside it with a relative
// symlink. fill extracts into the temp directory it is given.
func (ins *installer) placeTree(ctx context.Context, url, version string, bins []string, fill func(root string) error) (string, string, error) {
	tmp, err := ins.stagePkg(url)
	if err != nil {
		return "", "", err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	ins.progress(Progress{Phase: "extract", URL: url})
	if err := fill(tmp); err != nil {
		if _, ok := err.(*Error); ok {
			return "", "", err
		}
		return "", "", ins.ioError("unpack package", tmp, url, err)
	}
	binRel := ""
	for _, b := range bins {
		if st, err := os.Stat(filepath.Join(tmp, b)); err == nil && !st.IsDir() {
			binRel = b
			break
		}
	}
	if binRel == "" {
		return "", "", ins.errorf(url, errNoBinary, "package has no %s executable (looked for %s)", ins.spec.bin, strings.Join(bins, ", "))
	}
	if err := os.Chmod(filepath.Join(tmp, binRel), 0o755); err != nil {
		return "", "", ins.ioError("chmod", binRel, url, err)
	}
	v, err := ins.verifyRuns(ctx, filepath.Join(tmp, binRel), url)
	if err != nil {
		return "", "", err
	}

	name := safeName(version)
	if _, err := ins.commitPkg(tmp, name, url); err != nil {
		return "", "", err
	}
	done = true

	target := filepath.Join(ins.agent+"-pkg", name, binRel)
	link := filepath.Join(ins.m.dir, fmt.Sprintf(".%s.link-%d", ins.spec.bin, time.Now().UnixNano()))
	if err := os.Symlink(target, link); err != nil {
		return "", "", ins.ioError("link binary", link, url, err)
	}
	dst, err := ins.activate(link, name, "link binary", url)
	if err != nil {
		os.Remove(link)
		return "", "", err
	}
	return dst, v, nil
}

// pkgRoot holds the agent's package directories, one per version.
func (ins *installer) pkgRoot() string { return filepath.Join(ins.m.dir, ins.agent+"-pkg") }

// stagePkg creates the temp directory a package version is unpacked into
// before commitPkg moves it into place; the caller removes it on failure.
func (ins *installer) stagePkg(url string) (string, error) {
	pkgRoot := ins.pkgRoot()
	if err := os.MkdirAll(pkgRoot, 0o755); err != nil {
		return "", ins.ioError("create package dir", pkgRoot, url, err)
	}
	tmp, err := os.MkdirTemp(pkgRoot, ".new-*")
	if err == nil {
		err = os.Chmod(tmp, 0o755) // MkdirTemp makes it private
	}
	if err != nil {
		return "", ins.ioError("create temp dir", pkgRoot, url, err)
	}
	return tmp, nil
}

// commitPkg renames the staged directory tmp to <pkgRoot>/<name>,
// replacing an earlier install of the same version, and returns that path.
func (ins *installer) commitPkg(tmp, name, url string) (string, error) {
	pkgRoot := ins.pkgRoot()
	final := filepath.Join(pkgRoot, name)
	if _, err := os.Lstat(final); err == nil {
		old := filepath.Join(pkgRoot, fmt.Sprintf(".old-%s-%d", name, time.Now().UnixNano()))
		if err := os.Rename(final, old); err != nil {
			return "", ins.ioError("replace package dir", final, url, err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", ins.ioError("move package into place", final, url, err)
	}
	return final, nil
}

// activate renames src to <Dir>/<bin>, the path the agent is run from,
// then prunes package versions other than keep and the one <Dir>/<bin>
// pointed to before. what names the step in an error.
func (ins *installer) activate(src, keep, what, url string) (string, error) {
	dst := filepath.Join(ins.m.dir, ins.spec.bin)
	prevLink, _ := os.Readlink(dst)
	if err := os.Rename(src, dst); err != nil {
		return "", ins.ioError(what, dst, url, err)
	}
	syncDir(ins.m.dir)
	ins.prune(prevLink, keep)
	return dst, nil
}

// verifyRuns accepts a fresh executable only if it answers a version probe.
func (ins *installer) verifyRuns(ctx context.Context, bin, url string) (string, error) {
	ins.progress(Progress{Phase: "verify", URL: url})
	if ins.spec.noVersionFlag {
		if _, err := runProbe(ctx, bin, []string{"--help"}, verifyTimeout); err != nil {
			return "", ins.errorf(url, err, "installed %s does not run on %s", ins.spec.bin, ins.plat)
		}
		return "", nil
	}
	v, err := probeVersion(ctx, bin, verifyTimeout)
	if err != nil {
		return "", ins.errorf(url, err, "installed %s does not run on %s", ins.spec.bin, ins.plat)
	}
	return v, nil
}

// prune removes package versions of this agent other than keep and the
// one the previous link pointed to (a running session may still use it).
func (ins *installer) prune(prevLink, keep string) {
	pkgRoot := ins.pkgRoot()
	prev := ""
	if prevLink != "" {
		rel, err := filepath.Rel(ins.agent+"-pkg", prevLink)
		if err == nil && filepath.IsLocal(rel) {
			prev, _, _ = strings.Cut(filepath.ToSlash(rel), "/")
		}
	}
	entries, err := os.ReadDir(pkgRoot)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if n == keep || n == prev || strings.HasPrefix(n, ".new-") {
			continue
		}
		os.RemoveAll(filepath.Join(pkgRoot, n))
	}
}

// cleanStale removes leftovers of installs that were killed mid-way. It
// runs under the agent's lock, so no live install owns them.
func (m *Manager) cleanStale(agent string) {
	bin := specs[agent].bin
	for _, pat := range []string{
		filepath.Join(m.dir, ".download-"+agent+"-*.partial"),
		filepath.Join(m.dir, "."+bin+".new-*"),
		filepath.Join(m.dir, "."+bin+".link-*"),
		filepath.Join(m.dir, agent+"-pkg", ".new-*"),
		filepath.Join(m.dir, agent+"-pkg", ".old-*"),
	} {
		matches, _ := filepath.Glob(pat)
		for _, p := range matches {
			os.RemoveAll(p)
		}
	}
	// The download cache may be shared by installers of other install
	// dirs, whose locks we do not hold: remove only partial downloads old
	// enough that nobody can still be writing them.
	if m.cacheDir != "" {
		matches, _ := filepath.Glob(filepath.Join(m.cacheDir, ".download-*.partial"))
		for _, p := range matches {
			if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > time.Hour {
				os.Remove(p)
			}
		}
	}
}

func safeName(v string) string {
	v = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, v)
	if v == "" || v == "." || v == ".." || strings.HasPrefix(v, ".") {
		v = "v" + v
	}
	return v
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// receipt records what the last install of an agent put in the install dir.
type receipt struct {
	Agent       string    `json:"agent"`
	Version     string    `json:"version"`
	Source      Source    `json:"source"`
	Path        string    `json:"path"`
	InstalledAt time.Time `json:"installedAt"`
}

func (m *Manager) receiptPath(agent string) string {
	return filepath.Join(m.dir, "."+agent+".json")
}

func (m *Manager) readReceipt(agent string) (receipt, bool) {
	var r receipt
	b, err := os.ReadFile(m.receiptPath(agent))
	if err != nil || json.Unmarshal(b, &r) != nil {
		return receipt{}, false
	}
	return r, true
}

func (m *Manager) writeReceipt(r receipt) {
	b, _ := json.MarshalIndent(r, "", "  ")
	p := m.receiptPath(r.Agent)
	tmp := p + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		os.Rename(tmp, p)
	}
}

// lockFile takes an exclusive flock on path, polling so that ctx can end
// the wait. flock locks belong to the open file, so this serialises
// goroutines of one process as well as separate processes.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	delay := 20 * time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		if delay < 250*time.Millisecond {
			delay *= 2
		}
	}
}
