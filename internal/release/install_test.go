//go:build linux

package release_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// nobody is the non-root user the tests switch to when they run as root.
const nobody = 65534

// releaseServer serves a release directory in the layout install.sh
// expects (GitHub's): /latest/download/<file> and
// /download/<version>/<file>. It records what was asked for, and can
// replace a file's bytes to play a corrupted or tampered release (nil
// bytes: the file is missing).
type releaseServer struct {
	*httptest.Server
	dir      string
	mu       sync.Mutex
	requests []string
	replace  map[string][]byte
}

func newReleaseServer(t *testing.T, dir string, replace map[string][]byte) *releaseServer {
	rs := &releaseServer{dir: dir, replace: replace}
	rs.Server = httptest.NewServer(http.HandlerFunc(rs.serve)) // 127.0.0.1
	t.Cleanup(rs.Close)
	return rs
}

func (rs *releaseServer) serve(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	rs.requests = append(rs.requests, r.URL.Path)
	rs.mu.Unlock()
	var name string
	if rest, ok := strings.CutPrefix(r.URL.Path, "/latest/download/"); ok {
		name = rest
	} else if rest, ok := strings.CutPrefix(r.URL.Path, "/download/"+testVersion+"/"); ok {
		name = rest
	}
	if name == "" || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	if b, ok := rs.replace[name]; ok {
		if b == nil {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
		return
	}
	http.ServeFile(w, r, filepath.Join(rs.dir, name))
}

func (rs *releaseServer) paths() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]string(nil), rs.requests...)
}

// account is who runs install.sh: root or a non-root user.
type account struct {
	name     string
	uid, gid int
}

func (a account) isRoot() bool { return a.uid == 0 }

// accounts are the users this process can test as: root and nobody when
// it is root, else only itself.
func accounts(t *testing.T) (root *account, user account) {
	uid := os.Geteuid()
	if uid != 0 {
		return nil, account{"user", uid, os.Getegid()}
	}
	return &account{"root", 0, 0}, account{"nobody", nobody, nobody}
}

func (a account) attr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if a.uid != os.Geteuid() {
		attr.Credential = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid), NoSetGroups: false}
	}
	return attr
}

// sandbox is one install's world: a HOME and TMPDIR owned by the account,
// under a directory any user can enter, removed at the end.
type sandbox struct {
	t     *testing.T
	acct  account
	shell []string // runs install.sh; dash unless a test says otherwise
	piped bool     // curl … | sh, the script coming from the release server
	base  string
	home  string
	tmp   string
}

