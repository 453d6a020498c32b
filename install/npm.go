package install

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// The abbreviated ("corgi") document is a fraction of the full one and has
// everything needed: dist-tags, versions with dependencies, bin, engines,
// dist.
const npmAccept = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"

// maxWalkBack bounds how many older versions are examined when the newest
// one has no platform package.
const maxWalkBack = 50

type packument struct {
	Name     string                     `json:"name"`
	DistTags map[string]string          `json:"dist-tags"`
	Versions map[string]json.RawMessage `json:"versions"`
	url      string
}

// npmManifest is one version of a package. Fields whose JSON type varies
// across the registry's history stay raw and are decoded leniently.
type npmManifest struct {
	Name                 string          `json:"name"`
	Version              string          `json:"version"`
	Bin                  json.RawMessage `json:"bin"`
	Engines              json.RawMessage `json:"engines"`
	Dependencies         json.RawMessage `json:"dependencies"`
	OptionalDependencies json.RawMessage `json:"optionalDependencies"`
	Deprecated           json.RawMessage `json:"deprecated"`
	Dist                 struct {
		Tarball   string `json:"tarball"`
		Integrity string `json:"integrity"`
		Shasum    string `json:"shasum"`
	} `json:"dist"`
}

func (p *packument) manifest(v string) (*npmManifest, error) {
	raw, ok := p.Versions[v]
	if !ok {
		return nil, fmt.Errorf("%s@%s is not in the registry", p.Name, v)
	}
	var m npmManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("bad metadata for %s@%s: %w", p.Name, v, err)
	}
	if m.Name == "" {
		m.Name = p.Name
	}
	if m.Version == "" {
		m.Version = v
	}
	return &m, nil
}

func stringMap(raw json.RawMessage) map[string]string {
	var m map[string]string
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

func (m *npmManifest) deps() map[string]string         { return stringMap(m.Dependencies) }
func (m *npmManifest) optionalDeps() map[string]string { return stringMap(m.OptionalDependencies) }

func (m *npmManifest) deprecated() bool {
	var s string
	if json.Unmarshal(m.Deprecated, &s) == nil {
		return s != ""
	}
	var b bool
	return json.Unmarshal(m.Deprecated, &b) == nil && b
}

func (m *npmManifest) nodeEngine() string {
	return stringMap(m.Engines)["node"]
}

// binPath returns the file the package runs for command name.
func (m *npmManifest) binPath(name string) string {
	var s string
	if json.Unmarshal(m.Bin, &s) == nil && s != "" {
		base := m.Name
		if i := strings.LastIndex(base, "/"); i >= 0 {
			base = base[i+1:]
		}
		if base == name {
			return s
		}
		return ""
	}
	return stringMap(m.Bin)[name]
}

// npmRun is the state of one npm install: documents are fetched once.
type npmRun struct {
	ins  *installer
	docs map[string]*packument
}

func (m *Manager) registryFor(pkg string) string {
	r := m.registry
	if r == "" {
		scope := ""
		if strings.HasPrefix(pkg, "@") {
			scope, _, _ = strings.Cut(pkg, "/")
		}
		r = m.npmrc().registry(scope)
	}
	return strings.TrimRight(r, "/") + "/"
}

func escapePkg(name string) string { return strings.Replace(name, "/", "%2f", 1) }

// docURL is the URL of pkg's registry document.
func (m *Manager) docURL(pkg string) string { return m.registryFor(pkg) + escapePkg(pkg) }

// packument fetches a package document; a missing package yields an error
// satisfying isNotFound.
func (n *npmRun) packument(ctx context.Context, name string) (*packument, error) {
	if d, ok := n.docs[name]; ok {
		return d, nil
	}
	m := n.ins.m
	url := m.docURL(name)
	b, err := n.ins.getSmall(ctx, url, npmAccept, m.npmrc().auth(url))
	if err != nil {
		return nil, err
	}
	d := &packument{url: url}
	if err := json.Unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("bad registry document: %w", err)
	}
	if d.Name == "" {
		d.Name = name
	}
	n.docs[name] = d
	return d, nil
}

// platformDep is one optional dependency that may carry the binary.
type platformDep struct {
	name, version string
}

// parseAlias splits "npm:@openai/codex@0.171.0-linux-x64" (or a plain
// version) into package name and version.
func parseAlias(key, spec string) (string, string) {
	if rest, ok := strings.CutPrefix(spec, "npm:"); ok {
		i := strings.LastIndex(rest, "@")
		if i > 0 {
			return rest[:i], rest[i+1:]
		}
		return rest, "latest"
	}
	return key, spec
}

