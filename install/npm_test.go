package install

import (
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRegistry is a minimal npm registry: package documents and tarballs.
type fakeRegistry struct {
	*fakeHost
	srv  *httptest.Server
	docs map[string]map[string]any
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	t.Helper()
	h := newFakeHost()
	r := &fakeRegistry{fakeHost: h, srv: httptest.NewServer(h), docs: map[string]map[string]any{}}
	t.Cleanup(r.srv.Close)
	return r
}

func tarballPath(name, version string) string {
	return "/" + name + "/-/" + path.Base(name) + "-" + version + ".tgz"
}

// publish adds name@version with the given manifest fields and package
// files (paths relative to the package root).
func (r *fakeRegistry) publish(t *testing.T, name, version string, man map[string]any, files map[string]entry, latest bool) {
	t.Helper()
	members := map[string]entry{"package/package.json": {body: []byte(`{"name":"` + name + `"}`)}}
	for p, e := range files {
		members["package/"+p] = e
	}
	tgz := tarGz(t, members)
	tp := tarballPath(name, version)
	r.set(tp, tgz)
	s512 := sha512.Sum512(tgz)
	s1 := sha1.Sum(tgz)
	if man == nil {
		man = map[string]any{}
	}
	man["name"], man["version"] = name, version
	man["dist"] = map[string]any{
		"tarball":   r.srv.URL + tp,
		"integrity": "sha512-" + base64.StdEncoding.EncodeToString(s512[:]),
		"shasum":    hex.EncodeToString(s1[:]),
	}
	doc := r.docs[name]
	if doc == nil {
		doc = map[string]any{"name": name, "dist-tags": map[string]any{}, "versions": map[string]any{}}
		r.docs[name] = doc
	}
	doc["versions"].(map[string]any)[version] = man
	if latest {
		doc["dist-tags"].(map[string]any)["latest"] = version
	}
	r.sync(t, name)
}

func (r *fakeRegistry) sync(t *testing.T, name string) {
	b, err := json.Marshal(r.docs[name])
	if err != nil {
		t.Fatal(err)
	}
	r.set("/"+escapePkg(name), b)
}

func (r *fakeRegistry) manifest(name, version string) map[string]any {
	return r.docs[name]["versions"].(map[string]any)[version].(map[string]any)
}

// publishNative publishes a platform package holding one executable at
// binRel and a main package (latest) that lists it.
func (r *fakeRegistry) publishNative(t *testing.T, main, version, platPkg, binRel string, body []byte) {
	t.Helper()
	r.publish(t, platPkg, version, map[string]any{"os": []string{"linux"}, "cpu": []string{"x64"}},
		map[string]entry{binRel: {body: body, mode: 0o755}}, true)
	r.publish(t, main, version, map[string]any{
		"bin":                  map[string]string{path.Base(binRel): "bin/stub.exe"},
		"engines":              map[string]string{"node": ">=99"}, // must not matter for a native binary
		"optionalDependencies": map[string]string{platPkg: version},
		"scripts":              map[string]string{"postinstall": "node install.cjs"},
	}, map[string]entry{"bin/stub.exe": {body: brokenBin, mode: 0o755}}, true)
}

func (r *fakeRegistry) manager(t *testing.T) *Manager {
	return newTestManager(t, Config{NPMRegistry: r.srv.URL})
}

func TestNPMNativeSingleBinary(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.publishNative(t, "@anthropic-ai/claude-code", "2.1.300", "@anthropic-ai/claude-code-linux-x64", "claude", fakeBin("2.1.300"))
	reg.publish(t, "@anthropic-ai/claude-code-linux-x64-musl", "2.1.300", nil, map[string]entry{"claude": {body: fakeBin("musl"), mode: 0o755}}, true)
	reg.manifest("@anthropic-ai/claude-code", "2.1.300")["optionalDependencies"].(map[string]string)["@anthropic-ai/claude-code-linux-x64-musl"] = "2.1.300"
	reg.sync(t, "@anthropic-ai/claude-code")

	m := reg.manager(t)
	ctx := context.Background()
	res, err := m.Install(ctx, "claude", Options{Source: SourceNPM})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "2.1.300" || res.Source != SourceNPM || res.Path != filepath.Join(m.Dir(), "claude") || !res.Installed {
		t.Fatalf("result %+v", res)
	}
	if v, _ := Version(ctx, res.Path); v != "2.1.300" {
		t.Fatalf("version %q", v)
	}
	// Reinstall comes from the cache, verified again.
	if _, err := m.Install(ctx, "claude", Options{Source: SourceNPM, Reinstall: true}); err != nil {
		t.Fatal(err)
	}
	if n := reg.count(tarballPath("@anthropic-ai/claude-code-linux-x64", "2.1.300")); n != 1 {
		t.Errorf("tarball fetched %d times", n)
	}
	if l := leftovers(t, m.Dir()); len(l) != 1 {
		t.Errorf("install dir holds %v", l)
	}

	// On musl the musl package is chosen.
	mm := reg.manager(t)
	musl := testPlat
	musl.Musl = true
	setPlat(mm, musl)
	res, err = mm.Install(ctx, "claude", Options{Source: SourceNPM})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := Version(ctx, res.Path); v != "musl" {
		t.Fatalf("musl install runs %q", v)
	}
}

func TestNPMCodexPackageTree(t *testing.T) {
	reg := newFakeRegistry(t)
	const triple = "vendor/x86_64-unknown-linux-musl/"
	// The platform build is an alias: another version of @openai/codex.
	reg.publish(t, "@openai/codex", "0.5.0-linux-x64", nil, map[string]entry{
		triple + "bin/codex":                    {body: []byte("#!/bin/sh\nd=$(dirname \"$(readlink -f \"$0\")\")\ncat \"$d/../codex-resources/version.txt\"\n"), mode: 0o755},
		triple + "codex-resources/version.txt":  {body: []byte("codex-cli 0.5.0\n")},
		triple + "codex-path/rg":                {body: []byte("#!/bin/sh\n"), mode: 0o755},
		triple + "codex-path/grep":              {link: "rg"},
		"vendor/aarch64-apple-darwin/bin/codex": {body: []byte("not for us")},
	}, false)
	reg.publish(t, "@openai/codex", "0.5.0", map[string]any{
		"bin":                  map[string]string{"codex": "bin/codex.js"},
		"optionalDependencies": map[string]string{"@openai/codex-linux-x64": "npm:@openai/codex@0.5.0-linux-x64"},
	}, map[string]entry{"bin/codex.js": {body: []byte("// wrapper")}}, true)
	// A newer pre-release must not be picked for "latest".
	reg.publish(t, "@openai/codex", "0.6.0-alpha.1", nil, nil, false)

	m := reg.manager(t)
	ctx := context.Background()
	res, err := m.Install(ctx, "codex", Options{Source: SourceNPM})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "0.5.0" {
		t.Fatalf("result %+v", res)
	}
	link, err := os.Readlink(res.Path)
	if err != nil || link != filepath.Join("codex-pkg", "0.5.0", "bin", "codex") {
		t.Fatalf("link %q, %v", link, err)
	}
	if v, err := Version(ctx, res.Path); v != "codex-cli 0.5.0" {
		t.Fatalf("version %q, %v", v, err)
	}
	for _, p := range []string{"codex-path/rg", "codex-path/grep"} {
		if _, err := os.Stat(filepath.Join(m.Dir(), "codex-pkg", "0.5.0", p)); err != nil {
			t.Errorf("sidecar missing: %v", err)
		}
	}
	filepath.Walk(filepath.Join(m.Dir(), "codex-pkg"), func(p string, _ os.FileInfo, err error) error {
		if err == nil && strings.Contains(p, "aarch64-apple-darwin") {
			t.Errorf("other platforms unpacked: %s", p)
		}
		return nil
	})
	st, _ := os.Stat(filepath.Join(m.Dir(), "codex-pkg", "0.5.0"))
	if st.Mode().Perm() != 0o755 {
		t.Errorf("package dir mode %v", st.Mode())
	}
	// Pinning with the release tag spelling works too.
	if _, err := m.Install(ctx, "codex", Options{Source: SourceNPM, Version: "rust-v0.5.0", Reinstall: true}); err != nil {
		t.Fatal(err)
	}
	if l, _ := os.ReadDir(filepath.Join(m.Dir(), "codex-pkg")); len(l) != 1 {
		t.Errorf("codex-pkg holds %d entries after reinstall", len(l))
	}
}

func TestNPMMissingPlatformPackageWalksBack(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.publishNative(t, "@ampcode/cli", "0.0.100-gaaa", "@ampcode/cli-linux-x64", "amp", fakeBin("0.0.100-gaaa"))
	reg.publishNative(t, "@ampcode/cli", "0.0.200-gbbb", "@ampcode/cli-linux-x64", "amp", fakeBin("0.0.200-gbbb"))
	// Newest: the platform package at that version was never published.
	reg.publish(t, "@ampcode/cli", "0.0.300-gccc", map[string]any{
		"optionalDependencies": map[string]string{"@ampcode/cli-linux-x64": "0.0.300-gccc", "@ampcode/cli-darwin-arm64": "0.0.300-gccc"},
	}, nil, true)

	m := reg.manager(t)
	res, err := m.Install(context.Background(), "amp", Options{Source: SourceNPM})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "0.0.200-gbbb" {
		t.Fatalf("installed %q, want the newest version with a platform package", res.Version)
	}
	// Pinned to the broken version: a clear error.
	_, err = m.Install(context.Background(), "amp", Options{Source: SourceNPM, Version: "0.0.300-gccc"})
	e := asError(t, err)
	if !strings.Contains(e.Reason, "@ampcode/cli-linux-x64@0.0.300-gccc") || !strings.Contains(e.Reason, "not published") {
		t.Fatalf("got %v", err)
	}
	// An unknown pinned version names the latest.
	_, err = m.Install(context.Background(), "amp", Options{Source: SourceNPM, Version: "1.0.0"})
	if e := asError(t, err); !strings.Contains(e.Reason, "latest is 0.0.300-gccc") {
		t.Fatalf("got %v", err)
	}
	if !errors.Is(err, ErrVersionNotFound) {
		t.Fatalf("an unknown version is not ErrVersionNotFound: %v", err)
	}
}

func TestNPMBadIntegrity(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.publishNative(t, "opencode-ai", "1.0.0", "opencode-linux-x64", "bin/opencode", fakeBin("1.0.0"))
	bad := sha512.Sum512([]byte("something else"))
	reg.manifest("opencode-linux-x64", "1.0.0")["dist"].(map[string]any)["integrity"] = "sha512-" + base64.StdEncoding.EncodeToString(bad[:])
	reg.sync(t, "opencode-linux-x64")

	m := reg.manager(t)
	_, err := m.Install(context.Background(), "opencode", Options{Source: SourceNPM})
	e := asError(t, err)
	if e.URL != reg.srv.URL+tarballPath("opencode-linux-x64", "1.0.0") || !strings.Contains(e.Reason, "integrity check failed") {
		t.Fatalf("got %v", err)
	}
	if n := reg.count(tarballPath("opencode-linux-x64", "1.0.0")); n != 1 {
		t.Errorf("bad tarball fetched %d times; an integrity failure is not retried", n)
	}
	if l := leftovers(t, m.Dir()); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
	if l := leftovers(t, m.cacheDir); len(l) != 0 {
		t.Errorf("cache holds %v", l)
	}

	// With only a sha1 shasum (old packages) the check still happens.
	man := reg.manifest("opencode-linux-x64", "1.0.0")["dist"].(map[string]any)
	delete(man, "integrity")
	man["shasum"] = strings.Repeat("0", 40)
	reg.sync(t, "opencode-linux-x64")
	_, err = m.Install(context.Background(), "opencode", Options{Source: SourceNPM})
	if e := asError(t, err); !strings.Contains(e.Reason, "sha1 mismatch") {
		t.Fatalf("got %v", err)
	}
}

func TestNPMCachedTarballIsReverified(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.publishNative(t, "@ampcode/cli", "0.0.1-ga", "@ampcode/cli-linux-x64", "amp", fakeBin("0.0.1-ga"))
	m := reg.manager(t)
	if _, err := m.Install(context.Background(), "amp", Options{Source: SourceNPM}); err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(m.cacheDir, "npm-*.tgz"))
	if len(entries) != 1 {
		t.Fatalf("cache entries %v", entries)
	}
	os.WriteFile(entries[0], []byte("corrupted"), 0o644)
	if _, err := m.Install(context.Background(), "amp", Options{Source: SourceNPM, Reinstall: true}); err != nil {
		t.Fatal(err)
	}
	if n := reg.count(tarballPath("@ampcode/cli-linux-x64", "0.0.1-ga")); n != 2 {
		t.Errorf("tarball fetched %d times, want a refetch after corruption", n)
	}
}

