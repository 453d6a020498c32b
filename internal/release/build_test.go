package release_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// What the test release is stamped with; install tests look for them in
// the installed binary.
const (
	testVersion = "v0.0.0-releasetest"
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
	testDate    = "2026-01-02T03:04:05Z"
)

var allPlatforms = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"}

// platforms is what this run builds: the host, unless
// SANDBOX_AGENT_RELEASE_PLATFORMS says otherwise.
func platforms() []string {
	switch v := strings.TrimSpace(os.Getenv("SANDBOX_AGENT_RELEASE_PLATFORMS")); v {
	case "":
		return []string{runtime.GOOS + "/" + runtime.GOARCH}
	case "all":
		return allPlatforms
	default:
		return strings.Fields(v)
	}
}

var (
	buildOnce sync.Once
	distDir   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if distDir != "" {
		os.RemoveAll(distDir)
	}
	os.Exit(code)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// release builds the artefacts once per test binary with the same script
// `make release` runs, and returns the directory holding them.
func release(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	buildOnce.Do(func() {
		distDir, buildErr = os.MkdirTemp("", "sandbox-agent-dist-")
		if buildErr != nil {
			return
		}
		// The install tests run as another user too: let it read the files.
		if buildErr = os.Chmod(distDir, 0o755); buildErr != nil {
			return
		}
		cmd := exec.Command("sh", filepath.Join(root, "scripts", "release.sh"))
		cmd.Dir = root
		cmd.Env = append(os.Environ(),
			"DIST="+distDir, "PLATFORMS="+strings.Join(platforms(), " "),
			"VERSION="+testVersion, "COMMIT="+testCommit, "DATE="+testDate)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("scripts/release.sh: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return distDir
}

func assetName(platform string) string {
	return "sandbox-agent-" + strings.ReplaceAll(platform, "/", "-")
}

// readSums parses SHA256SUMS ("<hex>  <name>" lines).
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("SHA256SUMS: malformed line %q", sc.Text())
		}
		if _, dup := sums[name]; dup {
			t.Fatalf("SHA256SUMS lists %s twice", name)
		}
		sums[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sums
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestReleaseArtefacts checks what `make release` produces: one binary per
// platform, each listed with its true SHA-256, built for the right OS and
// CPU, without cgo, statically linked (Linux), stamped with version, commit
// and date; plus install.sh beside them.
func TestReleaseArtefacts(t *testing.T) {
	dist := release(t)
	plats := platforms()

	sums := readSums(t, filepath.Join(dist, "SHA256SUMS"))
	var want []string
	for _, p := range plats {
		want = append(want, assetName(p))
	}
	var listed []string
	for name := range sums {
		listed = append(listed, name)
	}
	slices.Sort(want)
	slices.Sort(listed)
	if !slices.Equal(listed, want) {
		t.Fatalf("SHA256SUMS lists %v, want %v", listed, want)
	}

	for _, p := range plats {
		name := assetName(p)
		path := filepath.Join(dist, name)
		t.Run(name, func(t *testing.T) {
			if got := fileSHA256(t, path); got != sums[name] {
				t.Errorf("SHA256SUMS says %s, file is %s", sums[name], got)
			}
			goos, goarch, _ := strings.Cut(p, "/")
			checkBuildInfo(t, path, goos, goarch)
			switch goos {
			case "linux":
				checkStaticELF(t, path, goarch)
			case "darwin":
				checkMachO(t, path, goarch)
			}
		})
	}

	script, err := os.ReadFile(filepath.Join(repoRoot(t), "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile(filepath.Join(dist, "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(script, shipped) {
		t.Error("dist/install.sh differs from install.sh")
	}

	host := filepath.Join(dist, assetName(runtime.GOOS+"/"+runtime.GOARCH))
	if _, err := os.Stat(host); err == nil {
		out, err := exec.Command(host, "--version").CombinedOutput()
		if err != nil || !strings.Contains(string(out), testVersion) {
			t.Errorf("%s --version = %q (%v), want it to name %s", host, out, err, testVersion)
		}
		out, err = exec.Command(host, "version", "--json").Output()
		var v struct{ Version, Commit, Date, Platform string }
		if err != nil || json.Unmarshal(out, &v) != nil {
			t.Fatalf("%s version --json = %q (%v)", host, out, err)
		}
		if want := (struct{ Version, Commit, Date, Platform string }{testVersion, testCommit, testDate, runtime.GOOS + "/" + runtime.GOARCH}); v != want {
			t.Errorf("version --json = %+v, want %+v", v, want)
		}
	}
}

// checkBuildInfo reads the settings the Go toolchain records in every
// binary (the target, cgo off, -trimpath) and looks for the -X stamps.
func checkBuildInfo(t *testing.T, path, goos, goarch string) {
	t.Helper()
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("build info: %v", err)
	}
	if bi.Path != "github.com/sandbox-agent/sandbox-agent/cmd/sandbox-agent" {
		t.Errorf("main package %q", bi.Path)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for k, v := range map[string]string{"GOOS": goos, "GOARCH": goarch, "CGO_ENABLED": "0", "-trimpath": "true"} {
		if settings[k] != v {
			t.Errorf("build setting %s = %q, want %q", k, settings[k], v)
		}
	}
	// -trimpath keeps -ldflags out of the build info, so look for the
	// stamped values themselves: the linker writes them only into
	// variables that exist.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stamp := range []string{testVersion, testCommit, testDate} {
		if !bytes.Contains(b, []byte(stamp)) {
			t.Errorf("binary does not contain the stamp %q", stamp)
		}
	}
}

func checkStaticELF(t *testing.T, path, goarch string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
	if f.Machine != machine {
		t.Errorf("ELF machine %v, want %v", f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("ELF has a %v program header: not statically linked", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("ELF needs shared libraries %v", libs)
	}
}

func checkMachO(t *testing.T, path, goarch string) {
	t.Helper()
	f, err := macho.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cpu := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
	if f.Cpu != cpu {
		t.Errorf("Mach-O CPU %v, want %v", f.Cpu, cpu)
	}
	// Without cgo, Go links macOS binaries only against the OS's own
	// libraries (libSystem, libresolv, frameworks): anything else would be a
	// C dependency that a user's Mac may lack.
	libs, _ := f.ImportedLibraries()
	for _, l := range libs {
		if !strings.HasPrefix(l, "/usr/lib/") && !strings.HasPrefix(l, "/System/Library/Frameworks/") {
			t.Errorf("Mach-O links %s", l)
		}
	}
}