// platformDeps lists the manifest's optional dependencies that may carry
// this platform's binary, best first.
func (n *npmRun) platformDeps(man *npmManifest) []platformDep {
	opt := man.optionalDeps()
	var out []platformDep
	for _, key := range n.ins.spec.platformPkgs(n.ins.plat) {
		if spec, ok := opt[key]; ok {
			name, ver := parseAlias(key, spec)
			out = append(out, platformDep{name: name, version: ver})
		}
	}
	return out
}

// resolveDep picks the published version of a platform dependency, or
// reports that it does not exist.
func (n *npmRun) resolveDep(ctx context.Context, d platformDep) (*npmManifest, error) {
	doc, err := n.packument(ctx, d.name)
	if err != nil {
		return nil, err
	}
	v, err := pickVersion(doc, d.version)
	if err != nil {
		return nil, err
	}
	return doc.manifest(v)
}

// fromNPM installs the agent from the npm registry without npm or node.
func (ins *installer) fromNPM(ctx context.Context) (Result, error) {
	n := &npmRun{ins: ins, docs: map[string]*packument{}}
	ins.progress(Progress{Phase: "resolve", URL: ins.m.docURL(ins.spec.npm)})
	p := ins.plat
	if !p.supported() {
		return Result{}, ins.errorf("", nil, "unsupported platform %s/%s", p.OS, p.Arch)
	}
	doc, err := n.packument(ctx, ins.spec.npm)
	if err != nil {
		return Result{}, n.metaError(ins.m.docURL(ins.spec.npm), err)
	}
	want := ins.opts.Version
	if want == "" {
		want = ins.spec.pin
	}
	man, err := n.chooseVersion(ctx, doc, want)
	if err != nil {
		return Result{}, err
	}

	// 1. A platform package carrying the native binary.
	var reasons []string
	var failures []error
	for _, d := range n.platformDeps(man) {
		pm, err := n.resolveDep(ctx, d)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s@%s: %s", d.name, d.version, errText(err)))
			continue
		}
		path, err := n.installNative(ctx, pm, man.Version)
		if err == nil {
			return Result{Path: path, Version: man.Version, Source: SourceNPM}, nil
		}
		if ctx.Err() != nil || isFatal(err) {
			return Result{}, err
		}
		failures = append(failures, err)
		reasons = append(reasons, fmt.Sprintf("%s@%s: %s", pm.Name, pm.Version, reasonOf(err)))
	}
	// 2. Native binaries shipped inside the main package (Codex 0.44–0.98).
	if ins.spec.mainHasNative && ins.spec.tree != nil {
		path, err := n.installNative(ctx, man, man.Version)
		if err == nil {
			return Result{Path: path, Version: man.Version, Source: SourceNPM}, nil
		}
		if ctx.Err() != nil || isFatal(err) {
			return Result{}, err
		}
		if !errors.Is(err, errNoBinary) {
			failures = append(failures, err)
			reasons = append(reasons, fmt.Sprintf("%s@%s: %s", man.Name, man.Version, reasonOf(err)))
		}
	}
	// 3. A JavaScript program run by node.
	if bin := man.binPath(ins.spec.bin); bin != "" && isJSBin(bin) && len(reasons) == 0 {
		return n.installJS(ctx, doc, man)
	}
	if len(failures) == 1 && len(reasons) == 1 {
		return Result{}, failures[0] // one package tried: its own error is the most precise
	}
	reason := fmt.Sprintf("no native %s build for %s in %s@%s", ins.spec.bin, p, man.Name, man.Version)
	if len(reasons) > 0 {
		reason += " (" + strings.Join(reasons, "; ") + ")"
	}
	if len(failures) == 0 && ins.opts.Version != "" {
		// Pinned to a version whose platform package is missing: say which
		// version would work.
		if ok, err := n.chooseVersion(ctx, doc, ""); err == nil && ok.Version != man.Version && len(n.platformDeps(ok)) > 0 {
			reason += "; the newest version with a " + p.String() + " build is " + ok.Version
		}
	}
	return Result{}, ins.errorf(doc.url, nil, "%s", reason)
}

