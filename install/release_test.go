package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// releaseFixture serves release-shaped files for all four agents.
type releaseFixture struct {
	host *fakeHost
	srv  *httptest.Server
}

func newReleaseFixture(t *testing.T) *releaseFixture {
	t.Helper()
	h := newFakeHost()
	f := &releaseFixture{host: h, srv: httptest.NewServer(h)}
	t.Cleanup(f.srv.Close)
	f.claude("2.0.1", true)
	h.set("/claude/latest", []byte("2.0.1\n"))
	h.set("/codex/latest/download/codex-x86_64-unknown-linux-musl.tar.gz", tarGz(t, map[string]entry{
		"dist/codex-x86_64-unknown-linux-musl": {body: fakeBin("codex-cli 0.9.0"), mode: 0o755},
		"dist/README.md":                       {body: []byte("readme")},
	}))
	h.set("/codex/download/rust-v0.8.0/codex-x86_64-unknown-linux-musl.tar.gz", tarGz(t, map[string]entry{
		"codex-x86_64-unknown-linux-musl": {body: fakeBin("codex-cli 0.8.0"), mode: 0o755},
	}))
	h.set("/opencode/download/v1.2.3/opencode-linux-x64.tar.gz", tarGz(t, map[string]entry{
		"opencode": {body: fakeBin("1.2.3"), mode: 0o755},
	}))
	h.set("/opencode/latest/download/opencode-linux-x64.tar.gz", tarGz(t, map[string]entry{
		"opencode": {body: fakeBin("1.2.4"), mode: 0o755},
	}))
	f.amp("0.0.5-gabc")
	h.set("/amp/cli-version.txt", []byte("0.0.5-gabc\n"))
	return f
}

// claude publishes a Claude release, with a checksum manifest if asked.
func (f *releaseFixture) claude(version string, manifest bool) []byte {
	bin := append(fakeBin(version), []byte(strings.Repeat("#", 4096)+"\n")...)
	f.host.set("/claude/"+version+"/linux-x64/claude", bin)
	if manifest {
		sum := sha256.Sum256(bin)
		f.host.set("/claude/"+version+"/manifest.json", []byte(fmt.Sprintf(
			`{"version":%q,"platforms":{"linux-x64":{"checksum":%q,"size":%d},"darwin-arm64":{"checksum":"00","size":1}}}`,
			version, hex.EncodeToString(sum[:]), len(bin))))
	}
	return bin
}

func (f *releaseFixture) amp(version string) {
	f.host.set("/amp/"+version+"/amp-linux-x64", append(fakeBin(version), []byte(strings.Repeat("#", 4096)+"\n")...))
}

func (f *releaseFixture) config() Config {
	return Config{ReleaseBaseURLs: map[string]string{
		"claude": f.srv.URL + "/claude", "codex": f.srv.URL + "/codex",
		"opencode": f.srv.URL + "/opencode", "amp": f.srv.URL + "/amp",
	}}
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *install.Error, got %T: %v", err, err)
	}
	return e
}

func TestReleaseInstallEachAgent(t *testing.T) {
	f := newReleaseFixture(t)
	m := newTestManager(t, f.config())
	ctx := context.Background()
	cases := []struct {
		agent, pin, wantVersion, wantDetected string
	}{
		{"claude", "", "2.0.1", "2.0.1"},
		{"codex", "", "codex-cli 0.9.0", "codex-cli 0.9.0"},
		{"opencode", "1.2.3", "1.2.3", "1.2.3"},
		{"amp", "", "0.0.5-gabc", "0.0.5-gabc"},
	}
	for _, c := range cases {
		var phases []string
		res, err := m.Install(ctx, c.agent, Options{Source: SourceRelease, Version: c.pin, Progress: func(p Progress) {
			if p.Agent != c.agent {
				t.Errorf("progress for %q during %s", p.Agent, c.agent)
			}
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
		}})
		if err != nil {
			t.Fatalf("%s: %v", c.agent, err)
		}
		want := Result{Agent: c.agent, Path: filepath.Join(m.Dir(), c.agent), Version: c.wantVersion, Source: SourceRelease, Installed: true}
		if res != want {
			t.Errorf("%s: got %+v, want %+v", c.agent, res, want)
		}
		st, err := os.Stat(res.Path)
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: stat %v, %v", c.agent, st, err)
		}
		if v, err := Version(ctx, res.Path); err != nil || v != c.wantDetected {
			t.Errorf("%s: Version = %q, %v", c.agent, v, err)
		}
		if got := strings.Join(phases, ","); !strings.HasPrefix(got, "resolve,download") || !strings.HasSuffix(got, "done") {
			t.Errorf("%s: phases %s", c.agent, got)
		}
	}
	if l := leftovers(t, m.Dir()); len(l) != 4 {
		t.Errorf("install dir holds %v, want just the four binaries", l)
	}
}

