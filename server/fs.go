package server

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// The /v1/fs routes: the reference's file-system API (§1.8), with uploads
// streamed to disk instead of buffered (no 2 MiB cap; --max-upload-bytes
// sets one) and every bad input answered with a 4xx problem.
//
// Deliberate choices, kept from the reference so its clients work unchanged:
// a path that does not exist is 400 invalid_request "path not found: <abs>"
// (not 404: 404 means an unknown session here); a failing machine (I/O,
// permissions, a full disk) is 502 stream_error; absolute paths are not
// confined anywhere.

// Huma only sees exported fields, so every input spells out its
// parameters (an embedded struct of an unexported type would be skipped).

type fsPathIn struct {
	Path           string `query:"path" required:"true" doc:"Absolute path, or relative to the session's working directory (with a session) or the server user's home directory. Relative paths may not contain '..'."`
	SessionID      string `query:"sessionId" doc:"Session whose working directory resolves relative paths (absolute paths ignore it)."`
	SessionIDSnake string `query:"session_id" doc:"Alias of sessionId."`
}

type fsEntriesIn struct {
	Path           string `query:"path" doc:"Directory to list, absolute or relative (default '.')."`
	SessionID      string `query:"sessionId" doc:"Session whose working directory resolves relative paths (absolute paths ignore it)."`
	SessionIDSnake string `query:"session_id" doc:"Alias of sessionId."`
}

type fsDeleteIn struct {
	Path           string `query:"path" required:"true" doc:"File or directory to delete, absolute or relative."`
	SessionID      string `query:"sessionId" doc:"Session whose working directory resolves relative paths (absolute paths ignore it)."`
	SessionIDSnake string `query:"session_id" doc:"Alias of sessionId."`
	Recursive      bool   `query:"recursive" doc:"Delete a directory with everything in it (otherwise only an empty directory is removed)."`
}

type fsMoveIn struct {
	SessionID      string `query:"sessionId" doc:"Session whose working directory resolves relative paths (absolute paths ignore it)."`
	SessionIDSnake string `query:"session_id" doc:"Alias of sessionId."`
	Body           schema.FsMoveRequest
}

// rawBody captures the request body for the routes that stream it to disk:
// huma must not read it (there is no Body field), so it is taken here.
type rawBody struct {
	body        io.Reader
	length      int64 // -1: unknown (chunked)
	contentType string
}

func (b *rawBody) capture(ctx huma.Context) {
	b.body = ctx.BodyReader()
	b.length = -1
	if n, err := strconv.ParseInt(ctx.Header("Content-Length"), 10, 64); err == nil {
		b.length = n
	}
	b.contentType = ctx.Header("Content-Type")
	// An upload takes as long as it takes; no server-wide read deadline
	// may cut it off (huma only does this for bodies it reads itself).
	_ = ctx.SetReadDeadline(time.Time{})
}

type fsWriteIn struct {
	Path           string `query:"path" required:"true" doc:"File to write, absolute or relative; parent directories are created."`
	SessionID      string `query:"sessionId" doc:"Session whose working directory resolves relative paths (absolute paths ignore it)."`
	SessionIDSnake string `query:"session_id" doc:"Alias of sessionId."`
	raw            rawBody
}

// Resolve takes the body stream.
func (in *fsWriteIn) Resolve(ctx huma.Context) []error { in.raw.capture(ctx); return nil }

type fsUploadIn struct {
	Path           string `query:"path" doc:"Destination directory, absolute or relative (default '.'); created if missing."`
	SessionID      string `query:"sessionId" doc:"Session whose working directory resolves relative paths (absolute paths ignore it)."`
	SessionIDSnake string `query:"session_id" doc:"Alias of sessionId."`
	raw            rawBody
}

// Resolve takes the body stream.
func (in *fsUploadIn) Resolve(ctx huma.Context) []error { in.raw.capture(ctx); return nil }

type fsEntriesOut struct{ Body []schema.FsEntry }
type fsWriteOut struct{ Body schema.FsWriteResponse }
type fsActionOut struct{ Body schema.FsActionResponse }
type fsMoveOut struct{ Body schema.FsMoveResponse }
type fsStatOut struct{ Body schema.FsStat }
type fsUploadOut struct{ Body schema.FsUploadBatchResponse }

// binary is an octet-stream body of any bytes.
func binary() map[string]*huma.MediaType {
	return map[string]*huma.MediaType{"application/octet-stream": {Schema: &huma.Schema{Type: "string", Format: "binary"}}}
}