func TestNPMOpencodeTriesNextPlatformPackage(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.publish(t, "opencode-linux-x64", "1.1.0", nil, map[string]entry{"bin/opencode": {body: brokenBin, mode: 0o755}}, true)
	reg.publish(t, "opencode-linux-x64-baseline", "1.1.0", nil, map[string]entry{"bin/opencode": {body: fakeBin("1.1.0"), mode: 0o755}}, true)
	reg.publish(t, "opencode-ai", "1.1.0", map[string]any{"optionalDependencies": map[string]string{
		"opencode-linux-x64": "1.1.0", "opencode-linux-x64-baseline": "1.1.0", "opencode-linux-x64-musl": "1.1.0",
	}}, nil, true)
	m := reg.manager(t)
	res, err := m.Install(context.Background(), "opencode", Options{Source: SourceNPM})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := Version(context.Background(), res.Path); v != "1.1.0" {
		t.Fatalf("version %q", v)
	}
	if reg.count(tarballPath("opencode-linux-x64", "1.1.0")) != 1 || reg.count(tarballPath("opencode-linux-x64-baseline", "1.1.0")) != 1 {
		t.Error("expected the AVX2 build first, then the baseline build")
	}
}

func TestNPMNoBuildForPlatform(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.publishNative(t, "@ampcode/cli", "0.0.1-ga", "@ampcode/cli-linux-x64", "amp", fakeBin("0.0.1-ga"))
	m := reg.manager(t)
	arm := testPlat
	arm.Arch = "arm64"
	setPlat(m, arm)
	_, err := m.Install(context.Background(), "amp", Options{Source: SourceNPM})
	if e := asError(t, err); !strings.Contains(e.Reason, "no native amp build for linux-arm64") {
		t.Fatalf("got %v", err)
	}
}