func TestReleaseChecksumMismatch(t *testing.T) {
	f := newReleaseFixture(t)
	f.host.set("/claude/2.0.1/linux-x64/claude", append(fakeBin("2.0.1"), []byte(strings.Repeat("X", 4097))...))
	m := newTestManager(t, f.config())
	_, err := m.Install(context.Background(), "claude", Options{Source: SourceRelease})
	e := asError(t, err)
	if e.Agent != "claude" || e.URL != f.srv.URL+"/claude/2.0.1/linux-x64/claude" || !strings.Contains(e.Reason, "sha256 mismatch") {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), e.URL) {
		t.Errorf("Error() does not name the URL: %v", err)
	}
	if l := leftovers(t, m.Dir()); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
	if l := leftovers(t, m.cacheDir); len(l) != 0 {
		t.Errorf("cache holds: %v", l)
	}
}

func TestReleaseWithoutManifestStillInstalls(t *testing.T) {
	f := newReleaseFixture(t)
	f.claude("2.0.2", false)
	m := newTestManager(t, f.config())
	res, err := m.Install(context.Background(), "claude", Options{Source: SourceRelease, Version: "2.0.2"})
	if err != nil || res.Version != "2.0.2" {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestRelease404(t *testing.T) {
	f := newReleaseFixture(t)
	m := newTestManager(t, f.config())
	_, err := m.Install(context.Background(), "amp", Options{Source: SourceRelease, Version: "9.9.9"})
	e := asError(t, err)
	if e.URL != f.srv.URL+"/amp/9.9.9/amp-linux-x64" || !strings.Contains(e.Reason, "404") {
		t.Fatalf("got %v", err)
	}
	if n := f.host.count("/amp/9.9.9/amp-linux-x64"); n != 1 {
		t.Errorf("a 404 was tried %d times", n)
	}
	if l := leftovers(t, m.Dir()); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
}

func TestReleaseServerErrorIsRetried(t *testing.T) {
	f := newReleaseFixture(t)
	f.host.with(func() { f.host.status["/amp/cli-version.txt"] = 503 })
	m := newTestManager(t, f.config())
	_, err := m.Install(context.Background(), "amp", Options{Source: SourceRelease})
	e := asError(t, err)
	if e.URL != f.srv.URL+"/amp/cli-version.txt" || !strings.Contains(e.Reason, "503") {
		t.Fatalf("got %v", err)
	}
	if n := f.host.count("/amp/cli-version.txt"); n != maxAttempts {
		t.Errorf("tried %d times, want %d", n, maxAttempts)
	}
}

func TestReleaseTruncatedBody(t *testing.T) {
	f := newReleaseFixture(t)
	f.host.with(func() { f.host.truncate["/amp/0.0.5-gabc/amp-linux-x64"] = true })
	m := newTestManager(t, f.config())
	_, err := m.Install(context.Background(), "amp", Options{Source: SourceRelease})
	e := asError(t, err)
	if e.URL != f.srv.URL+"/amp/0.0.5-gabc/amp-linux-x64" || !strings.Contains(e.Reason, "truncated") {
		t.Fatalf("got %v", err)
	}
	if l := leftovers(t, m.Dir()); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
	if l := leftovers(t, m.cacheDir); len(l) != 0 {
		t.Errorf("cache holds: %v", l)
	}
}

func TestInterruptedDownloadLeavesNothing(t *testing.T) {
	f := newReleaseFixture(t)
	f.host.with(func() { f.host.block["/amp/0.0.5-gabc/amp-linux-x64"] = true })
	m := newTestManager(t, f.config())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := m.Install(ctx, "amp", Options{Source: SourceRelease, Progress: func(p Progress) {
		if p.Phase == "download" && p.Done > 0 {
			cancel()
		}
	}})
	e := asError(t, err)
	if !errors.Is(err, context.Canceled) || e.URL == "" {
		t.Fatalf("got %v", err)
	}
	if l := leftovers(t, m.Dir()); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
	if l := leftovers(t, m.cacheDir); len(l) != 0 {
		t.Errorf("cache holds: %v", l)
	}
	if _, ok := m.Resolve("amp"); ok && strings.HasPrefix(mustResolve(m, "amp"), m.Dir()) {
		t.Error("amp resolves after an interrupted install")
	}
}

func mustResolve(m *Manager, agent string) string { p, _ := m.Resolve(agent); return p }

func TestDiskFullIsClear(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	f := newReleaseFixture(t)
	m := newTestManager(t, f.config())
	m.openTemp = func(dir, pattern string) (*os.File, error) {
		// Through a link: the failed download's cleanup removes the file it
		// wrote to, which must not be the device itself (tests may run as root).
		link := filepath.Join(dir, strings.Replace(pattern, "*", "full", 1))
		if err := os.Symlink("/dev/full", link); err != nil {
			return nil, err
		}
		return os.OpenFile(link, os.O_RDWR, 0)
	}
	_, err := m.Install(context.Background(), "amp", Options{Source: SourceRelease})
	e := asError(t, err)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(e.Reason, "disk full") || e.URL != f.srv.URL+"/amp/0.0.5-gabc/amp-linux-x64" {
		t.Fatalf("got %v", err)
	}
}

func TestConcurrentInstallDownloadsOnce(t *testing.T) {
	f := newReleaseFixture(t)
	f.host.with(func() { f.host.delay = 200 * time.Millisecond })
	m := newTestManager(t, f.config())
	// A second Manager on the same dir behaves like another server process.
	m2 := newTestManager(t, Config{Dir: m.Dir(), CacheDir: "off", ReleaseBaseURLs: f.config().ReleaseBaseURLs})
	var wg sync.WaitGroup
	results := make([]Result, 2)
	errs := make([]error, 2)
	for i, mm := range []*Manager{m, m2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = mm.Install(context.Background(), "claude", Options{Source: SourceRelease})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.host.count("/claude/2.0.1/linux-x64/claude"); n != 1 {
		t.Errorf("binary downloaded %d times", n)
	}
	if results[0].Installed == results[1].Installed {
		t.Errorf("want exactly one install, got %+v", results)
	}
	for _, r := range results {
		if r.Path != filepath.Join(m.Dir(), "claude") || r.Version != "2.0.1" {
			t.Errorf("result %+v", r)
		}
	}
}

func TestConcurrentReinstallDownloadsOnce(t *testing.T) {
	f := newReleaseFixture(t)
	m := newTestManager(t, Config{CacheDir: "off", ReleaseBaseURLs: f.config().ReleaseBaseURLs})
	if _, err := m.Install(context.Background(), "amp", Options{Source: SourceRelease}); err != nil {
		t.Fatal(err)
	}
	f.host.with(func() { f.host.delay = 200 * time.Millisecond })
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := m.Install(context.Background(), "amp", Options{Source: SourceRelease, Reinstall: true}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := f.host.count("/amp/0.0.5-gabc/amp-linux-x64"); n != 2 {
		t.Errorf("binary downloaded %d times, want 2 (first install + one reinstall)", n)
	}
}

// TestConcurrentInstallProcesses runs two installer processes (this test
// binary, re-executed) against one install dir.
func TestConcurrentInstallProcesses(t *testing.T) {
	if os.Getenv("INSTALL_HELPER_DIR") != "" {
		t.Skip("inside helper")
	}
	f := newReleaseFixture(t)
	f.host.with(func() { f.host.delay = 300 * time.Millisecond })
	dir := filepath.Join(t.TempDir(), "bin")
	var cmds []*exec.Cmd
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperInstallProcess$", "-test.v")
		cmd.Env = append(os.Environ(), "INSTALL_HELPER_DIR="+dir, "INSTALL_HELPER_URL="+f.srv.URL)
		cmds = append(cmds, cmd)
	}
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Add(1)
		go func() { defer wg.Done(); outs[i], errs[i] = c.CombinedOutput() }()
	}
	wg.Wait()
	installed := 0
	for i := range cmds {
		if errs[i] != nil {
			t.Fatalf("helper %d: %v\n%s", i, errs[i], outs[i])
		}
		if strings.Contains(string(outs[i]), "INSTALLED=true") {
			installed++
		}
	}
	if n := f.host.count("/opencode/latest/download/opencode-linux-x64.tar.gz"); n != 1 || installed != 1 {
		t.Errorf("downloaded %d times, %d processes installed; want 1 and 1", n, installed)
	}
}

func TestHelperInstallProcess(t *testing.T) {
	dir := os.Getenv("INSTALL_HELPER_DIR")
	if dir == "" {
		t.Skip("helper for TestConcurrentInstallProcesses")
	}
	base := os.Getenv("INSTALL_HELPER_URL")
	m := New(Config{Dir: dir, CacheDir: "off", NPMRegistry: "http://127.0.0.1:1/", ReleaseBaseURLs: map[string]string{"opencode": base + "/opencode"}})
	setPlat(m, testPlat)
	res, err := m.Install(context.Background(), "opencode", Options{Source: SourceRelease})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("INSTALLED=%v\n", res.Installed)
}

func TestResolvePrefersInstallDirThenPATH(t *testing.T) {
	f := newReleaseFixture(t)
	m := newTestManager(t, f.config())
	pathDir := t.TempDir()
	os.WriteFile(filepath.Join(pathDir, "amp"), fakeBin("0.0.1-gpath"), 0o755)
	t.Setenv("PATH", pathDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	p, ok := m.Resolve("amp")
	if !ok || p != filepath.Join(pathDir, "amp") {
		t.Fatalf("Resolve = %q, %v", p, ok)
	}
	// On PATH counts as installed: nothing is downloaded.
	res, err := m.Install(context.Background(), "amp", Options{Source: SourceRelease})
	if err != nil || res.Installed || res.Path != p || res.Version != "0.0.1-gpath" {
		t.Fatalf("%+v, %v", res, err)
	}
	if n := f.host.count("/amp/0.0.5-gabc/amp-linux-x64"); n != 0 {
		t.Fatalf("downloaded %d times", n)
	}
	// A different pinned version is installed into the dir, which wins.
	got, err := m.EnsureInstalled(context.Background(), "amp", "0.0.5-gabc")
	if err != nil || got != filepath.Join(m.Dir(), "amp") {
		t.Fatalf("EnsureInstalled = %q, %v", got, err)
	}
	if p, _ := m.Resolve("amp"); p != got {
		t.Fatalf("Resolve = %q after install", p)
	}
	// Same version again: no download.
	if _, err := m.EnsureInstalled(context.Background(), "amp", "0.0.5-gabc"); err != nil {
		t.Fatal(err)
	}
	if n := f.host.count("/amp/0.0.5-gabc/amp-linux-x64"); n != 1 {
		t.Fatalf("downloaded %d times", n)
	}
}

func TestReinstallUsesCache(t *testing.T) {
	f := newReleaseFixture(t)
	m := newTestManager(t, f.config())
	ctx := context.Background()
	for range 2 {
		if _, err := m.Install(ctx, "claude", Options{Source: SourceRelease, Version: "2.0.1", Reinstall: true}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.host.count("/claude/2.0.1/linux-x64/claude"); n != 1 {
		t.Errorf("pinned release downloaded %d times despite the cache", n)
	}
	// "latest" URLs are not cached: their content changes.
	for range 2 {
		if _, err := m.Install(ctx, "codex", Options{Source: SourceRelease, Reinstall: true}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.host.count("/codex/latest/download/codex-x86_64-unknown-linux-musl.tar.gz"); n != 2 {
		t.Errorf("latest downloaded %d times", n)
	}
}

func TestCodexReleaseTagAndBrokenBinary(t *testing.T) {
	f := newReleaseFixture(t)
	m := newTestManager(t, f.config())
	res, err := m.Install(context.Background(), "codex", Options{Source: SourceRelease, Version: "0.8.0"})
	if err != nil || res.Version != "0.8.0" {
		t.Fatalf("%+v, %v", res, err)
	}
	f.host.set("/codex/download/rust-v0.7.0/codex-x86_64-unknown-linux-musl.tar.gz", tarGz(t, map[string]entry{
		"codex-x86_64-unknown-linux-musl": {body: brokenBin, mode: 0o755},
	}))
	_, err = m.Install(context.Background(), "codex", Options{Source: SourceRelease, Version: "rust-v0.7.0"})
	if e := asError(t, err); !strings.Contains(e.Reason, "does not run") {
		t.Fatalf("got %v", err)
	}
	// The working 0.8.0 is untouched.
	if v, _ := Version(context.Background(), res.Path); v != "codex-cli 0.8.0" {
		t.Fatalf("version after failed install: %q", v)
	}
}

func TestAutoFallsBackAndReportsBoth(t *testing.T) {
	f := newReleaseFixture(t)
	reg := newFakeRegistry(t)
	reg.publishNative(t, "@ampcode/cli", "0.0.7-gnpm", "@ampcode/cli-linux-x64", "amp", fakeBin("0.0.7-gnpm"))
	cfg := f.config()
	cfg.NPMRegistry = reg.srv.URL
	m := newTestManager(t, cfg)
	f.host.with(func() { f.host.status["/amp/cli-version.txt"] = 404 })
	var msgs []string
	res, err := m.Install(context.Background(), "amp", Options{Progress: func(p Progress) {
		if p.Message != "" {
			msgs = append(msgs, p.Message)
		}
	}})
	if err != nil || res.Source != SourceNPM || res.Version != "0.0.7-gnpm" {
		t.Fatalf("%+v, %v", res, err)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "cli-version.txt") {
		t.Errorf("fallback note %q", msgs)
	}

	_, err = m.Install(context.Background(), "claude", Options{Reinstall: true, Version: "7.7.7"})
	e := asError(t, err)
	if !strings.Contains(e.Reason, "release: ") || !strings.Contains(e.Reason, "/claude/7.7.7/linux-x64/claude") ||
		!strings.Contains(e.Reason, "npm: package not found") || !strings.Contains(e.URL, "claude-code") {
		t.Fatalf("got %v", err)
	}
}

func TestUnknownAgentAndMock(t *testing.T) {
	m := newTestManager(t, Config{})
	_, err := m.Install(context.Background(), "no-such-agent", Options{})
	if e := asError(t, err); !errors.Is(err, ErrUnknownAgent) || !strings.Contains(e.Error(), "claude, codex, opencode, amp") {
		t.Fatalf("got %v", err)
	}
	res, err := m.Install(context.Background(), "mock", Options{})
	if err != nil || res.Installed || res.Path != "" {
		t.Fatalf("mock: %+v, %v", res, err)
	}
	if p, err := m.EnsureInstalled(context.Background(), "mock", ""); err != nil || p != "" {
		t.Fatalf("mock: %q, %v", p, err)
	}
	if _, err := m.Install(context.Background(), "amp", Options{Source: "pip"}); err == nil {
		t.Fatal("bad source accepted")
	}
}

func TestKilledInstallLeftoversAreRemoved(t *testing.T) {
	f := newReleaseFixture(t)
	m := newTestManager(t, f.config())
	os.MkdirAll(filepath.Join(m.Dir(), "amp-pkg", ".new-123"), 0o755)
	for _, p := range []string{".download-amp-1.partial", ".amp.new-2", "amp-pkg/.new-123/amp"} {
		os.WriteFile(filepath.Join(m.Dir(), p), []byte("half"), 0o644)
	}
	// Another agent's partial download may belong to a live install.
	os.WriteFile(filepath.Join(m.Dir(), ".download-claude-3.partial"), []byte("half"), 0o644)
	if _, err := m.Install(context.Background(), "amp", Options{Source: SourceRelease}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(leftovers(t, m.Dir()), " ")
	if got != ".download-claude-3.partial amp amp-pkg" {
		t.Errorf("install dir holds %q", got)
	}
}
