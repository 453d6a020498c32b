package release_test

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const modulePath = "github.com/sandbox-agent/sandbox-agent"

// TestGoInstallLatest runs the README's
// `go install github.com/sandbox-agent/sandbox-agent/cmd/sandbox-agent@latest`
// against a module proxy on disk that serves this tree as the latest
// version, the way the Go proxy would serve a tagged commit: only tracked
// files, no replace directives honoured, nothing generated beforehand. It
// fails when the module cannot be installed that way (a replace directive,
// an embedded file that is not committed, a wrong module path).
//
// Offline: dependencies come from the local module cache's download
// directory, which `go mod download` (run by .ci/run) fills.
func TestGoInstallLatest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole binary from a module zip")
	}
	root := repoRoot(t)
	const version = "v0.99.0"
	proxy := t.TempDir()
	modDir := filepath.Join(proxy, filepath.FromSlash(modulePath), "@v")
	if err := os.MkdirAll(modDir, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"list":            version + "\n",
		version + ".info": fmt.Sprintf(`{"Version":%q,"Time":"2026-01-02T03:04:05Z"}`, version),
		version + ".mod":  string(gomod),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(modDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeModuleZip(t, root, filepath.Join(modDir, version+".zip"), modulePath+"@"+version)

	goEnv := func(key string) string {
		out, err := exec.Command("go", "env", key).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	cacheProxy := filepath.Join(goEnv("GOMODCACHE"), "cache", "download")
	gobin := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", modulePath+"/cmd/sandbox-agent@latest")
	cmd.Dir = t.TempDir() // outside any module, as a user would be
	cmd.Env = append(os.Environ(),
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(cacheProxy),
		"GOMODCACHE="+t.TempDir(),
		"GOFLAGS=-modcacherw -buildvcs=false -trimpath", // -trimpath: the build cache serves reruns
		"GOSUMDB=off", // the fake version has no checksum-database entry
		"GOBIN="+gobin,
		"CGO_ENABLED=0",
		"GOWORK=off",
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install …@latest: %v\n%s", err, out)
	}
	bin := filepath.Join(gobin, "sandbox-agent")
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if bi.Main.Path != modulePath || bi.Main.Version != version {
		t.Errorf("installed binary is %s@%s, want %s@%s", bi.Main.Path, bi.Main.Version, modulePath, version)
	}
	// Nothing stamped it: `version` is the module version it was installed at.
	out, err := exec.Command(bin, "version", "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version --json: %v\n%s", bin, err, out)
	}
	var info struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(out, &info); err != nil || info.Version != version {
		t.Errorf("version --json = %s (%v), want version %s", out, err, version)
	}
}

// writeModuleZip writes the module zip the Go proxy would serve for this
// tree: tracked files (as they are on disk) under prefix, without nested
// modules.
func writeModuleZip(t *testing.T, root, dst, prefix string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	names := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	var nested []string // directories holding another module
	for _, n := range names {
		if path.Base(n) == "go.mod" && n != "go.mod" {
			nested = append(nested, path.Dir(n)+"/")
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	count := 0
next:
	for _, n := range names {
		for _, dir := range nested {
			if strings.HasPrefix(n, dir) {
				continue next
			}
		}
		fi, err := os.Lstat(filepath.Join(root, n))
		if err != nil || !fi.Mode().IsRegular() { // deleted in the work tree, or a symlink
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, n))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(prefix + "/" + n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		count++
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if count == 0 {
		t.Fatal("no files for the module zip")
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
