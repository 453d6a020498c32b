package skills

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// skillFile marks a directory as a skill.
const skillFile = "SKILL.md"

// root is a fetched source on disk.
type root struct {
	path string
	// name is what a skill at the root itself is called: the directory's
	// base name for local sources, the repository name for remote ones
	// (whose cache directory name is an implementation detail).
	name string
	// confine drops skills whose real path leaves the root: a remote
	// repository must not reach into the rest of the file system through a
	// committed symlink.
	confine bool
	// release, when set, lets others refresh the source again.
	release func()
}

// skill is one discovered skill directory.
type skill struct {
	name string
	path string // canonical (symlinks resolved), absolute
}

// discoverSource applies the source's subpath and skill filter to r.
func discoverSource(src schema.SkillSource, r root) ([]skill, error) {
	base, name := r.path, r.name
	if src.Subpath != nil && strings.TrimSpace(*src.Subpath) != "" {
		sub := filepath.Clean(filepath.FromSlash(*src.Subpath))
		if !filepath.IsLocal(sub) {
			return nil, problem.Invalid("invalid skill subpath: %s", *src.Subpath)
		}
		base = filepath.Join(r.path, sub)
		if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
			return nil, problem.Invalid("skill subpath not found: %s in %s", *src.Subpath, src.Source)
		}
		if sub != "." {
			name = filepath.Base(sub)
		}
	}
	realRoot, err := filepath.EvalSymlinks(r.path)
	if err != nil {
		return nil, problem.Invalid("skill source is not readable: %s", src.Source)
	}
	realBase, err := filepath.EvalSymlinks(base)
	if err != nil {
		return nil, problem.Invalid("skill subpath not found: %s in %s", deref(src.Subpath), src.Source)
	}
	if r.confine && !within(realRoot, realBase) {
		return nil, problem.Invalid("skill subpath escapes the source: %s", deref(src.Subpath))
	}

	found := discover(base, name)
	if r.confine {
		kept := found[:0]
		for _, s := range found {
			if within(realRoot, s.path) {
				kept = append(kept, s)
			}
		}
		found = kept
	}
	if len(src.Skills) > 0 {
		want := map[string]bool{}
		for _, n := range src.Skills {
			want[n] = true
		}
		kept := found[:0]
		for _, s := range found {
			if want[s.name] {
				kept = append(kept, s)
			}
		}
		found = kept
	}
	if len(found) == 0 {
		msg := "no skills found in " + src.Source + " (" + src.Type + ")"
		if len(src.Skills) > 0 {
			msg += " (filter: " + strings.Join(src.Skills, ", ") + ")"
		}
		return nil, problem.Invalid("%s", msg)
	}
	return found, nil
}

// discover lists the skills in dir: dir itself when it holds a SKILL.md
// (named rootName), each such child of dir/skills, and each such direct
// child of dir. A directory reached twice (through a symlink, or because
// dir/skills is itself a skill) is listed once, where it was first seen.
func discover(dir, rootName string) []skill {
	var out []skill
	seen := map[string]bool{}
	add := func(p, name string) {
		if !isSkillDir(p) || !validName(name) {
			return
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return
		}
		if real, err = filepath.Abs(real); err != nil || seen[real] {
			return
		}
		seen[real] = true
		out = append(out, skill{name: name, path: real})
	}
	if !validName(rootName) {
		rootName = filepath.Base(dir)
	}
	add(dir, rootName)
	for _, parent := range []string{filepath.Join(dir, "skills"), dir} {
		entries, err := os.ReadDir(parent) // sorted by name
		if err != nil {
			continue
		}
		for _, e := range entries {
			add(filepath.Join(parent, e.Name()), e.Name())
		}
	}
	return out
}

// isSkillDir reports whether p is a directory (or a link to one) holding a
// SKILL.md file.
func isSkillDir(p string) bool {
	fi, err := os.Stat(p)
	if err != nil || !fi.IsDir() {
		return false
	}
	fi, err = os.Stat(filepath.Join(p, skillFile))
	return err == nil && !fi.IsDir()
}

// validName reports whether name can be used as a single path element.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`) && filepath.IsLocal(name)
}

// within reports whether p is dir or inside it; both must be clean and absolute.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && filepath.IsLocal(rel)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
