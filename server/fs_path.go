package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sandbox-agent/sandbox-agent/problem"
)

// firstOf is the session id from either spelling of the query parameter
// (the reference's sessionId, and its alias session_id).
func firstOf(camel, snake string) string {
	if camel != "" {
		return camel
	}
	return snake
}

// resolve turns a client path into the path the server acts on, following
// the reference: an absolute path is used as given (the fs API does not
// sandbox: the sandbox is the machine); a relative one may not climb out
// with "..", and is joined to the session's working directory when a
// session is named, else to the server user's home directory.
func (s *Server) resolve(sessionID, p, field string) (string, error) {
	if p == "" {
		return "", problem.Invalid("%s must not be empty", field).With("field", field)
	}
	if filepath.IsAbs(p) {
		return p, s.notOwnProc(p)
	}
	clean, ok := cleanRelative(p)
	if !ok {
		return "", problem.Invalid("invalid relative path: %s", p).With("field", field)
	}
	base, err := s.fsBase(sessionID)
	if err != nil {
		return "", err
	}
	target := joinName(base, clean)
	return target, s.notOwnProc(target)
}

// notOwnProc refuses a path that is, or leads by symlinks (through it or
// its parent) to, the server's own /proc entries. Files opened for reading
// are checked again once open (openedOwnProc), since a symlink may be
// swapped in between.
func (s *Server) notOwnProc(target string) error {
	clean := filepath.Clean(target)
	denied := ownProc(clean)
	for _, p := range []string{clean, filepath.Dir(clean)} {
		if real, err := s.fs.EvalSymlinks(p); err == nil && ownProc(real) {
			denied = true
		}
	}
	if denied {
		return ownProcDenied(target)
	}
	return nil
}

// openedOwnProc is notOwnProc for a file already open: where it really is.
func openedOwnProc(target string, f *os.File) error {
	if real, err := fdPath(f); err == nil && ownProc(real) {
		return ownProcDenied(target)
	}
	return nil
}

func ownProcDenied(target string) error {
	return problem.New(problem.PermissionDenied, "permission denied: %s", target).With("path", target).
		With("message", errOwnProc.Error())
}

// fsBase is the directory relative paths start from. A session's directory
// may itself be relative; like the reference, that is relative to the
// server's working directory.
func (s *Server) fsBase(sessionID string) (string, error) {
	if sessionID == "" {
		if s.cfg.HomeDir != "" {
			return s.cfg.HomeDir, nil
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return "", streamErr(fmt.Errorf("no home directory for relative paths: %w", err))
		}
		return home, nil
	}
	sess, err := s.cfg.Manager.Get(sessionID)
	if err != nil {
		return "", err
	}
	// The session's working directory: where its agent runs.
	return sess.Dir(), nil
}

// cleanRelative drops "." and empty components of a relative path and
// refuses "..", a root, or (on Windows) a volume. An empty result means the
// base directory itself.
func cleanRelative(p string) (string, bool) {
	if filepath.IsAbs(p) || filepath.VolumeName(p) != "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		return "", false
	}
	var parts []string
	for _, c := range strings.FieldsFunc(p, isSep) {
		switch c {
		case ".":
		case "..":
			return "", false
		default:
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, string(filepath.Separator)), true
}

func isSep(r rune) bool { return r == '/' || r == filepath.Separator }

// joinName appends a clean relative name to a path without cleaning the
// path itself, so absolute paths come back exactly as the client sent them.
func joinName(base, name string) string {
	switch {
	case name == "":
		return base
	case strings.HasSuffix(base, string(filepath.Separator)):
		return base + name
	default:
		return base + string(filepath.Separator) + name
	}
}

// modified formats a modification time the way the reference does (chrono's
// to_rfc3339 of a UTC time): "+00:00", and 0, 3, 6 or 9 fractional digits,
// the fewest that are exact — so 9 for the usual nanosecond timestamps.
func modified(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	ns := t.Nanosecond()
	frac := ""
	switch {
	case ns == 0:
	case ns%1_000_000 == 0:
		frac = fmt.Sprintf(".%03d", ns/1_000_000)
	case ns%1_000 == 0:
		frac = fmt.Sprintf(".%06d", ns/1_000)
	default:
		frac = fmt.Sprintf(".%09d", ns)
	}
	s := t.Format("2006-01-02T15:04:05") + frac + "+00:00"
	return &s
}

// fsError maps a file-system error on path to a problem. As in the
// reference, a missing path is 400 invalid_request "path not found: <abs>"
// (not 404: the request named something that is not there), the operating
// system refusing access is 403 permission_denied, and a failure of the
// machine (I/O, a full disk) is 502 stream_error. Errors
// that only a bad request can cause (a directory where a file is expected,
// a non-empty directory, a name too long, moving a directory into itself)
// are 400 too, where the reference answered 502.
func fsError(path string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := problem.As(err); ok {
		return err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return problem.Invalid("path not found: %s", path).With("path", path)
	case isEscape(err):
		return problem.Invalid("path escapes the destination directory: %s", path).With("path", path)
	case errors.Is(err, fs.ErrPermission):
		return problem.New(problem.PermissionDenied, "permission denied: %s", path).With("path", path).With("message", bareErr(err))
	case errors.Is(err, syscall.ENOTEMPTY):
		return problem.Invalid("directory not empty: %s (pass recursive=true)", path).With("path", path)
	case errors.Is(err, syscall.EEXIST), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR),
		errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.ELOOP):
		return problem.Invalid("%s", bareErr(err)).With("path", path)
	}
	return streamErr(err)
}

// streamErr is the reference's 502 for an I/O failure.
func streamErr(err error) error {
	return problem.New(problem.StreamError, "stream error: %s", err.Error()).With("message", err.Error())
}

// isEscape reports an os.Root refusal to follow a path out of its root. The
// standard library does not export that error, only its text.
func isEscape(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "path escapes from parent" {
			return true
		}
	}
	return false
}

// bareErr is "<op> <path>: <cause>" from an *fs.PathError or *os.LinkError.
func bareErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + " " + pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}