// registerFS registers the /v1/fs routes.
func (s *Server) registerFS() {
	ls := op("listFsEntries", http.MethodGet, "/v1/fs/entries", "List a directory", "fs")
	ls.Description = "Entries in directory-read order (unsorted). Symlinks are described by their own metadata. A missing path is 400 `path not found: <abs>`."
	ls.Errors = []int{400, 404, 502}
	huma.Register(s.api, ls, wrap(s, s.fsEntries))

	rd := op("readFsFile", http.MethodGet, "/v1/fs/file", "Read a file's bytes", "fs")
	rd.Description = "Streams the file as application/octet-stream (Range and conditional requests are honoured). 400 if the path is not a regular file."
	rd.Errors = []int{400, 404, 502}
	rd.Responses = map[string]*huma.Response{"200": {Description: "The file's bytes.", Content: binary()}}
	huma.Register(s.api, rd, wrap(s, s.fsRead))

	wr := op("writeFsFile", http.MethodPut, "/v1/fs/file", "Write a file from the raw request body", "fs")
	wr.Description = "The body (any content type) is streamed to a temporary file beside the target and renamed over it, so readers never see a partial file. Parent directories are created; an existing file is replaced and keeps its mode. No size limit unless the server sets --max-upload-bytes (413 past it)."
	wr.Errors = []int{400, 404, 413, 502}
	wr.RequestBody = &huma.RequestBody{Required: true, Description: "The file's new content.", Content: binary()}
	wr.BodyReadTimeout = -1
	huma.Register(s.api, wr, wrap(s, s.fsWrite))

	del := op("deleteFsEntry", http.MethodDelete, "/v1/fs/entry", "Delete a file or directory", "fs")
	del.Description = "A file (or symlink) is removed; a directory only if empty, unless recursive=true."
	del.Errors = []int{400, 404, 502}
	huma.Register(s.api, del, wrap(s, s.fsDelete))

	mk := op("mkdirFs", http.MethodPost, "/v1/fs/mkdir", "Create a directory and its parents", "fs")
	mk.Errors = []int{400, 404, 502}
	huma.Register(s.api, mk, wrap(s, s.fsMkdir))

	mv := op("moveFs", http.MethodPost, "/v1/fs/move", "Move or rename a file or directory", "fs")
	mv.Description = "If `to` exists it is replaced when overwrite is true (400 otherwise). Parent directories of `to` are created."
	mv.Errors = []int{400, 404, 422, 502}
	huma.Register(s.api, mv, wrap(s, s.fsMove))

	st := op("statFs", http.MethodGet, "/v1/fs/stat", "Describe a file or directory", "fs")
	st.Errors = []int{400, 404, 502}
	huma.Register(s.api, st, wrap(s, s.fsStat))

	up := op("uploadFsBatch", http.MethodPost, "/v1/fs/upload-batch", "Upload a tar archive and unpack it", "fs")
	up.Description = "The body is an uncompressed tar (Content-Type application/x-tar); gzip-compressed tar is accepted too (application/gzip, or detected by its magic bytes). It is unpacked as it streams in. Entry names may not be absolute or contain '..', and no entry or link may reach outside the destination (400). The answer lists the first 1024 extracted paths (directories included); truncated tells whether there were more."
	up.Errors = []int{400, 404, 413, 502}
	up.RequestBody = &huma.RequestBody{Required: true, Description: "A tar archive.", Content: map[string]*huma.MediaType{
		"application/x-tar": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		"application/gzip":  {Schema: &huma.Schema{Type: "string", Format: "binary"}},
	}}
	up.BodyReadTimeout = -1
	huma.Register(s.api, up, wrap(s, s.fsUpload))
}

func (s *Server) fsEntries(ctx context.Context, in *fsEntriesIn) (*fsEntriesOut, error) {
	p := in.Path
	if p == "" {
		p = "."
	}
	target, err := s.resolve(firstOf(in.SessionID, in.SessionIDSnake), p, "path")
	if err != nil {
		return nil, err
	}
	// Stat before opening: opening a FIFO would block.
	fi, err := s.fs.Stat(target)
	if err != nil {
		return nil, fsError(target, err)
	}
	if !fi.IsDir() {
		return nil, problem.Invalid("path is not a directory: %s", target).With("field", "path")
	}
	f, err := s.fs.Open(target)
	if err != nil {
		return nil, fsError(target, err)
	}
	defer f.Close()
	if err := openedOwnProc(target, f); err != nil {
		return nil, err
	}
	// File.ReadDir keeps the directory's own order; os.ReadDir would sort.
	out := []schema.FsEntry{}
	for {
		des, err := f.ReadDir(256)
		for _, de := range des {
			info, ierr := de.Info() // lstat: a symlink describes itself
			if errors.Is(ierr, fs.ErrNotExist) {
				continue // removed while we read
			}
			if ierr != nil {
				return nil, streamErr(ierr)
			}
			out = append(out, schema.FsEntry{Name: de.Name(), Path: joinName(target, de.Name()),
				EntryType: entryType(info), Size: uint64(max(info.Size(), 0)), Modified: modified(info.ModTime())})
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, streamErr(err)
		}
	}
	return &fsEntriesOut{Body: out}, nil
}

