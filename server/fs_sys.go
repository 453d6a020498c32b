package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// fileSystem is where the fs routes act. Paths are the server's own
// absolute paths, as clients send and see them. hostFS acts on the whole
// machine, as the reference does; FSRoot (--fs-root) confines every
// operation to one directory through os.Root, so neither "..", nor an
// absolute path, nor a symlink (however it is swapped in) reaches outside.
type fileSystem interface {
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	Open(name string) (*os.File, error)
	MkdirAll(name string, perm fs.FileMode) error
	Remove(name string) error
	RemoveAll(name string) error
	Rename(from, to string) error
	// OpenRoot opens a directory as an os.Root for work confined to it.
	OpenRoot(name string) (*os.Root, error)
	// EvalSymlinks returns name with every symlink resolved.
	EvalSymlinks(name string) (string, error)
}

// hostFS is the whole file system.
type hostFS struct{}

func (hostFS) Stat(name string) (fs.FileInfo, error)        { return os.Stat(name) }
func (hostFS) Lstat(name string) (fs.FileInfo, error)       { return os.Lstat(name) }
func (hostFS) Open(name string) (*os.File, error)           { return os.Open(name) }
func (hostFS) MkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }
func (hostFS) Remove(name string) error                     { return os.Remove(name) }
func (hostFS) RemoveAll(name string) error                  { return os.RemoveAll(name) }
func (hostFS) Rename(from, to string) error                 { return os.Rename(from, to) }
func (hostFS) OpenRoot(name string) (*os.Root, error)       { return os.OpenRoot(name) }
func (hostFS) EvalSymlinks(name string) (string, error)     { return filepath.EvalSymlinks(name) }

// errOutsideRoot is what a path outside --fs-root gets: 403.
var errOutsideRoot = fmt.Errorf("outside the server's --fs-root: %w", fs.ErrPermission)

// FSRoot is one directory of the machine, opened as an os.Root, that the
// fs routes are confined to (Config.FSRoot, the server's --fs-root).
type FSRoot struct {
	root *os.Root
	dir  string // the root's absolute, symlink-free path
}

// OpenFSRoot opens dir for Config.FSRoot. Close it after the server.
func OpenFSRoot(dir string) (*FSRoot, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, err
	}
	return &FSRoot{root: r, dir: abs}, nil
}

// Dir is the root's absolute path.
func (r *FSRoot) Dir() string { return r.dir }

// Close releases the root.
func (r *FSRoot) Close() error { return r.root.Close() }

// rel is name relative to the root, or errOutsideRoot. The check is
// lexical; os.Root then refuses whatever a symlink would add.
func (r *FSRoot) rel(op, name string) (string, error) {
	if !filepath.IsAbs(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: errOutsideRoot}
	}
	rel, err := filepath.Rel(r.dir, filepath.Clean(name))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", &fs.PathError{Op: op, Path: name, Err: errOutsideRoot}
	}
	return rel, nil
}

// confined turns os.Root's refusal to follow a path out of the root into
// errOutsideRoot, naming the client's path.
func confined(op, name string, err error) error {
	if err != nil && isEscape(err) {
		return &fs.PathError{Op: op, Path: name, Err: errOutsideRoot}
	}
	return err
}

func (r *FSRoot) Stat(name string) (fs.FileInfo, error) {
	rel, err := r.rel("stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := r.root.Stat(rel)
	return fi, confined("stat", name, err)
}

func (r *FSRoot) Lstat(name string) (fs.FileInfo, error) {
	rel, err := r.rel("lstat", name)
	if err != nil {
		return nil, err
	}
	fi, err := r.root.Lstat(rel)
	return fi, confined("lstat", name, err)
}

func (r *FSRoot) Open(name string) (*os.File, error) {
	rel, err := r.rel("open", name)
	if err != nil {
		return nil, err
	}
	f, err := r.root.Open(rel)
	return f, confined("open", name, err)
}

func (r *FSRoot) MkdirAll(name string, perm fs.FileMode) error {
	rel, err := r.rel("mkdir", name)
	if err != nil {
		return err
	}
	return confined("mkdir", name, r.root.MkdirAll(rel, perm))
}

func (r *FSRoot) Remove(name string) error {
	rel, err := r.rel("remove", name)
	if err != nil {
		return err
	}
	if rel == "." {
		return &fs.PathError{Op: "remove", Path: name, Err: errOutsideRoot} // the root itself stays
	}
	return confined("remove", name, r.root.Remove(rel))
}

func (r *FSRoot) RemoveAll(name string) error {
	rel, err := r.rel("remove", name)
	if err != nil {
		return err
	}
	if rel == "." {
		return &fs.PathError{Op: "remove", Path: name, Err: errOutsideRoot}
	}
	return confined("remove", name, r.root.RemoveAll(rel))
}

func (r *FSRoot) Rename(from, to string) error {
	relFrom, err := r.rel("rename", from)
	if err != nil {
		return err
	}
	relTo, err := r.rel("rename", to)
	if err != nil {
		return err
	}
	if relFrom == "." || relTo == "." {
		return &fs.PathError{Op: "rename", Path: from, Err: errOutsideRoot}
	}
	return confined("rename", from, r.root.Rename(relFrom, relTo))
}

func (r *FSRoot) OpenRoot(name string) (*os.Root, error) {
	rel, err := r.rel("open", name)
	if err != nil {
		return nil, err
	}
	sub, err := r.root.OpenRoot(rel)
	return sub, confined("open", name, err)
}

// EvalSymlinks resolves name the way os.Root does, inside the root: it
// opens the path (without blocking on it) and asks the kernel where
// the descriptor really is.
func (r *FSRoot) EvalSymlinks(name string) (string, error) {
	rel, err := r.rel("evalsymlinks", name)
	if err != nil {
		return "", err
	}
	f, err := r.root.OpenFile(rel, openToResolve, 0)
	if err != nil {
		return "", confined("evalsymlinks", name, err)
	}
	defer f.Close()
	real, err := fdPath(f)
	if err != nil {
		return "", err
	}
	if _, err := r.rel("evalsymlinks", real); err != nil {
		return "", err
	}
	return real, nil
}

// ownProc reports whether p (absolute, clean) is inside this process's own
// /proc directory: its environment holds the server's secrets, its fds the
// files of every session. It is refused whatever the confinement.
func ownProc(p string) bool {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return false
	}
	first, _, _ := strings.Cut(rest, "/")
	return first == "self" || first == "thread-self" || first == strconv.Itoa(os.Getpid())
}

// errOwnProc refuses the server's own /proc entries.
var errOwnProc = errors.New("the server's own /proc entries are not served")
