package acp

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent/jsonrpc"
)

// The client's file system methods (fs/read_text_file, fs/write_text_file)
// are served inside the session's directory only: paths are resolved
// against an os.Root of that directory, so neither "..", an absolute path
// elsewhere nor a symlink leads out of it.

// codeResourceNotFound is ACP's error code for a missing file.
const codeResourceNotFound = -32002

type sessionFS struct {
	dir  string // absolute, cleaned
	root *os.Root
	// missingEmpty reads a missing file as empty (registry.Entry.MissingFileEmpty).
	missingEmpty bool
}

func openFS(dir string) (*sessionFS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, err
	}
	return &sessionFS{dir: abs, root: r}, nil
}

func (f *sessionFS) close() { _ = f.root.Close() }

// rel maps an agent's path (absolute, or relative to the session
// directory) to a name inside the root.
func (f *sessionFS) rel(p string) (string, *jsonrpc.Error) {
	if p == "" {
		return "", &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "path is empty"}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(f.dir, p)
	}
	rel, err := filepath.Rel(f.dir, filepath.Clean(p))
	if err != nil || !filepath.IsLocal(rel) {
		return "", &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "path " + p + " is outside the session directory " + f.dir}
	}
	return rel, nil
}

func fsError(op, p string, err error) *jsonrpc.Error {
	if errors.Is(err, fs.ErrNotExist) {
		// ACP's own wording for -32002, which agents look for (Gemini CLI
		// treats it as ENOENT).
		return &jsonrpc.Error{Code: codeResourceNotFound, Message: "Resource not found: " + p}
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: op + " " + p + ": " + strings.TrimPrefix(err.Error(), "openat ")}
}

// read returns the file's text, from line (1-based) for at most limit lines.
func (f *sessionFS) read(p readTextFileParams) (readTextFileResult, *jsonrpc.Error) {
	rel, e := f.rel(p.Path)
	if e != nil {
		return readTextFileResult{}, e
	}
	b, err := f.root.ReadFile(rel)
	if err != nil && f.missingEmpty && errors.Is(err, fs.ErrNotExist) {
		return readTextFileResult{Content: ""}, nil
	}
	if err != nil {
		return readTextFileResult{}, fsError("read", p.Path, err)
	}
	s := string(b)
	if p.Line == nil && p.Limit == nil {
		return readTextFileResult{Content: s}, nil
	}
	lines := strings.SplitAfter(s, "\n")
	start := 0
	if p.Line != nil && *p.Line > 1 {
		start = min(*p.Line-1, len(lines))
	}
	end := len(lines)
	if p.Limit != nil && *p.Limit >= 0 {
		end = min(start+*p.Limit, end)
	}
	return readTextFileResult{Content: strings.Join(lines[start:end], "")}, nil
}

// write replaces the file's content, creating it and its directories.
func (f *sessionFS) write(p writeTextFileParams) *jsonrpc.Error {
	rel, e := f.rel(p.Path)
	if e != nil {
		return e
	}
	if d := filepath.Dir(rel); d != "." {
		if err := f.root.MkdirAll(d, 0o755); err != nil {
			return fsError("write", p.Path, err)
		}
	}
	if err := f.root.WriteFile(rel, []byte(p.Content), 0o644); err != nil {
		return fsError("write", p.Path, err)
	}
	return nil
}