// isFatal reports failures that trying another package cannot fix.
// A tarball that does not match its registry hash is a security signal,
// not a reason to try another package.
func isFatal(err error) bool {
	var ie *integrityError
	return isDiskFull(err) || errors.Is(err, context.Canceled) || errors.As(err, &ie)
}

func isJSBin(p string) bool {
	switch path.Ext(p) {
	case ".js", ".cjs", ".mjs":
		return true
	}
	return false
}

func errText(err error) string {
	if isNotFound(err) {
		return "not published in the registry"
	}
	if isNoVersion(err) {
		return "not published"
	}
	return reasonOf(err)
}

func (n *npmRun) metaError(url string, err error) *Error {
	if isNotFound(err) {
		return n.ins.errorf(url, err, "package not found in the registry")
	}
	err = stripURL(err)
	return n.ins.errorf(url, err, "registry lookup failed: %s", err.Error())
}

// chooseVersion picks the version to install. A pinned version (want) is
// taken as is. Otherwise it is dist-tags.latest, unless that version's platform
// package for this machine was never published (Amp regularly tags a
// version whose native packages are missing): then the newest older
// version whose platform package exists. Node's engines field is not
// consulted here: a native binary does not run on node (npm on Node 20
// picks Claude 2.1.197 for that reason; we take the newest).
func (n *npmRun) chooseVersion(ctx context.Context, doc *packument, want string) (*npmManifest, error) {
	ins := n.ins
	if want != "" {
		v, err := pickVersion(doc, strings.TrimPrefix(strings.TrimPrefix(want, "rust-v"), "v"))
		if err != nil {
			return nil, ins.errorf(doc.url, err, "%s", err.Error())
		}
		man, err := doc.manifest(v)
		if err != nil {
			return nil, ins.errorf(doc.url, err, "%s", err.Error())
		}
		return man, nil
	}
	latest := doc.DistTags["latest"]
	if latest == "" {
		return nil, ins.errorf(doc.url, nil, "registry document has no latest tag")
	}
	var skipped []string
	for i, v := range candidateVersions(doc, latest) {
		if i >= maxWalkBack {
			break
		}
		man, err := doc.manifest(v)
		if err != nil || (i > 0 && man.deprecated()) {
			continue
		}
		deps := n.platformDeps(man)
		if len(deps) == 0 {
			return man, nil // nothing to check: native-in-main or JS
		}
		for _, d := range deps {
			if _, err := n.resolveDep(ctx, d); err == nil {
				if len(skipped) > 0 {
					ins.progress(Progress{Phase: "resolve", URL: doc.url})
				}
				return man, nil
			} else if !isNotFound(err) && !isNoVersion(err) {
				return nil, n.metaError(n.ins.m.docURL(d.name), err)
			}
		}
		skipped = append(skipped, v)
	}
	return nil, ins.errorf(doc.url, nil, "no version of %s up to %s has a published %s package (tried %s)",
		doc.Name, latest, strings.Join(ins.spec.platformPkgs(ins.plat), " or "), strings.Join(skipped, ", "))
}

// noVersionError says a wanted version or range is not in a document.
type noVersionError struct{ msg string }

func (e *noVersionError) Error() string { return e.msg }

// Unwrap makes errors.Is(err, ErrVersionNotFound) hold.
func (e *noVersionError) Unwrap() error { return ErrVersionNotFound }

func isNoVersion(err error) bool {
	var nv *noVersionError
	return errors.As(err, &nv)
}

// pickVersion resolves a version, dist-tag or range against a document.
func pickVersion(doc *packument, want string) (string, error) {
	if want == "" || want == "*" {
		want = "latest"
	}
	if _, ok := doc.Versions[want]; ok {
		return want, nil
	}
	if v, ok := doc.DistTags[want]; ok {
		if _, ok := doc.Versions[v]; ok {
			return v, nil
		}
	}
	notPublished := &noVersionError{fmt.Sprintf("%s@%s is not published (latest is %s)", doc.Name, want, doc.DistTags["latest"])}
	if _, err := semver.StrictNewVersion(want); err == nil {
		return "", notPublished
	}
	c, err := semver.NewConstraint(want)
	if err != nil {
		return "", notPublished
	}
	best, bestV := "", (*semver.Version)(nil)
	for v := range doc.Versions {
		sv, err := semver.NewVersion(v)
		if err != nil || !c.Check(sv) {
			continue
		}
		if bestV == nil || sv.GreaterThan(bestV) {
			best, bestV = v, sv
		}
	}
	if best == "" {
		return "", &noVersionError{fmt.Sprintf("no version of %s matches %s (latest is %s)", doc.Name, want, doc.DistTags["latest"])}
	}
	return best, nil
}