func newSandbox(t *testing.T, acct account) *sandbox {
	base, err := os.MkdirTemp("", "sandbox-agent-install-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &sandbox{t: t, acct: acct, base: base, home: filepath.Join(base, "home"), tmp: filepath.Join(base, "tmp")}
	for _, d := range []string{s.home, s.tmp} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, acct.uid, acct.gid); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// scriptTools are the commands install.sh may run.
var scriptTools = []string{"awk", "chmod", "cp", "curl", "id", "mkdir", "mktemp", "mv", "rm", "sha256sum", "uname", "wget"}

// toolPath builds a PATH directory holding only the commands install.sh
// may use (symlinks to the real ones), minus those in without. A command
// the script needs but is not listed makes the install fail, so the list
// is the script's true dependency set.
func (s *sandbox) toolPath(without ...string) string {
	dir := filepath.Join(s.base, "tools")
	if err := os.Mkdir(dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	for _, tool := range scriptTools {
		if strings.Contains(" "+strings.Join(without, " ")+" ", " "+tool+" ") {
			continue
		}
		real, err := exec.LookPath(tool)
		if err != nil {
			s.t.Fatalf("%s is needed to test install.sh: %v", tool, err)
		}
		if err := os.Symlink(real, filepath.Join(dir, tool)); err != nil {
			s.t.Fatal(err)
		}
	}
	return dir
}

type result struct {
	err            error
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// install runs install.sh (under dash by default) as the sandbox's account, with a
// clean environment: PATH, HOME, TMPDIR, the release URL and extra.
func (s *sandbox) install(baseURL, path string, extra ...string) result {
	s.t.Helper()
	script := filepath.Join(s.base, "install.sh")
	if _, err := os.Stat(script); err != nil {
		b, err := os.ReadFile(filepath.Join(repoRoot(s.t), "install.sh"))
		if err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(script, b, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	shell := s.shell
	if shell == nil {
		shell = []string{dashPath(s.t)}
	}
	args := append(shell[1:], script)
	if s.piped {
		// The README's form: the script from the release, read from a pipe.
		args = append(shell[1:], "-c", `curl -fsSL "$SANDBOX_AGENT_BASE_URL/latest/download/install.sh" | `+shell[0])
	}
	cmd := exec.CommandContext(ctx, shell[0], args...)
	cmd.Dir = s.home
	cmd.Env = append([]string{"PATH=" + path, "HOME=" + s.home, "TMPDIR=" + s.tmp, "SANDBOX_AGENT_BASE_URL=" + baseURL}, extra...)
	cmd.SysProcAttr = s.acct.attr()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return result{err: err, stdout: out.String(), stderr: errb.String()}
}

// tmpLeft lists what install.sh left in its TMPDIR (it must leave nothing).
func (s *sandbox) tmpLeft() []string {
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		s.t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func dashPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("dash")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dash is needed to test install.sh (apt-get install dash)")
		}
		t.Skip("dash is not installed")
	}
	return p
}

var listenRE = regexp.MustCompile(`msg="server listening" addr=(\S+)`)

// serveHealth starts the installed binary as the account, asks it for
// /v1/health, and stops it with SIGTERM, expecting a clean exit.
func (s *sandbox) serveHealth(bin string) {
	t := s.t
	t.Helper()
	cmd := exec.Command(bin, "server", "--no-token", "--host", "127.0.0.1", "--port", "0")
	cmd.Dir = s.home
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + s.home, "TMPDIR=" + s.tmp}
	cmd.SysProcAttr = s.acct.attr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var log bytes.Buffer
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		done <- cmd.Wait()
	}()
	stopped := false
	defer func() {
		if !stopped {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}()

	var a string
	select {
	case a = <-addr:
	case err := <-done:
		stopped = true
		t.Fatalf("installed binary exited at start: %v\n%s", err, log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("installed binary did not report its address within 30s\n%s", log.String())
	}
	resp, err := http.Get("http://" + a + "/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var health struct{ Status string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &health) != nil || health.Status != "ok" {
		t.Errorf("GET /v1/health = %d %s, want 200 {\"status\":\"ok\"}", resp.StatusCode, body)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Errorf("installed server exited with %v after SIGTERM\n%s", err, log.String())
		}
	case <-time.After(15 * time.Second):
		t.Errorf("installed server did not exit within 15s of SIGTERM")
	}
}

func (s *sandbox) checkInstalled(bin, asset string) {
	t := s.t
	t.Helper()
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("%s has mode %v, want 0755", bin, fi.Mode().Perm())
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != s.acct.uid {
		t.Errorf("%s is owned by uid %d, want %d", bin, st.Uid, s.acct.uid)
	}
	if got, want := fileSHA256(t, bin), fileSHA256(t, filepath.Join(distDir, asset)); got != want {
		t.Errorf("installed binary has SHA-256 %s, the release %s", got, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(bin))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("bin dir holds %v, want only sandbox-agent", names)
	}
	if left := s.tmpLeft(); len(left) > 0 {
		t.Errorf("install.sh left %v in TMPDIR", left)
	}
}

func hostAsset() string { return assetName(runtime.GOOS + "/" + runtime.GOARCH) }

// TestInstallAsRoot: `curl -fsSL …/install.sh | dash` as root, the script
// itself fetched from the release, into a prefix given by
// SANDBOX_AGENT_BIN_DIR (a directory that does not exist yet), latest
// release, downloaded with curl.
func TestInstallAsRoot(t *testing.T) {
	root, _ := accounts(t)
	if root == nil {
		t.Skip("not root: the root install is tested in CI, which runs as root")
	}
	dist := release(t)
	rs := newReleaseServer(t, dist, nil)
	s := newSandbox(t, *root)
	binDir := filepath.Join(s.base, "prefix", "bin")
	path := s.toolPath("wget") + ":" + binDir

	s.piped = true
	r := s.install(rs.URL, path, "SANDBOX_AGENT_BIN_DIR="+binDir)
	if r.err != nil {
		t.Fatalf("curl … | dash failed\n%s", r)
	}
	asset := hostAsset()
	if got, want := strings.Join(rs.paths(), " "), "/latest/download/install.sh /latest/download/"+asset+" /latest/download/SHA256SUMS"; got != want {
		t.Errorf("install.sh fetched %q, want %q", got, want)
	}
	bin := filepath.Join(binDir, "sandbox-agent")
	for _, want := range []string{"verified SHA-256 " + fileSHA256(t, filepath.Join(dist, asset)), "installed sandbox-agent " + testVersion, testDate, "to " + bin} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("install.sh output lacks %q\n%s", want, r)
		}
	}
	if strings.Contains(r.stdout, "not on PATH") {
		t.Errorf("install.sh says %s is not on PATH although it is\n%s", binDir, r)
	}
	s.checkInstalled(bin, asset)
	s.serveHealth(bin)
}