func entryType(fi fs.FileInfo) schema.FsEntryType {
	if fi.IsDir() {
		return schema.EntryDirectory
	}
	return schema.EntryFile
}

func (s *Server) fsRead(ctx context.Context, in *fsPathIn) (*huma.StreamResponse, error) {
	target, err := s.resolve(firstOf(in.SessionID, in.SessionIDSnake), in.Path, "path")
	if err != nil {
		return nil, err
	}
	// Stat before opening (opening a FIFO would block) and again after (the
	// path may have been replaced in between).
	fi, err := s.fs.Stat(target)
	if err := regularFile(target, fi, err); err != nil {
		return nil, err
	}
	f, err := s.fs.Open(target)
	if err != nil {
		return nil, fsError(target, err)
	}
	fi, err = f.Stat()
	if err := regularFile(target, fi, err); err != nil {
		f.Close()
		return nil, err
	}
	if err := openedOwnProc(target, f); err != nil {
		f.Close()
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer f.Close()
		r, w := humago.Unwrap(hctx)
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		w.Header().Set("Content-Type", "application/octet-stream")
		if fi.Size() > 0 {
			http.ServeContent(w, r, "", fi.ModTime(), f)
			return
		}
		// Size 0 may be a lie (/proc files): copy whatever is there.
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(w, f)
	}}, nil
}

// regularFile checks the result of a stat of target: a problem unless it is
// a regular file.
func regularFile(target string, fi fs.FileInfo, err error) error {
	if err != nil {
		return fsError(target, err)
	}
	if !fi.Mode().IsRegular() {
		return problem.Invalid("path is not a file: %s", target).With("field", "path")
	}
	return nil
}

func (s *Server) fsWrite(ctx context.Context, in *fsWriteIn) (*fsWriteOut, error) {
	target, err := s.resolve(firstOf(in.SessionID, in.SessionIDSnake), in.Path, "path")
	if err != nil {
		return nil, err
	}
	limit := s.cfg.MaxUploadBytes
	if limit > 0 && in.raw.length > limit {
		return nil, tooLarge(limit)
	}
	dest := filepath.Clean(target)
	var keep *fs.FileMode
	if fi, err := s.fs.Lstat(dest); err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 {
			// Write through a symlink, as a plain write would.
			resolved, err := s.fs.EvalSymlinks(dest)
			if errors.Is(err, errOutsideRoot) {
				return nil, fsError(target, err) // it leads out of --fs-root
			}
			if err == nil {
				dest = resolved
				fi, err = s.fs.Stat(dest)
				if err != nil {
					return nil, fsError(target, err)
				}
			}
		}
		switch {
		case fi.IsDir():
			return nil, problem.Invalid("path is a directory: %s", target).With("field", "path")
		case fi.Mode().IsRegular():
			m := fi.Mode().Perm()
			keep = &m
		case fi.Mode()&fs.ModeSymlink == 0:
			return nil, problem.Invalid("path is not a regular file: %s", target).With("field", "path")
		}
	}
	parent := filepath.Dir(dest)
	if err := s.fs.MkdirAll(parent, 0o777); err != nil {
		return nil, fsError(parent, err)
	}
	root, err := s.fs.OpenRoot(parent)
	if err != nil {
		return nil, fsError(parent, err)
	}
	defer root.Close()
	body := &uploadReader{r: in.raw.body, max: limit}
	n, err := writeAtomic(root, filepath.Base(dest), body, 0o666, keep)
	if err != nil {
		if e := body.failure(); e != nil {
			return nil, e
		}
		return nil, fsError(target, err)
	}
	return &fsWriteOut{Body: schema.FsWriteResponse{Path: target, BytesWritten: uint64(n)}}, nil
}

func (s *Server) fsDelete(ctx context.Context, in *fsDeleteIn) (*fsActionOut, error) {
	target, err := s.resolve(firstOf(in.SessionID, in.SessionIDSnake), in.Path, "path")
	if err != nil {
		return nil, err
	}
	fi, err := s.fs.Lstat(target)
	if err != nil {
		return nil, fsError(target, err)
	}
	switch {
	case fi.IsDir() && in.Recursive:
		err = s.fs.RemoveAll(target)
	default:
		err = s.fs.Remove(target) // a file, a symlink (not what it points to), or an empty directory
	}
	if err != nil {
		return nil, fsError(target, err)
	}
	return &fsActionOut{Body: schema.FsActionResponse{Path: target}}, nil
}