func TestNPMJavaScriptProgram(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not on PATH")
	}
	reg := newFakeRegistry(t)
	for _, v := range []string{"1.1.0", "1.2.0", "2.0.0"} {
		reg.publish(t, "left-pad", v, map[string]any{"main": "index.js", "dependencies": map[string]string{"tiny-dep": "*"}},
			map[string]entry{"index.js": {body: []byte(`module.exports = () => "left-pad ` + v + ` " + require("tiny-dep");`)}}, true)
	}
	reg.publish(t, "tiny-dep", "1.0.0", map[string]any{"main": "index.js", "dependencies": map[string]string{"left-pad": "^2.0.0"}},
		map[string]entry{"index.js": {body: []byte(`module.exports = "tiny";`)}}, true)
	cli := `#!/usr/bin/env node
if (process.argv[2] === "--version") { console.log("0.9.0 (Claude Code) " + require("left-pad")()); }`
	reg.publish(t, "@anthropic-ai/claude-code", "0.9.0", map[string]any{
		"bin":                  map[string]string{"claude": "cli.js"},
		"engines":              map[string]string{"node": ">=18.0.0"},
		"dependencies":         map[string]string{"left-pad": "^1.1.0"},
		"optionalDependencies": map[string]string{"@img/sharp-linux-x64": "^0.33.5"},
	}, map[string]entry{"cli.js": {body: []byte(cli), mode: 0o755}}, true)
	// A newer version needs a node from the future: unpinned installs skip it.
	reg.publish(t, "@anthropic-ai/claude-code", "0.9.1", map[string]any{
		"bin": map[string]string{"claude": "cli.js"}, "engines": map[string]string{"node": ">=99"},
	}, map[string]entry{"cli.js": {body: []byte(cli), mode: 0o755}}, true)

	m := reg.manager(t)
	ctx := context.Background()
	res, err := m.Install(ctx, "claude", Options{Source: SourceNPM})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "0.9.0" {
		t.Fatalf("result %+v", res)
	}
	v, err := Version(ctx, res.Path)
	if err != nil || v != "0.9.0" {
		t.Fatalf("version %q, %v", v, err)
	}
	out, err := exec.Command(res.Path, "--version").Output()
	if err != nil || !strings.Contains(string(out), "left-pad 1.2.0 tiny") {
		t.Fatalf("launcher output %q, %v", out, err)
	}
	// left-pad 1.2.0 needs tiny-dep, which wants left-pad 2: it gets its
	// own nested copy, and no further tiny-dep (found up the tree).
	nested := filepath.Join(m.Dir(), "claude-pkg", "0.9.0", "lib", "node_modules", "left-pad", "node_modules", "tiny-dep", "node_modules", "left-pad", "index.js")
	if _, err := os.Stat(filepath.Join(filepath.Dir(nested), "node_modules")); err == nil {
		t.Error("cycle installed twice")
	}
	if b, err := os.ReadFile(nested); err != nil || !strings.Contains(string(b), "2.0.0") {
		t.Fatalf("nested dependency: %q, %v", b, err)
	}
	// Pinned to the version whose engines this node does not meet.
	_, err = m.Install(ctx, "claude", Options{Source: SourceNPM, Version: "0.9.1"})
	if e := asError(t, err); !strings.Contains(e.Reason, "needs node >=99") {
		t.Fatalf("got %v", err)
	}
}

