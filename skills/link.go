package skills

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sandbox-agent/sandbox-agent/problem"
)

// symlink is os.Symlink; tests replace it to exercise the copy fallback.
var symlink = os.Symlink

// action is what linking does at one destination.
type action int

const (
	create  action = iota // nothing there
	keep                  // already this skill (or a skill directory someone put there)
	replace               // a dangling symlink
)

type placement struct {
	skill skill
	dest  string
	act   action
}

// link places every skill under each of LinkDirs in dir. All destinations
// are checked before the first one is written.
func link(ctx context.Context, dir string, skills []skill) error {
	unlock, err := lock(ctx, "link:"+dir)
	if err != nil {
		return err
	}
	defer unlock()

	var plan []placement
	byName := map[string]string{}
	for _, s := range skills {
		if prev, ok := byName[s.name]; ok {
			return problem.Invalid("duplicate skill name %s: %s and %s", s.name, prev, s.path)
		}
		byName[s.name] = s.path
		for _, ld := range LinkDirs {
			dest := filepath.Join(dir, ld, s.name)
			act, err := classify(dest, s.path)
			if err != nil {
				return err
			}
			plan = append(plan, placement{skill: s, dest: dest, act: act})
		}
	}
	for _, p := range plan {
		if err := place(p); err != nil {
			return err
		}
	}
	return nil
}

// classify decides what to do with whatever is at dest. A symlink to another
// skill of the same name is a conflict, not something to keep: keeping it
// would silently install the wrong skill.
func classify(dest, target string) (action, error) {
	fi, err := os.Lstat(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return create, nil
	case err != nil:
		return 0, fsFailed("inspect "+dest, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		if pointsTo(dest, target) {
			return keep, nil
		}
		if _, err := os.Stat(dest); errors.Is(err, fs.ErrNotExist) {
			return replace, nil
		}
	case fi.IsDir() && isSkillDir(dest):
		return keep, nil
	}
	return 0, problem.Invalid("skill path conflict: %s already exists", dest)
}

// pointsTo reports whether the symlink at link resolves to target.
func pointsTo(link, target string) bool {
	if t, err := os.Readlink(link); err == nil {
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(link), t)
		}
		if filepath.Clean(t) == target {
			return true
		}
	}
	real, err := filepath.EvalSymlinks(link)
	return err == nil && real == target
}

func place(p placement) error {
	if p.act == keep {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p.dest), 0o755); err != nil {
		return fsFailed("create "+filepath.Dir(p.dest), err)
	}
	if p.act == replace {
		if err := os.Remove(p.dest); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fsFailed("remove the dangling link "+p.dest, err)
		}
	}
	err := symlink(p.skill.path, p.dest)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		// Another process placed something since the plan was made: judge
		// it as if it had been there all along.
		act, cerr := classify(p.dest, p.skill.path)
		if cerr != nil || act == keep {
			return cerr
		}
		return fsFailed("link "+p.dest, err)
	}
	// No symlinks here (some file systems, some Windows set-ups): copy.
	return copyInto(p.skill.path, p.dest)
}

// copyInto copies the skill directory src to dest by way of a temporary
// sibling, so dest is either absent or complete.
func copyInto(src, dest string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+"-*")
	if err != nil {
		return fsFailed("copy a skill into "+dest, err)
	}
	defer os.RemoveAll(tmp)
	if err := copyTree(src, tmp); err != nil {
		return fsFailed("copy "+src+" to "+dest, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fsFailed("copy "+src+" to "+dest, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fsFailed("copy "+src+" to "+dest, err)
	}
	return nil
}

// copyTree copies the contents of src into the existing directory dst.
// Symlinks are recreated as they are; a .git directory is left behind.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		out := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.IsDir():
			return os.Mkdir(out, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(t, out)
		case d.Type().IsRegular():
			return copyFile(p, out)
		default:
			return nil
		}
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