func (s *Server) fsMkdir(ctx context.Context, in *fsPathIn) (*fsActionOut, error) {
	target, err := s.resolve(firstOf(in.SessionID, in.SessionIDSnake), in.Path, "path")
	if err != nil {
		return nil, err
	}
	if err := s.fs.MkdirAll(target, 0o777); err != nil {
		return nil, fsError(target, err)
	}
	return &fsActionOut{Body: schema.FsActionResponse{Path: target}}, nil
}

func (s *Server) fsMove(ctx context.Context, in *fsMoveIn) (*fsMoveOut, error) {
	sid := firstOf(in.SessionID, in.SessionIDSnake)
	from, err := s.resolve(sid, in.Body.From, "from")
	if err != nil {
		return nil, err
	}
	to, err := s.resolve(sid, in.Body.To, "to")
	if err != nil {
		return nil, err
	}
	// Check the source first so that a bad move never deletes the target.
	fromInfo, err := s.fs.Lstat(from)
	if err != nil {
		return nil, fsError(from, err)
	}
	toInfo, err := s.fs.Lstat(to)
	switch {
	case err == nil && os.SameFile(fromInfo, toInfo):
		// Moving a path onto itself (or a hard link of it) changes nothing;
		// deleting the "destination" first would lose it.
	case err == nil:
		if !schema.Deref(in.Body.Overwrite) {
			return nil, problem.Invalid("destination already exists: %s", to).With("field", "to")
		}
		if toInfo.IsDir() {
			err = s.fs.RemoveAll(to)
		} else {
			err = s.fs.Remove(to)
		}
		if err != nil {
			return nil, fsError(to, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fsError(to, err)
	}
	parent := filepath.Dir(filepath.Clean(to))
	if err := s.fs.MkdirAll(parent, 0o777); err != nil {
		return nil, fsError(parent, err)
	}
	if err := s.fs.Rename(from, to); err != nil {
		if !errors.Is(err, syscall.EXDEV) || !fromInfo.Mode().IsRegular() {
			return nil, fsError(from, err)
		}
		// Another file system (/tmp on tmpfs, say): copy, then remove.
		if err := s.copyAcross(from, to, fromInfo.Mode().Perm()); err != nil {
			return nil, err
		}
	}
	return &fsMoveOut{Body: schema.FsMoveResponse{From: from, To: to}}, nil
}

// copyAcross moves a regular file between file systems.
func (s *Server) copyAcross(from, to string, perm fs.FileMode) error {
	src, err := s.fs.Open(from)
	if err != nil {
		return fsError(from, err)
	}
	defer src.Close()
	dest := filepath.Clean(to)
	root, err := s.fs.OpenRoot(filepath.Dir(dest))
	if err != nil {
		return fsError(to, err)
	}
	defer root.Close()
	if _, err := writeAtomic(root, filepath.Base(dest), src, perm, &perm); err != nil {
		return fsError(to, err)
	}
	if err := s.fs.Remove(from); err != nil {
		return fsError(from, err)
	}
	return nil
}

func (s *Server) fsStat(ctx context.Context, in *fsPathIn) (*fsStatOut, error) {
	target, err := s.resolve(firstOf(in.SessionID, in.SessionIDSnake), in.Path, "path")
	if err != nil {
		return nil, err
	}
	fi, err := s.fs.Stat(target)
	if err != nil {
		return nil, fsError(target, err)
	}
	return &fsStatOut{Body: schema.FsStat{Path: target, EntryType: entryType(fi),
		Size: uint64(max(fi.Size(), 0)), Modified: modified(fi.ModTime())}}, nil
}

// tarTypes are the content types upload-batch takes: the reference's
// prefix match on application/x-tar, plus gzip.
var tarTypes = []string{"application/x-tar", "application/gzip", "application/x-gzip"}

func (s *Server) fsUpload(ctx context.Context, in *fsUploadIn) (*fsUploadOut, error) {
	ct := strings.ToLower(strings.TrimSpace(in.raw.contentType))
	if !slices.ContainsFunc(tarTypes, func(t string) bool { return strings.HasPrefix(ct, t) }) {
		return nil, problem.Invalid("content-type must be application/x-tar").With("field", "Content-Type")
	}
	p := in.Path
	if p == "" {
		p = "."
	}
	base, err := s.resolve(firstOf(in.SessionID, in.SessionIDSnake), p, "path")
	if err != nil {
		return nil, err
	}
	limit := s.cfg.MaxUploadBytes
	if limit > 0 && in.raw.length > limit {
		return nil, tooLarge(limit)
	}
	res, err := extractTar(s.fs, in.raw.body, base, limit)
	if err != nil {
		return nil, err
	}
	return &fsUploadOut{Body: res}, nil
}
