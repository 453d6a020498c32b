package server_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/mock"
	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/server"
	"github.com/sandbox-agent/sandbox-agent/session"
)

// fsEnv is a real server on a real socket, driven through the Go client.
type fsEnv struct {
	c    *client.Client
	url  string
	home string
	tr   *headerTransport
}

// headerTransport remembers the last response's headers, so tests can
// check what the client does not expose (the file's Content-Type).
type headerTransport struct {
	http.Transport
	mu   sync.Mutex
	last http.Header
}

func (h *headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.Transport.RoundTrip(r)
	if err == nil {
		h.mu.Lock()
		h.last = resp.Header.Clone()
		h.mu.Unlock()
	}
	return resp, err
}

func (h *headerTransport) lastHeader(k string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last.Get(k)
}

func startFS(t *testing.T, maxUpload int64) *fsEnv {
	t.Helper()
	mgr := session.NewManager(session.Config{Registry: agent.NewRegistry(mock.New(mock.Options{Interval: -1}))})
	home := t.TempDir()
	ts := httptest.NewServer(server.New(server.Config{Manager: mgr, HomeDir: home, MaxUploadBytes: maxUpload}))
	tr := &headerTransport{}
	c := client.New(ts.URL, client.WithHTTPClient(&http.Client{Transport: tr}))
	t.Cleanup(func() {
		mgr.Shutdown(context.Background())
		ts.CloseClientConnections()
		ts.Close()
		tr.CloseIdleConnections()
	})
	return &fsEnv{c: c, url: ts.URL, home: home, tr: tr}
}

func fsCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantProblem asserts err is a problem of kind with the given status whose
// detail contains detail (when not empty).
func wantProblem(t *testing.T, err error, status int, kind, detail string) *client.Problem {
	t.Helper()
	ce, ok := err.(*client.Error)
	if !ok || ce.Problem == nil {
		t.Fatalf("want a %d %s problem, got %T %v", status, kind, err, err)
	}
	p := ce.Problem
	if ce.StatusCode != status || p.Status != status || p.Kind() != kind || !strings.Contains(p.Detail, detail) {
		t.Fatalf("want %d %s %q, got %d %s %q (%v)", status, kind, detail, ce.StatusCode, p.Kind(), p.Detail, p.Details)
	}
	return p
}