func TestNPMRCRegistryAndAuth(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.publishNative(t, "@ampcode/cli", "0.0.1-ga", "@ampcode/cli-linux-x64", "amp", fakeBin("0.0.1-ga"))
	rc := filepath.Join(t.TempDir(), "npmrc")
	host := strings.TrimPrefix(reg.srv.URL, "http:")
	os.WriteFile(rc, []byte("; comment\n@ampcode:registry="+reg.srv.URL+"/\n"+host+"/:_authToken=${TEST_NPM_TOKEN}\n"), 0o644)
	t.Setenv("NPM_CONFIG_USERCONFIG", rc)
	t.Setenv("TEST_NPM_TOKEN", "s3cret")
	t.Setenv("NPM_CONFIG_REGISTRY", "")
	t.Setenv("npm_config_registry", "")

	m := New(Config{Dir: t.TempDir(), CacheDir: "off"})
	setPlat(m, testPlat)
	if got := m.registryFor("@ampcode/cli"); got != reg.srv.URL+"/" {
		t.Fatalf("registry for @ampcode = %q", got)
	}
	if got := m.registryFor("opencode-ai"); got != publicRegistry {
		t.Fatalf("default registry = %q", got)
	}
	if _, err := m.Install(context.Background(), "amp", Options{Source: SourceNPM}); err != nil {
		t.Fatal(err)
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	for _, p := range []string{"/" + escapePkg("@ampcode/cli"), tarballPath("@ampcode/cli-linux-x64", "0.0.1-ga")} {
		if reg.auth[p] != "Bearer s3cret" {
			t.Errorf("%s sent Authorization %q", p, reg.auth[p])
		}
	}
}

func TestNPMConfigPrecedence(t *testing.T) {
	rc := filepath.Join(t.TempDir(), "npmrc")
	os.WriteFile(rc, []byte("registry=https://from-file.example/\n"), 0o644)
	t.Setenv("NPM_CONFIG_USERCONFIG", rc)
	t.Setenv("npm_config_registry", "")
	t.Setenv("NPM_CONFIG_REGISTRY", "https://from-env.example/")
	if got := loadNPMConfig().registry(""); got != "https://from-env.example/" {
		t.Errorf("env should win, got %q", got)
	}
	t.Setenv("NPM_CONFIG_REGISTRY", "")
	if got := loadNPMConfig().registry(""); got != "https://from-file.example/" {
		t.Errorf("file registry, got %q", got)
	}
}

func TestParseSRIAndVersions(t *testing.T) {
	if _, ok := parseSRI("md5-abc"); ok {
		t.Error("md5 accepted")
	}
	s := sha512.Sum512([]byte("x"))
	d, ok := parseSRI("sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA= sha512-" + base64.StdEncoding.EncodeToString(s[:]))
	if !ok || d.algo != "sha512" {
		t.Errorf("strongest hash not chosen: %v", d)
	}
	for _, c := range []struct {
		detected, want string
		ok             bool
	}{
		{"codex-cli 0.171.0", "0.171.0", true},
		{"codex-cli 0.171.0", "rust-v0.171.0", true},
		{"2.1.332 (Claude Code)", "2.1.332", true},
		{"1.18.33", "v1.18.33", true},
		{"1.18.33", "1.18.3", false},
		{"", "", false},
	} {
		if got := VersionMatches(c.detected, c.want); got != c.ok {
			t.Errorf("VersionMatches(%q, %q) = %v", c.detected, c.want, got)
		}
	}
	if n, v := parseAlias("@openai/codex-linux-x64", "npm:@openai/codex@0.171.0-linux-x64"); n != "@openai/codex" || v != "0.171.0-linux-x64" {
		t.Errorf("alias parsed as %s %s", n, v)
	}
}

func TestExtractRefusesEscapes(t *testing.T) {
	dir := t.TempDir()
	tgz := filepath.Join(dir, "a.tgz")
	os.WriteFile(tgz, tarGz(t, map[string]entry{"package/link": {link: "../../../etc/passwd"}}), 0o644)
	_, err := unpackTarGz(tgz, filepath.Join(dir, "out"), func(m string) (string, bool) { return stripTop(m), true })
	if err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("escaping symlink accepted: %v", err)
	}
	os.WriteFile(tgz, tarGz(t, map[string]entry{"package/../../x": {body: []byte("x")}}), 0o644)
	_, err = unpackTarGz(tgz, filepath.Join(dir, "out"), func(m string) (string, bool) { return "../x", true })
	if err == nil {
		t.Fatal("escaping path accepted")
	}
}