// TestInstallAsUser: a non-root user with only wget, a pinned version
// given without its "v", and the default bin dir ~/.local/bin.
func TestInstallAsUser(t *testing.T) {
	_, user := accounts(t)
	dist := release(t)
	rs := newReleaseServer(t, dist, nil)
	s := newSandbox(t, user)

	r := s.install(rs.URL, s.toolPath("curl"), "SANDBOX_AGENT_VERSION="+strings.TrimPrefix(testVersion, "v"))
	if r.err != nil {
		t.Fatalf("install.sh failed\n%s", r)
	}
	asset := hostAsset()
	dir := "/download/" + testVersion + "/"
	if got, want := strings.Join(rs.paths(), " "), dir+asset+" "+dir+"SHA256SUMS"; got != want {
		t.Errorf("install.sh fetched %q, want %q", got, want)
	}
	bin := filepath.Join(s.home, ".local", "bin", "sandbox-agent")
	for _, want := range []string{"installed sandbox-agent " + testVersion, testDate, "to " + bin, filepath.Dir(bin) + " is not on PATH"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("install.sh output lacks %q\n%s", want, r)
		}
	}
	s.checkInstalled(bin, asset)
	s.serveHealth(bin)
}

// TestInstallRefusesBadDownloads: whatever is wrong with the release,
// install.sh fails loudly, installs nothing, keeps an existing binary as
// it was, and leaves nothing in TMPDIR. Run as root and as a user.
func TestInstallRefusesBadDownloads(t *testing.T) {
	dist := release(t)
	asset := hostAsset()
	good, err := os.ReadFile(filepath.Join(dist, asset))
	if err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	// A checksum that differs in its first digit from the true one.
	badSums := regexp.MustCompile(`(?m)^([0-9a-f])`).ReplaceAllFunc(sums, func(b []byte) []byte {
		if b[0] == '0' {
			return []byte("1")
		}
		return []byte("0")
	})
	tampered := append([]byte(nil), good...)
	tampered[len(tampered)/2] ^= 0xff
	// Sums of a release that has no build for this platform.
	noEntry := regexp.MustCompile(`(?m)  `+regexp.QuoteMeta(asset)+`$`).ReplaceAll(sums, []byte("  sandbox-agent-plan9-amd64"))

	cases := []struct {
		name    string
		replace map[string][]byte
		stderr  string
	}{
		{"corrupted checksum", map[string][]byte{"SHA256SUMS": badSums}, "checksum mismatch"},
		{"tampered binary", map[string][]byte{asset: tampered}, "checksum mismatch"},
		{"truncated binary", map[string][]byte{asset: good[:len(good)/3]}, "checksum mismatch"},
		{"no checksum entry", map[string][]byte{"SHA256SUMS": noEntry}, "no entry for " + asset},
		{"missing SHA256SUMS", map[string][]byte{"SHA256SUMS": nil}, "download failed"},
		{"missing binary", map[string][]byte{asset: nil}, "download failed"},
	}
	root, user := accounts(t)
	accts := []account{user}
	if root != nil {
		accts = append([]account{*root}, user)
	}
	for _, acct := range accts {
		for _, c := range cases {
			for _, existing := range []bool{false, true} {
				name := acct.name + "/" + c.name
				if existing {
					name += "/over an old binary"
				}
				t.Run(name, func(t *testing.T) {
					rs := newReleaseServer(t, dist, c.replace)
					s := newSandbox(t, acct)
					binDir := filepath.Join(s.home, "bin")
					old := []byte("#!/bin/sh\necho old sandbox-agent\n")
					if existing {
						if err := os.Mkdir(binDir, 0o755); err != nil {
							t.Fatal(err)
						}
						os.Chown(binDir, acct.uid, acct.gid)
						if err := os.WriteFile(filepath.Join(binDir, "sandbox-agent"), old, 0o755); err != nil {
							t.Fatal(err)
						}
					}
					r := s.install(rs.URL, s.toolPath(), "SANDBOX_AGENT_BIN_DIR="+binDir)
					if r.err == nil {
						t.Fatalf("install.sh succeeded\n%s", r)
					}
					if !strings.Contains(r.stderr, c.stderr) || !strings.Contains(r.stderr, "error:") {
						t.Errorf("stderr lacks %q\n%s", c.stderr, r)
					}
					if strings.Contains(r.stdout, "installed sandbox-agent") {
						t.Errorf("install.sh claims an install\n%s", r)
					}
					if !existing {
						if _, err := os.Stat(binDir); !os.IsNotExist(err) {
							t.Errorf("install.sh created %s (%v)", binDir, err)
						}
					} else {
						entries, _ := os.ReadDir(binDir)
						got, _ := os.ReadFile(filepath.Join(binDir, "sandbox-agent"))
						if len(entries) != 1 || !bytes.Equal(got, old) {
							t.Errorf("the old binary was touched: dir has %d entries, binary %q", len(entries), got)
						}
					}
					if left := s.tmpLeft(); len(left) > 0 {
						t.Errorf("install.sh left %v in TMPDIR", left)
					}
				})
			}
		}
	}
}