func readAll(t *testing.T, c *client.Client, path, sid string) string {
	t.Helper()
	rc, err := c.FsRead(fsCtx(t), path, sid)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

type tarEntry struct {
	name, body, link string
	typ              byte
}

func tarOf(t *testing.T, entries ...tarEntry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, ModTime: time.Now()}
		switch e.typ {
		case 0:
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		case tar.TypeDir:
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// gzipped is r gzip-compressed.
func gzipped(r io.Reader) *bytes.Buffer {
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = io.Copy(zw, r)
	_ = zw.Close()
	return &zb
}

var rfc3339Ref = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?\+00:00$`)

// §7.1 fs_read_write_move_delete
func TestFsReadWriteMoveDelete(t *testing.T) {
	e := startFS(t, 0)
	ctx := fsCtx(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "hello.txt")

	w, err := e.c.FsWrite(ctx, file, "", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if w.Path != file || w.BytesWritten != 5 {
		t.Fatalf("write = %+v", w)
	}
	if got := readAll(t, e.c, file, ""); got != "hello" {
		t.Fatalf("read = %q", got)
	}
	if ct := e.tr.lastHeader("Content-Type"); ct != "application/octet-stream" {
		t.Fatalf("content-type = %q", ct)
	}

	entries, err := e.c.FsEntries(ctx, client.FsQuery{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name != "hello.txt" || entries[0].Path != file ||
		entries[0].EntryType != schema.EntryFile || entries[0].Size != 5 || entries[0].Modified == nil ||
		!rfc3339Ref.MatchString(*entries[0].Modified) {
		t.Fatalf("entries = %+v", entries)
	}

	// Overwriting keeps the file's mode.
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.FsWrite(ctx, file, "", strings.NewReader("hello again")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after overwrite = %v", fi.Mode())
	}

	// Writing to a symlink writes through it, as a plain write would.
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink("hello.txt", link); err != nil {
		t.Fatal(err)
	}
	if w, err := e.c.FsWrite(ctx, link, "", strings.NewReader("hello again")); err != nil || w.Path != link {
		t.Fatalf("write via link = %+v, %v", w, err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 || readAll(t, e.c, file, "") != "hello again" {
		t.Fatalf("link replaced or target unchanged: %v %v", fi, err)
	}
	if _, err := e.c.FsDelete(ctx, link, "", false); err != nil || exists(link) || !exists(file) {
		t.Fatalf("deleting a link: %v", err)
	}

	// Move onto an existing file: refused without overwrite, done with it.
	moved := filepath.Join(dir, "sub", "moved.txt")
	if _, err := e.c.FsWrite(ctx, moved, "", strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.FsMove(ctx, "", schema.FsMoveRequest{From: file, To: moved})
	p := wantProblem(t, err, 400, "invalid_request", "destination already exists: "+moved)
	if p.Details["field"] != "to" {
		t.Fatalf("details = %v", p.Details)
	}
	yes := true
	mv, err := e.c.FsMove(ctx, "", schema.FsMoveRequest{From: file, To: moved, Overwrite: &yes})
	if err != nil {
		t.Fatal(err)
	}
	if mv.From != file || mv.To != moved || exists(file) || readAll(t, e.c, moved, "") != "hello again" {
		t.Fatalf("move = %+v", mv)
	}
	// Moving a missing source never deletes the destination.
	_, err = e.c.FsMove(ctx, "", schema.FsMoveRequest{From: file, To: moved, Overwrite: &yes})
	wantProblem(t, err, 400, "invalid_request", "path not found: "+file)
	if !exists(moved) {
		t.Fatal("failed move deleted the destination")
	}
	// Moving onto itself is a no-op, not a deletion.
	if _, err := e.c.FsMove(ctx, "", schema.FsMoveRequest{From: moved, To: moved, Overwrite: &yes}); err != nil || !exists(moved) {
		t.Fatalf("self move: %v, exists=%v", err, exists(moved))
	}

	del, err := e.c.FsDelete(ctx, moved, "", false)
	if err != nil || del.Path != moved || exists(moved) {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	// Not found is the reference's 400, naming the absolute path.
	_, err = e.c.FsStat(ctx, moved, "")
	wantProblem(t, err, 400, "invalid_request", "invalid request: path not found: "+moved)
	_, err = e.c.FsDelete(ctx, moved, "", false)
	wantProblem(t, err, 400, "invalid_request", "path not found: "+moved)
	_, err = e.c.FsRead(ctx, moved, "")
	wantProblem(t, err, 400, "invalid_request", "path not found: "+moved)
}

// §7.1 fs_upload_batch_tar, plus the gzip extension.
func TestFsUploadBatchTar(t *testing.T) {
	e := startFS(t, 0)
	ctx := fsCtx(t)
	for _, gz := range []bool{false, true} {
		dest := filepath.Join(t.TempDir(), "dest")
		body := io.Reader(tarOf(t, tarEntry{name: "a.txt", body: "A"}, tarEntry{name: "nested/", typ: tar.TypeDir},
			tarEntry{name: "nested/b.txt", body: "B"}, tarEntry{name: "./", typ: tar.TypeDir}))
		if gz {
			body = gzipped(body)
		}
		res, err := e.c.FsUploadBatch(ctx, dest, "", body)
		if err != nil {
			t.Fatalf("gzip=%v: %v", gz, err)
		}
		want := []string{filepath.Join(dest, "a.txt"), filepath.Join(dest, "nested"), filepath.Join(dest, "nested", "b.txt")}
		if fmt.Sprint(res.Paths) != fmt.Sprint(want) || res.Truncated {
			t.Fatalf("gzip=%v: %+v", gz, res)
		}
		if readAll(t, e.c, want[0], "") != "A" || readAll(t, e.c, want[2], "") != "B" {
			t.Fatal("content mismatch")
		}
	}
}

// §7.1 fs_upload_batch_truncates_paths
func TestFsUploadBatchTruncatesPaths(t *testing.T) {
	e := startFS(t, 0)
	var entries []tarEntry
	for i := range 1030 {
		entries = append(entries, tarEntry{name: fmt.Sprintf("f%04d.txt", i), body: "x"})
	}
	dest := t.TempDir()
	res, err := e.c.FsUploadBatch(fsCtx(t), dest, "", tarOf(t, entries...))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Paths) != 1024 || !res.Truncated || res.Paths[1023] != filepath.Join(dest, "f1023.txt") {
		t.Fatalf("paths=%d truncated=%v", len(res.Paths), res.Truncated)
	}
	if !exists(filepath.Join(dest, "f1029.txt")) {
		t.Fatal("entries past the report limit were not extracted")
	}
}

// §7.1 fs_mkdir_stat_and_delete_directory
func TestFsMkdirStatAndDeleteDirectory(t *testing.T) {
	e := startFS(t, 0)
	ctx := fsCtx(t)
	dir := filepath.Join(t.TempDir(), "a", "b")
	mk, err := e.c.FsMkdir(ctx, dir, "")
	if err != nil || mk.Path != dir {
		t.Fatalf("mkdir = %+v, %v", mk, err)
	}
	if _, err := e.c.FsMkdir(ctx, dir, ""); err != nil {
		t.Fatalf("mkdir of an existing dir: %v", err)
	}
	st, err := e.c.FsStat(ctx, dir, "")
	if err != nil || st.EntryType != schema.EntryDirectory || st.Path != dir || st.Modified == nil || !rfc3339Ref.MatchString(*st.Modified) {
		t.Fatalf("stat dir = %+v, %v", st, err)
	}
	file := filepath.Join(dir, "f.txt")
	if _, err := e.c.FsWrite(ctx, file, "", strings.NewReader("abc")); err != nil {
		t.Fatal(err)
	}
	st, err = e.c.FsStat(ctx, file, "")
	if err != nil || st.EntryType != schema.EntryFile || st.Size != 3 {
		t.Fatalf("stat file = %+v, %v", st, err)
	}
	// Kinds of misuse are 400s naming the path.
	_, err = e.c.FsEntries(ctx, client.FsQuery{Path: file})
	wantProblem(t, err, 400, "invalid_request", "path is not a directory: "+file)
	_, err = e.c.FsRead(ctx, dir, "")
	wantProblem(t, err, 400, "invalid_request", "path is not a file: "+dir)
	_, err = e.c.FsWrite(ctx, dir, "", strings.NewReader("x"))
	wantProblem(t, err, 400, "invalid_request", "path is a directory: "+dir)
	_, err = e.c.FsMkdir(ctx, filepath.Join(file, "sub"), "")
	wantProblem(t, err, 400, "invalid_request", "")
	_, err = e.c.FsDelete(ctx, dir, "", false)
	wantProblem(t, err, 400, "invalid_request", "directory not empty: "+dir)

	del, err := e.c.FsDelete(ctx, dir, "", true)
	if err != nil || del.Path != dir || exists(dir) {
		t.Fatalf("delete dir = %+v, %v", del, err)
	}
}

// §7.1 fs_relative_paths_use_session_dir, and relative paths without one.
func TestFsRelativePaths(t *testing.T) {
	e := startFS(t, 0)
	ctx := fsCtx(t)

	// No session: relative to the home directory.
	w, err := e.c.FsWrite(ctx, "./notes//today.txt", "", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(e.home, "notes", "today.txt"); w.Path != want || !exists(want) {
		t.Fatalf("write = %+v, want %s", w, want)
	}
	entries, err := e.c.FsEntries(ctx, client.FsQuery{})
	if err != nil || len(entries) != 1 || entries[0].Name != "notes" || entries[0].EntryType != schema.EntryDirectory {
		t.Fatalf("entries of home = %+v, %v", entries, err)
	}

	// A session with a directory.
	sdir := t.TempDir()
	if _, err := e.c.CreateSession(ctx, "with-dir", schema.CreateSessionRequest{Agent: "mock", Directory: &sdir}); err != nil {
		t.Fatal(err)
	}
	w, err = e.c.FsWrite(ctx, "src/main.go", "with-dir", strings.NewReader("package main"))
	if err != nil || w.Path != filepath.Join(sdir, "src", "main.go") {
		t.Fatalf("write = %+v, %v", w, err)
	}
	res, err := e.c.FsUploadBatch(ctx, "", "with-dir", tarOf(t, tarEntry{name: "up.txt", body: "u"}))
	if err != nil || len(res.Paths) != 1 || res.Paths[0] != filepath.Join(sdir, "up.txt") {
		t.Fatalf("upload = %+v, %v", res, err)
	}

	// A session without one: the server's working directory, like the
	// reference's daemon cwd. The session_id spelling works too.
	if _, err := e.c.CreateSession(ctx, "no-dir", schema.CreateSessionRequest{Agent: "mock"}); err != nil {
		t.Fatal(err)
	}
	cwd, _ := os.Getwd()
	under, err := os.MkdirTemp(cwd, "fs-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(under) })
	rel := filepath.Join(filepath.Base(under), "x.txt")
	w, err = e.c.FsWrite(ctx, rel, "no-dir", strings.NewReader("cwd"))
	if err != nil || w.Path != filepath.Join(cwd, rel) || !exists(filepath.Join(under, "x.txt")) {
		t.Fatalf("write = %+v, %v", w, err)
	}
	resp, err := http.Get(e.url + "/v1/fs/stat?" + url.Values{"path": {rel}, "session_id": {"no-dir"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stat with session_id = %d", resp.StatusCode)
	}

	// Absolute paths ignore the session; relative ones may not climb out.
	if _, err := e.c.FsStat(ctx, sdir, "no-dir"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"../x", "a/../../x", "a/.."} {
		_, err = e.c.FsWrite(ctx, bad, "with-dir", strings.NewReader("x"))
		p := wantProblem(t, err, 400, "invalid_request", "invalid relative path: "+bad)
		if p.Details["field"] != "path" {
			t.Fatalf("details = %v", p.Details)
		}
	}
	_, err = e.c.FsMove(ctx, "", schema.FsMoveRequest{From: "notes", To: "../elsewhere"})
	wantProblem(t, err, 400, "invalid_request", "invalid relative path: ../elsewhere")

	// An unknown session is 404 session_not_found.
	_, err = e.c.FsStat(ctx, "x.txt", "nope")
	p := wantProblem(t, err, 404, "session_not_found", "session not found: nope")
	if p.SessionID != "nope" {
		t.Fatalf("problem = %+v", p)
	}
}

// patternReader is a deterministic stream of n bytes that hides its size,
// so the client sends it chunked.
func patternReader(n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{7}), n)
}

func TestFsLargeUploadStreams(t *testing.T) {
	e := startFS(t, 0)
	ctx := fsCtx(t)
	const size = 12<<20 + 123 // well past the reference's 2 MiB body limit
	file := filepath.Join(t.TempDir(), "big.bin")
	w, err := e.c.FsWrite(ctx, file, "", patternReader(size))
	if err != nil {
		t.Fatal(err)
	}
	if w.BytesWritten != size {
		t.Fatalf("bytesWritten = %d", w.BytesWritten)
	}
	want := sha256.New()
	_, _ = io.Copy(want, patternReader(size))
	rc, err := e.c.FsRead(ctx, file, "")
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, rc)
	rc.Close()
	if err != nil || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("read back %d bytes, err %v, hash match %v", n, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
}

func TestFsMaxUploadBytes(t *testing.T) {
	const limit = 1 << 20
	e := startFS(t, limit)
	ctx := fsCtx(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "f.bin")

	// Exactly at the limit is fine.
	if w, err := e.c.FsWrite(ctx, file, "", patternReader(limit)); err != nil || w.BytesWritten != limit {
		t.Fatalf("write at limit = %+v, %v", w, err)
	}
	// Past it: chunked (found while streaming) and with a Content-Length
	// (refused up front). Either way the old file is untouched and nothing
	// partial is left behind.
	for _, body := range []io.Reader{patternReader(limit + 1), bytes.NewReader(make([]byte, 2*limit))} {
		_, err := e.c.FsWrite(ctx, file, "", body)
		p := wantProblem(t, err, 413, "payload_too_large", "1048576 bytes")
		if p.Details["field"] != "body" {
			t.Fatalf("details = %v", p.Details)
		}
		if fi, err := os.Stat(file); err != nil || fi.Size() != limit {
			t.Fatalf("old file changed: %v %v", fi, err)
		}
		names, _ := os.ReadDir(dir)
		if len(names) != 1 {
			t.Fatalf("leftovers: %v", names)
		}
	}
	fresh := filepath.Join(dir, "fresh.bin")
	_, err := e.c.FsWrite(ctx, fresh, "", patternReader(3*limit))
	wantProblem(t, err, 413, "payload_too_large", "")
	if exists(fresh) {
		t.Fatal("partial upload left behind")
	}

	// upload-batch: the body is capped, and so is what a gzip unpacks to.
	big := tarOf(t, tarEntry{name: "big.txt", body: strings.Repeat("z", 2*limit)})
	_, err = e.c.FsUploadBatch(ctx, filepath.Join(dir, "batch"), "", io.MultiReader(big))
	wantProblem(t, err, 413, "payload_too_large", "")
	zb := gzipped(tarOf(t, tarEntry{name: "bomb.txt", body: strings.Repeat("z", 2*limit)}))
	if zb.Len() >= limit {
		t.Fatalf("gzip too big for the test: %d", zb.Len())
	}
	_, err = e.c.FsUploadBatch(ctx, filepath.Join(dir, "batch"), "", zb)
	wantProblem(t, err, 413, "payload_too_large", "")
	if exists(filepath.Join(dir, "batch", "big.txt")) || exists(filepath.Join(dir, "batch", "bomb.txt")) {
		t.Fatal("partial entry left behind")
	}
}

func TestFsTarTraversal(t *testing.T) {
	e := startFS(t, 0)
	ctx := fsCtx(t)
	top := t.TempDir()
	dest := filepath.Join(top, "dest")
	outside := filepath.Join(top, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		entries []tarEntry
		detail  string
	}{
		{"dotdot", []tarEntry{{name: "../evil.txt", body: "x"}}, "invalid relative path: ../evil.txt"},
		{"nested dotdot", []tarEntry{{name: "a/../../evil.txt", body: "x"}}, "invalid relative path"},
		{"absolute", []tarEntry{{name: filepath.Join(outside, "evil.txt"), body: "x"}}, "invalid relative path"},
		{"symlink up", []tarEntry{{name: "link", typ: tar.TypeSymlink, link: "../outside"}}, "tar entry escapes destination: link -> ../outside"},
		{"symlink absolute", []tarEntry{{name: "link", typ: tar.TypeSymlink, link: outside}}, "tar entry escapes destination"},
		{"symlink dotdot after name", []tarEntry{{name: "link", typ: tar.TypeSymlink, link: "sub/../../outside"}}, ".. only at its start"},
		// "d" -> "." is harmless, but makes "d/l" live in dest itself, where
		// "../x" is outside: checked against the link's real location.
		{"symlink via dir link", []tarEntry{{name: "d", typ: tar.TypeSymlink, link: "."}, {name: "d/l", typ: tar.TypeSymlink, link: "../outside"}}, "tar entry escapes destination: d/l"},
		{"hardlink up", []tarEntry{{name: "hl", typ: tar.TypeLink, link: "../outside/secret"}}, "tar entry escapes destination"},
		{"hardlink of a deep symlink", []tarEntry{{name: "a/b/", typ: tar.TypeDir}, {name: "a/b/l", typ: tar.TypeSymlink, link: "../../x"},
			{name: "hl", typ: tar.TypeLink, link: "a/b/l"}}, "tar entry escapes destination: hl"},
		// A file written through a link that points out is refused too.
		{"write through existing link", []tarEntry{{name: "out/evil.txt", body: "x"}}, "tar entry escapes destination: out/evil.txt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.RemoveAll(dest)
			if err := os.MkdirAll(dest, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(dest, "out")); err != nil {
				t.Fatal(err)
			}
			_, err := e.c.FsUploadBatch(ctx, dest, "", tarOf(t, tc.entries...))
			p := wantProblem(t, err, 400, "invalid_request", tc.detail)
			if p.Details["field"] != "body" {
				t.Fatalf("details = %v", p.Details)
			}
			if left, _ := os.ReadDir(outside); len(left) != 0 {
				t.Fatalf("wrote outside: %v", left)
			}
			if exists(filepath.Join(top, "evil.txt")) {
				t.Fatal("wrote outside")
			}
		})
	}

	// Links that stay inside are fine, and files can be written through them.
	_ = os.RemoveAll(dest)
	res, err := e.c.FsUploadBatch(ctx, dest, "", tarOf(t,
		tarEntry{name: "sub/", typ: tar.TypeDir},
		tarEntry{name: "lnk", typ: tar.TypeSymlink, link: "sub"},
		tarEntry{name: "lnk/f.txt", body: "via link"},
		tarEntry{name: "sub/deeper/up", typ: tar.TypeSymlink, link: "../../sub"},
		tarEntry{name: "hard.txt", typ: tar.TypeLink, link: "sub/f.txt"},
	))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Paths) != 5 || readAll(t, e.c, filepath.Join(dest, "sub", "f.txt"), "") != "via link" ||
		readAll(t, e.c, filepath.Join(dest, "hard.txt"), "") != "via link" {
		t.Fatalf("upload = %+v", res)
	}
}

func TestFsBadInput(t *testing.T) {
	e := startFS(t, 0)
	ctx := fsCtx(t)
	dir := t.TempDir()

	// Raw HTTP only for what the typed client cannot send.
	raw := func(method, path, ct, body string) *client.Problem {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, e.url+path, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := e.tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("%s %s = %d %s", method, path, resp.StatusCode, b)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("content-type %q: %s", ct, b)
		}
		p := &client.Problem{}
		if err := json.Unmarshal(b, p); err != nil || p.Type == "" || p.Status != resp.StatusCode {
			t.Fatalf("not a problem: %s", b)
		}
		return p
	}
	q := url.Values{"path": {dir}, "recursive": {"yes"}}.Encode()
	if p := raw(http.MethodDelete, "/v1/fs/entry?"+q, "", ""); p.Status != 400 || p.Details["field"] != "query.recursive" {
		t.Fatalf("recursive=yes: %+v", p)
	}
	if !exists(dir) {
		t.Fatal("deleted despite a bad flag")
	}
	if p := raw(http.MethodPost, "/v1/fs/upload-batch?path="+url.QueryEscape(dir), "application/octet-stream", "x"); p.Status != 400 ||
		p.Details["field"] != "Content-Type" || !strings.Contains(p.Detail, "content-type must be application/x-tar") {
		t.Fatalf("upload content-type: %+v", p)
	}
	if p := raw(http.MethodPost, "/v1/fs/move", "application/json", `{"from":`); p.Status != 400 {
		t.Fatalf("malformed move: %+v", p)
	}
	if p := raw(http.MethodPost, "/v1/fs/move", "application/json", `{"from":"a"}`); p.Status != 422 || !strings.Contains(p.Detail, "required property to ") {
		t.Fatalf("move without to: %+v", p)
	}

	// A missing path names the field.
	for name, call := range map[string]func() error{
		"read":  func() error { _, err := e.c.FsRead(ctx, "", ""); return err },
		"write": func() error { _, err := e.c.FsWrite(ctx, "", "", strings.NewReader("x")); return err },
		"stat":  func() error { _, err := e.c.FsStat(ctx, "", ""); return err },
		"mkdir": func() error { _, err := e.c.FsMkdir(ctx, "", ""); return err },
		"del":   func() error { _, err := e.c.FsDelete(ctx, "", "", true); return err },
	} {
		p := wantProblem(t, call(), 400, "invalid_request", "path")
		if p.Details["field"] != "query.path" {
			t.Fatalf("%s: details = %v", name, p.Details)
		}
	}
	_, err := e.c.FsMove(ctx, "", schema.FsMoveRequest{From: "", To: "x"})
	if p := wantProblem(t, err, 400, "invalid_request", "from must not be empty"); p.Details["field"] != "from" {
		t.Fatalf("details = %v", p.Details)
	}

	// A body that is not a tar archive.
	_, err = e.c.FsUploadBatch(ctx, dir, "", strings.NewReader(strings.Repeat("not a tar ", 100)))
	wantProblem(t, err, 400, "invalid_request", "invalid tar archive")
	trunc := tarOf(t, tarEntry{name: "a.txt", body: strings.Repeat("a", 5000)}).Bytes()[:1500]
	_, err = e.c.FsUploadBatch(ctx, dir, "", bytes.NewReader(trunc))
	wantProblem(t, err, 400, "invalid_request", "invalid tar archive")
	if exists(filepath.Join(dir, "a.txt")) {
		t.Fatal("truncated entry left behind")
	}
	_, err = e.c.FsUploadBatch(ctx, dir, "", bytes.NewReader([]byte{0x1f, 0x8b, 0, 0}))
	wantProblem(t, err, 400, "invalid_request", "")
}

func TestFsModifiedAndOrder(t *testing.T) {
	e := startFS(t, 0)
	ctx := fsCtx(t)
	dir := t.TempDir()
	times := map[string]time.Time{
		"ns":   time.Date(2026, 2, 9, 10, 11, 12, 123456789, time.FixedZone("x", 3600)),
		"us":   time.Date(2026, 2, 9, 10, 11, 12, 123456000, time.UTC),
		"ms":   time.Date(2026, 2, 9, 10, 11, 12, 120000000, time.UTC),
		"zero": time.Date(2026, 2, 9, 10, 11, 12, 0, time.UTC),
	}
	want := map[string]string{
		"ns":   "2026-02-09T09:11:12.123456789+00:00",
		"us":   "2026-02-09T10:11:12.123456+00:00",
		"ms":   "2026-02-09T10:11:12.120+00:00",
		"zero": "2026-02-09T10:11:12+00:00",
	}
	for name, tm := range times {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, tm, tm); err != nil {
			t.Fatal(err)
		}
		st, err := e.c.FsStat(ctx, p, "")
		if err != nil || st.Modified == nil || *st.Modified != want[name] {
			t.Fatalf("%s: stat = %+v, %v (want %s)", name, st, err, want[name])
		}
	}
	for i := range 40 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("z%02d-%d", 40-i, i*7919%97)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("ns", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	des, _ := f.ReadDir(-1)
	f.Close()
	entries, err := e.c.FsEntries(ctx, client.FsQuery{Path: dir})
	if err != nil || len(entries) != len(des) {
		t.Fatalf("entries = %d, %v", len(entries), err)
	}
	for i, de := range des {
		if entries[i].Name != de.Name() {
			t.Fatalf("entry %d = %s, directory order has %s", i, entries[i].Name, de.Name())
		}
		if de.Name() == "link" && (entries[i].EntryType != schema.EntryFile || entries[i].Size != 2) {
			t.Fatalf("symlink entry = %+v", entries[i])
		}
	}
}

func TestFsOpenAPI(t *testing.T) {
	s := server.New(server.Config{Manager: session.NewManager(session.Config{Registry: agent.NewRegistry()})})
	paths := s.OpenAPI().Paths
	ids := map[string]string{}
	for p, item := range paths {
		if !strings.HasPrefix(p, "/v1/fs/") {
			continue
		}
		if item.Get != nil {
			ids["GET "+p] = item.Get.OperationID
		}
		if item.Put != nil {
			ids["PUT "+p] = item.Put.OperationID
		}
		if item.Post != nil {
			ids["POST "+p] = item.Post.OperationID
		}
		if item.Delete != nil {
			ids["DELETE "+p] = item.Delete.OperationID
		}
	}
	want := map[string]string{
		"GET /v1/fs/entries": "listFsEntries", "GET /v1/fs/file": "readFsFile", "PUT /v1/fs/file": "writeFsFile",
		"DELETE /v1/fs/entry": "deleteFsEntry", "POST /v1/fs/mkdir": "mkdirFs", "POST /v1/fs/move": "moveFs",
		"GET /v1/fs/stat": "statFs", "POST /v1/fs/upload-batch": "uploadFsBatch",
	}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("operations = %v", ids)
	}
	put := paths["/v1/fs/file"].Put
	if put.RequestBody == nil || put.RequestBody.Content["application/octet-stream"] == nil ||
		put.RequestBody.Content["application/octet-stream"].Schema.Format != "binary" || put.Tags[0] != "fs" {
		t.Fatalf("PUT /v1/fs/file request body = %+v", put.RequestBody)
	}
	if paths["/v1/fs/upload-batch"].Post.RequestBody.Content["application/x-tar"] == nil {
		t.Fatal("upload-batch does not document application/x-tar")
	}
}
