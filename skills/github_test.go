package skills

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// zipEntry is one file of a test archive; link makes it a symlink to body.
type zipEntry struct {
	name, body string
	link, exec bool
}

func makeZip(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch {
		case e.link:
			h.SetMode(os.ModeSymlink | 0o777)
		case e.exec:
			h.SetMode(0o755)
		case len(e.name) > 0 && e.name[len(e.name)-1] == '/':
			h.SetMode(os.ModeDir | 0o755)
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeGitHub serves archives by request path and counts requests.
type fakeGitHub struct {
	*httptest.Server
	mu       sync.Mutex
	archives map[string][]byte
	hits     atomic.Int32
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{archives: map[string][]byte{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		if ua := r.Header.Get("User-Agent"); ua != "sandbox-agent" {
			http.Error(w, "bad user agent "+ua, http.StatusForbidden)
			return
		}
		f.mu.Lock()
		body, ok := f.archives[r.URL.EscapedPath()]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Write(body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGitHub) serve(path string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.archives[path] = body
}

func github(source, ref string) schema.SkillSource {
	s := schema.SkillSource{Type: TypeGitHub, Source: source}
	if ref != "" {
		s.Ref = ptr(ref)
	}
	return s
}

func TestGitHubSource(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.serve("/repos/acme/skills/zipball/HEAD", makeZip(t,
		zipEntry{name: "acme-skills-abc123/"},
		zipEntry{name: "acme-skills-abc123/README.md", body: "readme"},
		zipEntry{name: "acme-skills-abc123/skills/foo/SKILL.md", body: "# foo"},
		zipEntry{name: "acme-skills-abc123/skills/foo/run.sh", body: "#!/bin/sh", exec: true},
		zipEntry{name: "acme-skills-abc123/skills/foo/same.md", body: "SKILL.md", link: true},
		zipEntry{name: "acme-skills-abc123/skills/foo/outside", body: "../../../../etc/passwd", link: true},
		zipEntry{name: "acme-skills-abc123/bar/SKILL.md", body: "# bar"},
	))
	dir, cache := t.TempDir(), t.TempDir()
	o := Options{CacheDir: cache, GitHubAPI: gh.URL + "/"}

	names, err := Install(context.Background(), cfg(github("acme/skills", "")), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "foo", "bar")
	root := filepath.Join(cache, "acme-skills")
	wantLinked(t, dir, "foo", realpath(t, filepath.Join(root, "skills", "foo")))
	wantLinked(t, dir, "bar", realpath(t, filepath.Join(root, "bar")))

	if b, err := os.ReadFile(filepath.Join(root, "README.md")); err != nil || string(b) != "readme" {
		t.Errorf("README.md = %q, %v (top-level prefix not stripped?)", b, err)
	}
	if fi, err := os.Stat(filepath.Join(root, "skills", "foo", "run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("run.sh: %v %v", fi, err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "skills", "foo", "same.md")); err != nil || string(b) != "# foo" {
		t.Errorf("in-tree link: %q %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(root, "skills", "foo", "outside")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a link out of the tree was created: %v", err)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 1 {
		t.Errorf("cache = %v, want only acme-skills", entries)
	}

	// A second install wipes and re-extracts: files gone upstream go.
	gh.serve("/repos/acme/skills/zipball/HEAD", makeZip(t,
		zipEntry{name: "acme-skills-def456/skills/foo/SKILL.md", body: "# foo v2"},
	))
	names, err = Install(context.Background(), cfg(github("acme/skills", "")), t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "foo")
	if _, err := os.Stat(filepath.Join(root, "bar")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale bar survived re-extraction: %v", err)
	}
	// The first session's link still resolves to the refreshed skill.
	if b, err := os.ReadFile(filepath.Join(dir, ".claude", "skills", "foo", "SKILL.md")); err != nil || string(b) != "# foo v2" {
		t.Errorf("link after refresh: %q %v", b, err)
	}
}

func TestGitHubRefAndRootSkill(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.serve("/repos/acme/one-skill/zipball/release/v1.0", makeZip(t,
		zipEntry{name: "acme-one-skill-0a1b2c/SKILL.md", body: "# root"},
	))
	src := github("acme/one-skill", "release/v1.0")
	names, err := Install(context.Background(), cfg(src), t.TempDir(), Options{CacheDir: t.TempDir(), GitHubAPI: gh.URL})
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "one-skill")
}

func TestGitHubZipSlipRejected(t *testing.T) {
	for _, evil := range []string{"acme-skills-abc/../../evil.txt", "../evil.txt", "/abs/evil.txt", `acme-skills-abc/..\..\evil.txt`} {
		t.Run(evil, func(t *testing.T) {
			gh := newFakeGitHub(t)
			gh.serve("/repos/acme/skills/zipball/HEAD", makeZip(t,
				zipEntry{name: "acme-skills-abc/skills/foo/SKILL.md", body: "# foo"},
				zipEntry{name: evil, body: "pwned"},
			))
			base := t.TempDir()
			cache := filepath.Join(base, "a", "b", "cache")
			dir := t.TempDir()
			_, err := Install(context.Background(), cfg(github("acme/skills", "")), dir, Options{CacheDir: cache, GitHubAPI: gh.URL})
			wantProblem(t, err, problem.StreamError, "unsafe path in skill archive from "+gh.URL+"/repos/acme/skills/zipball/HEAD", evil)

			filepath.Walk(base, func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.Name() == "evil.txt" {
					t.Errorf("extracted %s", p)
				}
				return nil
			})
			if entries, _ := os.ReadDir(cache); len(entries) != 0 {
				t.Errorf("cache keeps %v after a rejected archive", entries)
			}
			wantAbsent(t, dir, "foo")
		})
	}
}

func TestGitHubFailures(t *testing.T) {
	gh := newFakeGitHub(t)
	o := Options{CacheDir: t.TempDir(), GitHubAPI: gh.URL}

	_, err := Install(context.Background(), cfg(github("acme/missing", "")), t.TempDir(), o)
	pe := wantProblem(t, err, problem.StreamError, "failed to download skills from "+gh.URL+"/repos/acme/missing/zipball/HEAD", "HTTP 404")
	if pe.HTTPStatus() != 502 {
		t.Errorf("status = %d", pe.HTTPStatus())
	}

	gh.serve("/repos/acme/junk/zipball/HEAD", []byte("not a zip"))
	_, err = Install(context.Background(), cfg(github("acme/junk", "")), t.TempDir(), o)
	wantProblem(t, err, problem.StreamError, "invalid skill archive from "+gh.URL)

	gh.serve("/repos/acme/empty/zipball/HEAD", makeZip(t, zipEntry{name: "acme-empty-1/README.md"}))
	_, err = Install(context.Background(), cfg(github("acme/empty", "")), t.TempDir(), o)
	pe = wantProblem(t, err, problem.InvalidRequest)
	if want := "invalid request: no skills found in acme/empty (github)"; pe.Detail != want {
		t.Errorf("detail = %q, want %q", pe.Detail, want)
	}

	before := gh.hits.Load()
	for _, bad := range []string{"acme", "acme/skills/extra", "../x", "acme/..", "/skills", "acme/sk ills"} {
		_, err = Install(context.Background(), cfg(github(bad, "")), t.TempDir(), o)
		wantProblem(t, err, problem.InvalidRequest, "invalid github skill source: "+bad)
	}
	if gh.hits.Load() != before {
		t.Errorf("invalid sources reached the server")
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err = Install(context.Background(), cfg(github("acme/skills", "")), t.TempDir(), Options{CacheDir: t.TempDir(), GitHubAPI: closed.URL})
	wantProblem(t, err, problem.StreamError, "failed to download skills from "+closed.URL+"/repos/acme/skills/zipball/HEAD")
}

func TestGitHubConcurrentInstallsShareTheCache(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.serve("/repos/acme/skills/zipball/HEAD", makeZip(t,
		zipEntry{name: "acme-skills-abc/skills/foo/SKILL.md", body: "# foo"},
		zipEntry{name: "acme-skills-abc/skills/bar/SKILL.md", body: "# bar"},
	))
	o := Options{CacheDir: t.TempDir(), GitHubAPI: gh.URL}
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Go(func() {
			dir := t.TempDir()
			names, err := Install(context.Background(), cfg(github("acme/skills", "")), dir, o)
			if err != nil {
				t.Error(err)
				return
			}
			if len(names) != 2 {
				t.Errorf("names = %v", names)
			}
		})
	}
	wg.Wait()
}