// TestInstallRejectsUnknownPlatform: an OS or CPU without a build fails
// before anything is downloaded, saying why.
func TestInstallRejectsUnknownPlatform(t *testing.T) {
	_, user := accounts(t)
	dist := release(t)
	for _, c := range []struct{ flag, out, stderr string }{
		{"-m", "riscv64", "unsupported CPU architecture riscv64"},
		{"-s", "FreeBSD", "unsupported operating system FreeBSD"},
	} {
		t.Run(c.out, func(t *testing.T) {
			rs := newReleaseServer(t, dist, nil)
			s := newSandbox(t, user)
			tools := s.toolPath("uname")
			real, _ := exec.LookPath("uname")
			fake := fmt.Sprintf("#!/bin/sh\nif [ \"$1\" = %s ]; then echo %s; else exec %s \"$@\"; fi\n", c.flag, c.out, real)
			if err := os.WriteFile(filepath.Join(tools, "uname"), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			r := s.install(rs.URL, tools, "SANDBOX_AGENT_BIN_DIR="+filepath.Join(s.home, "bin"))
			if r.err == nil || !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("want a failure saying %q\n%s", c.stderr, r)
			}
			if p := rs.paths(); len(p) > 0 {
				t.Errorf("install.sh downloaded %v for an unsupported platform", p)
			}
			if left := s.tmpLeft(); len(left) > 0 {
				t.Errorf("install.sh left %v in TMPDIR", left)
			}
		})
	}
}

