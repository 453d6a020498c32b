package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/mock"
	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/server"
	"github.com/sandbox-agent/sandbox-agent/session"
)

// startConfined is startFS with the fs routes confined to a fresh
// directory (--fs-root); it returns the env and that directory.
func startConfined(t *testing.T) (*fsEnv, string) {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root, err := server.OpenFSRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	mgr := session.NewManager(session.Config{Registry: agent.NewRegistry(mock.New(mock.Options{Interval: -1})), Dir: dir})
	ts := httptest.NewServer(server.New(server.Config{Manager: mgr, FSRoot: root}))
	tr := &headerTransport{}
	c := client.New(ts.URL, client.WithHTTPClient(&http.Client{Transport: tr}))
	t.Cleanup(func() {
		mgr.Shutdown(context.Background())
		ts.CloseClientConnections()
		ts.Close()
		tr.CloseIdleConnections()
		root.Close()
	})
	return &fsEnv{c: c, url: ts.URL, home: dir, tr: tr}, dir
}

// TestFsRootConfines: with --fs-root nothing outside the directory can be
// read, listed, written, created, moved or deleted — not by an absolute
// path, not by "..", not through a symlink (absolute or relative, to a file
// or a directory) — while everything inside works as before.
func TestFsRootConfines(t *testing.T) {
	e, root := startConfined(t)
	ctx := fsCtx(t)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"abs-file": secret, "abs-dir": outside, "rel-dir": "../../../../../../../../" + outside} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	forbidden := func(what string, err error) {
		t.Helper()
		ce, ok := err.(*client.Error)
		if !ok || ce.Problem == nil || ce.StatusCode/100 != 4 {
			t.Errorf("%s: want a 4xx problem, got %v", what, err)
		}
	}
	read := func(p string) error {
		rc, err := e.c.FsRead(ctx, p, "")
		if err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			t.Errorf("read %s: got %q", p, b)
		}
		return err
	}
	for _, p := range []string{secret, root + "/../" + filepath.Base(outside) + "/secret.txt", root + "/abs-file", root + "/abs-dir/secret.txt", root + "/rel-dir/secret.txt", "abs-dir/secret.txt"} {
		forbidden("read "+p, read(p))
		_, err := e.c.FsStat(ctx, p, "")
		forbidden("stat "+p, err)
	}
	for _, p := range []string{outside, root + "/abs-dir", "rel-dir", "/"} {
		_, err := e.c.FsEntries(ctx, client.FsQuery{Path: p})
		forbidden("list "+p, err)
	}
	for _, p := range []string{secret, root + "/abs-file", root + "/abs-dir/new.txt", "rel-dir/new.txt"} {
		_, err := e.c.FsWrite(ctx, p, "", strings.NewReader("pwned"))
		forbidden("write "+p, err)
	}
	for _, p := range []string{outside + "/newdir", "abs-dir/newdir"} {
		_, err := e.c.FsMkdir(ctx, p, "")
		forbidden("mkdir "+p, err)
	}
	_, err := e.c.FsMove(ctx, "", schema.FsMoveRequest{From: secret, To: root + "/stolen.txt"})
	forbidden("move in", err)
	_, err = e.c.FsUploadBatch(ctx, "abs-dir", "", tarOf(t, tarEntry{name: "x.txt", body: "pwned"}))
	forbidden("upload through a symlinked directory", err)
	_, err = e.c.FsDelete(ctx, secret, "", false)
	forbidden("delete outside", err)
	_, err = e.c.FsDelete(ctx, root, "", true)
	forbidden("delete the root", err)

	if b, _ := os.ReadFile(secret); string(b) != "outside" {
		t.Fatalf("the outside file changed: %q", b)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Fatalf("files appeared outside: %v", entries)
	}

	// Inside, the API is unchanged: absolute and relative paths, moves,
	// symlinks that stay inside.
	if _, err := e.c.FsWrite(ctx, root+"/a/b.txt", "", strings.NewReader("inside")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a/b.txt", filepath.Join(root, "inner-link")); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, e.c, "inner-link", ""); got != "inside" {
		t.Fatalf("read through an inner symlink: %q", got)
	}
	if _, err := e.c.FsWrite(ctx, "inner-link", "", strings.NewReader("through")); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, e.c, root+"/a/b.txt", ""); got != "through" {
		t.Fatalf("write through an inner symlink: %q", got)
	}
	if _, err := e.c.FsMove(ctx, "", schema.FsMoveRequest{From: "a/b.txt", To: root + "/c/d.txt"}); err != nil {
		t.Fatal(err)
	}
	if st, err := e.c.FsStat(ctx, "c/d.txt", ""); err != nil || st.Path != root+"/c/d.txt" || st.Size != 7 {
		t.Fatalf("stat after move: %+v %v", st, err)
	}
	if res, err := e.c.FsUploadBatch(ctx, "up", "", tarOf(t, tarEntry{name: "x.txt", body: "tar"})); err != nil || len(res.Paths) != 1 {
		t.Fatalf("upload: %+v %v", res, err)
	}
	if _, err := e.c.FsDelete(ctx, root+"/c", "", true); err != nil {
		t.Fatal(err)
	}
	ents, err := e.c.FsEntries(ctx, client.FsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, en := range ents {
		names = append(names, en.Name)
	}
	if strings.Join(names, ",") == "" || strings.Contains(strings.Join(names, ","), ",c,") {
		t.Fatalf("entries of the root: %v", names)
	}
}

// TestFsOwnProcRefused: the server's own /proc entries (its environment
// holds its token) are refused, by any name and through symlinks, with or
// without --fs-root; other /proc files stay readable.
func TestFsOwnProcRefused(t *testing.T) {
	e := startFS(t, 0)
	ctx := fsCtx(t)
	dir := t.TempDir()
	if err := os.Symlink("/proc/self/environ", filepath.Join(dir, "env-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/self", filepath.Join(dir, "self-link")); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(os.Getpid())
	for _, p := range []string{"/proc/self/environ", "/proc/thread-self/environ", "/proc/" + pid + "/environ",
		"/proc/" + pid + "/cmdline", "/proc/self/fd/0", "/proc/self/../self/environ", dir + "/env-link", dir + "/self-link/environ",
		"/dev/fd/0", "/dev/stdin"} {
		rc, err := e.c.FsRead(ctx, p, "")
		if err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			t.Errorf("read %s: %d bytes served", p, len(b))
			continue
		}
		if ce, ok := err.(*client.Error); !ok || ce.StatusCode != 403 && ce.StatusCode != 400 {
			t.Errorf("read %s: %v", p, err)
		}
	}
	for _, p := range []string{"/proc/self", "/proc/self/fd", "/proc/" + pid, dir + "/self-link"} {
		if _, err := e.c.FsEntries(ctx, client.FsQuery{Path: p}); err == nil {
			t.Errorf("list %s: served", p)
		}
	}
	if got := readAll(t, e.c, "/proc/version", ""); !strings.Contains(got, "Linux") {
		t.Errorf("/proc/version = %q", got)
	}
}