// candidateVersions lists latest and then older versions, newest first.
// Pre-releases are included only when latest is one itself (Amp's versions
// all look like 0.0.<n>-g<hash>), which keeps Codex's per-platform alias
// versions (0.171.0-linux-x64) out.
func candidateVersions(doc *packument, latest string) []string {
	lv, err := semver.NewVersion(latest)
	if err != nil {
		return []string{latest}
	}
	type cand struct {
		s string
		v *semver.Version
	}
	var cs []cand
	for s := range doc.Versions {
		v, err := semver.NewVersion(s)
		if err != nil || v.GreaterThan(lv) || s == latest {
			continue
		}
		if (v.Prerelease() != "") != (lv.Prerelease() != "") {
			continue
		}
		cs = append(cs, cand{s, v})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].v.GreaterThan(cs[j].v) })
	out := []string{latest}
	for _, c := range cs {
		out = append(out, c.s)
	}
	return out
}

// tarball downloads and verifies a package tarball (through the cache).
func (n *npmRun) tarball(ctx context.Context, man *npmManifest) (string, string, func(), error) {
	ins := n.ins
	url := man.Dist.Tarball
	if url == "" {
		return "", url, func() {}, ins.errorf("", nil, "%s@%s has no tarball", man.Name, man.Version)
	}
	// Like npm's replace-registry-host: a mirror's documents often still
	// point at the public registry.
	if reg := ins.m.registryFor(man.Name); reg != publicRegistry && strings.HasPrefix(url, publicRegistry) {
		url = reg + strings.TrimPrefix(url, publicRegistry)
	}
	var want digest
	var ok bool
	if want, ok = parseSRI(man.Dist.Integrity); !ok {
		sum, err := hex.DecodeString(man.Dist.Shasum)
		if err != nil || len(sum) != 20 {
			return "", url, func() {}, ins.errorf(url, nil, "registry gives no integrity hash for %s@%s", man.Name, man.Version)
		}
		want = digest{algo: "sha1", sum: sum}
	}
	file, cleanup, err := ins.fetch(ctx, fetchReq{
		url:      url,
		want:     &want,
		cacheKey: "npm-" + want.algo + "-" + hex.EncodeToString(want.sum) + ".tgz",
		auth:     ins.m.npmrc().auth(url),
	})
	return file, url, cleanup, err
}

// installNative unpacks the agent's binary (single file or package tree)
// from man's tarball and puts it in place.
func (n *npmRun) installNative(ctx context.Context, man *npmManifest, version string) (string, error) {
	ins := n.ins
	file, url, cleanup, err := n.tarball(ctx, man)
	if err != nil {
		return "", err
	}
	defer cleanup()
	if ins.spec.tree != nil {
		prefix := ins.spec.tree(ins.plat) + "/"
		path, _, err := ins.placeTree(ctx, url, version, ins.spec.treeBins, func(root string) error {
			nfiles, err := unpackTarGz(file, root, func(member string) (string, bool) {
				rel, ok := strings.CutPrefix(stripTop(member), prefix)
				return rel, ok
			})
			if err != nil {
				return ins.errorf(url, err, "unpack %s@%s", man.Name, man.Version)
			}
			if nfiles == 0 {
				return ins.errorf(url, errNoBinary, "%s@%s has no %s", man.Name, man.Version, prefix)
			}
			return nil
		})
		return path, err
	}
	path, _, err := ins.placeSingle(ctx, url, func(tmp string) error {
		dir, err := os.MkdirTemp(filepath.Dir(tmp), filepath.Base(tmp)+".d-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if _, err := unpackTarGz(file, dir, func(member string) (string, bool) {
			rel := stripTop(member)
			for _, s := range ins.spec.single {
				if rel == s {
					return rel, true
				}
			}
			return "", false
		}); err != nil {
			return ins.errorf(url, err, "unpack %s@%s", man.Name, man.Version)
		}
		for _, s := range ins.spec.single {
			if st, err := os.Stat(filepath.Join(dir, s)); err == nil && st.Mode().IsRegular() {
				return os.Rename(filepath.Join(dir, s), tmp)
			}
		}
		return ins.errorf(url, errNoBinary, "%s@%s has no %s", man.Name, man.Version, strings.Join(ins.spec.single, " or "))
	})
	return path, err
}