// TestInstallPicksPlatformBuild: install.sh maps what uname reports to
// the right release file, and verifies it with whichever SHA-256 tool the
// system has (sha256sum on Linux, shasum on macOS, else openssl); the
// macOS cases run under bash --posix, as macOS's /bin/sh does. The
// release served here has a stand-in file per platform, so the macOS and
// arm64 paths of the script run on this Linux machine too.
func TestInstallPicksPlatformBuild(t *testing.T) {
	_, user := accounts(t)
	dist := release(t)
	for _, c := range []struct {
		kernel, machine, asset, hasher string
		rosetta                        bool // an x86_64 shell translated on Apple silicon
	}{
		{"Linux", "x86_64", "sandbox-agent-linux-amd64", "sha256sum", false},
		{"Linux", "aarch64", "sandbox-agent-linux-arm64", "sha256sum", false},
		{"Darwin", "arm64", "sandbox-agent-darwin-arm64", "shasum", false},
		{"Darwin", "x86_64", "sandbox-agent-darwin-amd64", "openssl", false},
		{"Darwin", "x86_64", "sandbox-agent-darwin-arm64", "shasum", true},
	} {
		name := c.asset + "/" + c.hasher
		if c.rosetta {
			name += "/rosetta"
		}
		t.Run(name, func(t *testing.T) {
			stand := []byte("#!/bin/sh\necho stand-in for " + c.asset + "\n")
			sum := sha256.Sum256(stand)
			rs := newReleaseServer(t, dist, map[string][]byte{
				c.asset:      stand,
				"SHA256SUMS": []byte(strings.Repeat("1", 64) + "  sandbox-agent-plan9-amd64\n" + hex.EncodeToString(sum[:]) + "  " + c.asset + "\n"),
			})
			s := newSandbox(t, user)
			if c.kernel == "Darwin" { // macOS's /bin/sh is bash in POSIX mode
				s.shell = []string{mustLookPath(t, "bash"), "--posix"}
			}
			tools := s.toolPath("uname", "sha256sum")
			if c.hasher != "sha256sum" {
				real, err := exec.LookPath(c.hasher)
				if err != nil {
					t.Skipf("%s is not installed", c.hasher)
				}
				if err := os.Symlink(real, filepath.Join(tools, c.hasher)); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Symlink(mustLookPath(t, "sha256sum"), filepath.Join(tools, "sha256sum")); err != nil {
				t.Fatal(err)
			}
			fake := fmt.Sprintf("#!/bin/sh\ncase $1 in -s) echo %s ;; -m) echo %s ;; *) exit 2 ;; esac\n", c.kernel, c.machine)
			if err := os.WriteFile(filepath.Join(tools, "uname"), []byte(fake), 0o755); err != nil {
				t.Fatal(err)
			}
			if c.rosetta {
				sysctl := "#!/bin/sh\n[ \"$2\" = sysctl.proc_translated ] && echo 1\n"
				if err := os.WriteFile(filepath.Join(tools, "sysctl"), []byte(sysctl), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			binDir := filepath.Join(s.home, "bin")
			r := s.install(rs.URL, tools, "SANDBOX_AGENT_BIN_DIR="+binDir)
			if r.err != nil {
				t.Fatalf("install.sh failed\n%s", r)
			}
			if got := rs.paths(); len(got) != 2 || got[0] != "/latest/download/"+c.asset {
				t.Errorf("install.sh fetched %v, want %s first", got, c.asset)
			}
			got, err := os.ReadFile(filepath.Join(binDir, "sandbox-agent"))
			if err != nil || !bytes.Equal(got, stand) {
				t.Errorf("installed %q (%v), want the %s stand-in", got, err, c.asset)
			}
			if !strings.Contains(r.stdout, "verified SHA-256 "+hex.EncodeToString(sum[:])) {
				t.Errorf("install.sh did not report the verified checksum\n%s", r)
			}
		})
	}
}

func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInstallUnwritableBinDir: a non-root user pointing at a directory
// they cannot write gets told so, and nothing is left behind.
func TestInstallUnwritableBinDir(t *testing.T) {
	root, user := accounts(t)
	if root == nil {
		t.Skip("needs root to make a directory the test user cannot write")
	}
	dist := release(t)
	rs := newReleaseServer(t, dist, nil)
	s := newSandbox(t, user)
	locked := filepath.Join(s.base, "locked")
	if err := os.Mkdir(locked, 0o755); err != nil { // owned by root
		t.Fatal(err)
	}
	r := s.install(rs.URL, s.toolPath(), "SANDBOX_AGENT_BIN_DIR="+locked)
	if r.err == nil || !strings.Contains(r.stderr, "cannot write to "+locked) {
		t.Errorf("want a failure saying it cannot write to %s\n%s", locked, r)
	}
	if entries, _ := os.ReadDir(locked); len(entries) > 0 {
		t.Errorf("%s holds %d entries", locked, len(entries))
	}
	if left := s.tmpLeft(); len(left) > 0 {
		t.Errorf("install.sh left %v in TMPDIR", left)
	}
}

// TestInstallUnderBusybox: an Alpine-like system where the shell and every
// tool (wget included, no curl) are busybox applets.
func TestInstallUnderBusybox(t *testing.T) {
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("busybox is needed for this test (apt-get install busybox)")
		}
		t.Skip("busybox is not installed")
	}
	_, user := accounts(t)
	dist := release(t)
	rs := newReleaseServer(t, dist, nil)
	s := newSandbox(t, user)
	s.shell = []string{busybox, "sh"}
	tools := filepath.Join(s.base, "busybox")
	if err := os.Mkdir(tools, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range scriptTools {
		if tool == "curl" {
			continue
		}
		if err := os.Symlink(busybox, filepath.Join(tools, tool)); err != nil {
			t.Fatal(err)
		}
	}
	binDir := filepath.Join(s.home, "bin")
	r := s.install(rs.URL, tools, "SANDBOX_AGENT_BIN_DIR="+binDir)
	if r.err != nil {
		t.Fatalf("install.sh failed under busybox\n%s", r)
	}
	bin := filepath.Join(binDir, "sandbox-agent")
	if !strings.Contains(r.stdout, "installed sandbox-agent "+testVersion) {
		t.Errorf("install.sh output lacks the installed version\n%s", r)
	}
	s.checkInstalled(bin, hostAsset())

	// The same system refuses a corrupted checksum.
	bad := newReleaseServer(t, dist, map[string][]byte{"SHA256SUMS": []byte(strings.Repeat("0", 64) + "  " + hostAsset() + "\n")})
	s2 := newSandbox(t, user)
	s2.shell = s.shell
	r = s2.install(bad.URL, tools, "SANDBOX_AGENT_BIN_DIR="+filepath.Join(s2.home, "bin"))
	if r.err == nil || !strings.Contains(r.stderr, "checksum mismatch") {
		t.Errorf("want a checksum mismatch under busybox\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(s2.home, "bin")); !os.IsNotExist(err) {
		t.Errorf("a failed install created the bin dir (%v)", err)
	}
	if left := s2.tmpLeft(); len(left) > 0 {
		t.Errorf("install.sh left %v in TMPDIR", left)
	}
}
