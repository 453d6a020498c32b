package install

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// maxJSPackages bounds the dependency tree of a JavaScript-mode install.
const maxJSPackages = 2000

// installJS installs a version of the agent that is a JavaScript program
// (Claude before 2.1.113, Codex before 0.20): the package and its
// production dependencies are unpacked into
// <Dir>/<agent>-pkg/<version>/lib, and <Dir>/<bin> becomes a shell
// launcher that runs the package's bin script with node. Optional
// dependencies (native accelerators such as sharp) are skipped. node must
// be on PATH, now and when the agent runs.
func (n *npmRun) installJS(ctx context.Context, doc *packument, man *npmManifest) (Result, error) {
	ins := n.ins
	node, err := exec.LookPath("node")
	if err != nil {
		return Result{}, ins.errorf(doc.url, err, "%s@%s is a JavaScript program and needs node, which is not on PATH (install node, or pick a version with a native build)", man.Name, man.Version)
	}
	nodeV, err := nodeVersion(ctx, node)
	if err != nil {
		return Result{}, ins.errorf("", err, "cannot run node --version")
	}
	if rng := man.nodeEngine(); rng != "" && !engineOK(rng, nodeV) {
		if ins.opts.Version != "" {
			return Result{}, ins.errorf(doc.url, nil, "%s@%s needs node %s, this machine has %s", man.Name, man.Version, rng, nodeV)
		}
		// Unpinned: like npm, take the newest older version whose engines
		// this node satisfies.
		var found *npmManifest
		for _, v := range candidateVersions(doc, man.Version) {
			cm, err := doc.manifest(v)
			if err == nil && !cm.deprecated() && cm.binPath(ins.spec.bin) != "" && engineOK(cm.nodeEngine(), nodeV) {
				found = cm
				break
			}
		}
		if found == nil {
			return Result{}, ins.errorf(doc.url, nil, "no version of %s up to %s supports node %s", man.Name, man.Version, nodeV)
		}
		man = found
	}
	binRel := filepath.Clean(filepath.FromSlash(man.binPath(ins.spec.bin)))
	if !filepath.IsLocal(binRel) {
		return Result{}, ins.errorf(doc.url, nil, "bad bin path %q in %s@%s", binRel, man.Name, man.Version)
	}

	tmp, err := ins.stagePkg(doc.url)
	if err != nil {
		return Result{}, err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	lib := filepath.Join(tmp, "lib")
	count := 0
	if err := n.unpackPackage(ctx, man, lib); err != nil {
		return Result{}, err
	}
	if err := n.installDeps(ctx, lib, man.deps(), []map[string]string{}, &count); err != nil {
		return Result{}, err
	}
	if _, err := os.Stat(filepath.Join(lib, binRel)); err != nil {
		return Result{}, ins.errorf(man.Dist.Tarball, err, "%s@%s lacks its bin script %s", man.Name, man.Version, binRel)
	}

	// Try the program from its temporary place before it goes live.
	probe := filepath.Join(ins.m.dir, fmt.Sprintf(".%s.new-%d", ins.spec.bin, time.Now().UnixNano()))
	defer os.Remove(probe)
	if err := writeLauncher(probe, filepath.Join(lib, binRel), man, ins.spec.launcherVersion); err != nil {
		return Result{}, ins.ioError("write launcher", probe, "", err)
	}
	if _, err := ins.verifyRuns(ctx, probe, man.Dist.Tarball); err != nil {
		return Result{}, err
	}

	name := safeName(man.Version)
	final, err := ins.commitPkg(tmp, name, "")
	if err != nil {
		return Result{}, err
	}
	done = true
	if err := writeLauncher(probe, filepath.Join(final, "lib", binRel), man, ins.spec.launcherVersion); err != nil {
		return Result{}, ins.ioError("write launcher", probe, "", err)
	}
	dst, err := ins.activate(probe, name, "move launcher into place", "")
	if err != nil {
		return Result{}, err
	}
	return Result{Path: dst, Version: man.Version, Source: SourceNPM}, nil
}

// writeLauncher writes a shell script that runs script with node. The node
// binary can be overridden at run time with $SANDBOX_AGENT_NODE. With
// version set, the launcher itself answers --version with the package
// version (for programs without such a flag).
func writeLauncher(path, script string, man *npmManifest, version bool) error {
	body := fmt.Sprintf("#!/bin/sh\n# Installed by sandbox-agent: %s@%s (JavaScript; needs node).\n", man.Name, man.Version)
	if version {
		body += fmt.Sprintf("if [ \"$1\" = --version ]; then echo %s; exit 0; fi\n", shellQuote(man.Version))
	}
	body += fmt.Sprintf("exec \"${SANDBOX_AGENT_NODE:-node}\" %s \"$@\"\n", shellQuote(script))
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		return err
	}
	return os.Chmod(path, 0o755)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// unpackPackage downloads man's tarball and unpacks it into dir.
func (n *npmRun) unpackPackage(ctx context.Context, man *npmManifest, dir string) error {
	file, url, cleanup, err := n.tarball(ctx, man)
	if err != nil {
		return err
	}
	defer cleanup()
	n.ins.progress(Progress{Phase: "extract", URL: url})
	if _, err := unpackTarGz(file, dir, func(member string) (string, bool) {
		rel := stripTop(member)
		return rel, rel != ""
	}); err != nil {
		return n.ins.errorf(url, err, "unpack %s@%s", man.Name, man.Version)
	}
	return nil
}

// installDeps installs deps into dir/node_modules. levels holds, innermost
// last, what the node_modules directories above dir contain; a dependency
// that node would already find there at a matching version is not
// installed again. All direct dependencies are placed before recursing, so
// a later placement can only shadow packages deeper in its own subtree.
func (n *npmRun) installDeps(ctx context.Context, dir string, deps map[string]string, levels []map[string]string, count *int) error {
	if len(deps) == 0 {
		return nil
	}
	names := make([]string, 0, len(deps))
	for name := range deps {
		names = append(names, name)
	}
	sort.Strings(names)
	here := map[string]string{}
	type placement struct {
		alias string // the directory name under node_modules
		man   *npmManifest
	}
	var placed []placement
	for _, name := range names {
		rng := deps[name]
		depName, depRange := parseAlias(name, rng)
		if found, ok := lookupLevels(levels, name); ok {
			if v, err := semver.NewVersion(found); err == nil {
				if c, err := semver.NewConstraint(depRange); err == nil && c.Check(v) {
					continue
				}
			}
			if found == depRange {
				continue
			}
		}
		doc, err := n.packument(ctx, depName)
		if err != nil {
			return n.metaError(n.ins.m.docURL(depName), err)
		}
		v, err := pickVersion(doc, depRange)
		if err != nil {
			return n.ins.errorf(doc.url, err, "dependency %s@%s: %s", name, rng, err.Error())
		}
		dm, err := doc.manifest(v)
		if err != nil {
			return n.ins.errorf(doc.url, err, "%s", err.Error())
		}
		if *count++; *count > maxJSPackages {
			return n.ins.errorf(doc.url, nil, "dependency tree larger than %d packages", maxJSPackages)
		}
		if err := n.unpackPackage(ctx, dm, filepath.Join(dir, "node_modules", filepath.FromSlash(name))); err != nil {
			return err
		}
		here[name] = dm.Version
		placed = append(placed, placement{name, dm})
	}
	inner := append(append([]map[string]string{}, levels...), here)
	for _, p := range placed {
		if err := n.installDeps(ctx, filepath.Join(dir, "node_modules", filepath.FromSlash(p.alias)), p.man.deps(), inner, count); err != nil {
			return err
		}
	}
	return nil
}

func lookupLevels(levels []map[string]string, name string) (string, bool) {
	for i := len(levels) - 1; i >= 0; i-- {
		if v, ok := levels[i][name]; ok {
			return v, true
		}
	}
	return "", false
}

func nodeVersion(ctx context.Context, node string) (string, error) {
	out, err := runProbe(ctx, node, []string{"--version"}, versionTimeout)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(firstLine(out), "v"), nil
}

// engineOK reports whether node version v satisfies an engines range; an
// unparsable range is not held against the package (npm warns only).
func engineOK(rng, v string) bool {
	if rng == "" {
		return true
	}
	c, err := semver.NewConstraint(rng)
	if err != nil {
		return true
	}
	sv, err := semver.NewVersion(v)
	if err != nil {
		return true
	}
	return c.Check(sv)
}
