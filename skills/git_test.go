package skills

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// gitRepo is a working repository and the bare repository it pushes to,
// which the tests install from over file://.
type gitRepo struct {
	t    *testing.T
	work string
	bare string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	base := t.TempDir()
	r := &gitRepo{t: t, work: filepath.Join(base, "work"), bare: filepath.Join(base, "skills.git")}
	r.git(base, "init", "--quiet", "--bare", "-b", "main", r.bare)
	r.git(base, "init", "--quiet", "-b", "main", r.work)
	r.git(r.work, "remote", "add", "origin", r.bare)
	return r
}

func (r *gitRepo) git(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit adds skills (relative dirs) and pushes the current branch.
func (r *gitRepo) commit(skills ...string) {
	r.t.Helper()
	for _, s := range skills {
		mkSkill(r.t, r.work, s)
	}
	r.git(r.work, "add", "-A")
	r.git(r.work, "commit", "--quiet", "-m", "add "+strings.Join(skills, ","))
	r.git(r.work, "push", "--quiet", "origin", "HEAD")
}

func (r *gitRepo) url() string { return "file://" + r.bare }

func gitSource(url string, ref string) schema.SkillSource {
	s := schema.SkillSource{Type: TypeGit, Source: url}
	if ref != "" {
		s.Ref = ptr(ref)
	}
	return s
}

var hexDir = regexp.MustCompile(`^[0-9a-f]{16}$`)

// cacheEntries lists the cache, failing on leftovers of temporary clones.
func cacheEntries(t *testing.T, cache string) []string {
	t.Helper()
	entries, err := os.ReadDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary leftover in cache: %s", e.Name())
		}
		names = append(names, e.Name())
	}
	return names
}

func TestGitSourceCloneAndPull(t *testing.T) {
	repo := newGitRepo(t)
	repo.commit("skills/alpha")
	dir, cache := t.TempDir(), t.TempDir()
	o := Options{CacheDir: cache}

	names, err := Install(context.Background(), cfg(gitSource(repo.url(), "")), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "alpha")
	entries := cacheEntries(t, cache)
	if len(entries) != 1 || !hexDir.MatchString(entries[0]) || entries[0] != cacheKey(repo.url(), "") {
		t.Fatalf("cache = %v", entries)
	}
	clone := filepath.Join(cache, entries[0])
	wantLinked(t, dir, "alpha", realpath(t, filepath.Join(clone, "skills", "alpha")))
	if n := repo.git(clone, "rev-list", "--count", "HEAD"); n != "1" {
		t.Errorf("clone depth: %s commits", n)
	}

	// A new commit upstream arrives by pull into the same checkout; the
	// existing links stay valid.
	marker := filepath.Join(clone, "marker")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	repo.commit("skills/beta")
	names, err = Install(context.Background(), cfg(gitSource(repo.url(), "")), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "alpha", "beta")
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("cache was re-cloned instead of pulled: %v", err)
	}
	wantLinked(t, dir, "alpha", realpath(t, filepath.Join(clone, "skills", "alpha")))
	wantLinked(t, dir, "beta", realpath(t, filepath.Join(clone, "skills", "beta")))
	if got := cacheEntries(t, cache); len(got) != 1 {
		t.Errorf("cache = %v", got)
	}
}

func TestGitSourceRecloneWhenPullFails(t *testing.T) {
	repo := newGitRepo(t)
	repo.commit("skills/alpha")
	dir, cache := t.TempDir(), t.TempDir()
	o := Options{CacheDir: cache}
	if _, err := Install(context.Background(), cfg(gitSource(repo.url(), "")), dir, o); err != nil {
		t.Fatal(err)
	}
	clone := filepath.Join(cache, cacheKey(repo.url(), ""))
	repo.git(clone, "remote", "set-url", "origin", filepath.Join(t.TempDir(), "gone.git"))
	repo.commit("skills/beta")

	names, err := Install(context.Background(), cfg(gitSource(repo.url(), "")), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "alpha", "beta")
	if got := repo.git(clone, "remote", "get-url", "origin"); got != repo.url() {
		t.Errorf("origin = %s: not re-cloned", got)
	}
	cacheEntries(t, cache)
}

func TestGitSourceRef(t *testing.T) {
	repo := newGitRepo(t)
	repo.commit("skills/alpha")
	repo.git(repo.work, "tag", "v1")
	repo.git(repo.work, "push", "--quiet", "origin", "v1")
	repo.git(repo.work, "checkout", "--quiet", "-b", "feature")
	repo.commit("skills/gamma")
	dir, cache := t.TempDir(), t.TempDir()
	o := Options{CacheDir: cache}

	names, err := Install(context.Background(), cfg(gitSource(repo.url(), "feature")), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "alpha", "gamma")
	if got := repo.git(filepath.Join(cache, cacheKey(repo.url(), "feature")), "rev-parse", "--abbrev-ref", "HEAD"); got != "feature" {
		t.Errorf("checked out %s", got)
	}

	// A tag is a detached checkout: the cached pull fails and it is
	// re-cloned, every time, without error.
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		names, err = Install(context.Background(), cfg(gitSource(repo.url(), "v1")), dir, o)
		if err != nil {
			t.Fatal(err)
		}
		wantNames(t, names, "alpha")
	}
	if got := cacheEntries(t, cache); len(got) != 2 {
		t.Errorf("cache = %v, want one clone per ref", got)
	}

	_, err = Install(context.Background(), cfg(gitSource(repo.url(), "no-such-branch")), t.TempDir(), o)
	wantProblem(t, err, problem.StreamError, "failed to clone skill repository "+repo.url(), "no-such-branch")
}

func TestGitSourceSubpathAndFilter(t *testing.T) {
	repo := newGitRepo(t)
	repo.commit("pack/skills/a", "pack/skills/b", "other/c")
	src := gitSource(repo.url(), "")
	src.Subpath = ptr("pack")
	src.Skills = []string{"b"}
	names, err := Install(context.Background(), cfg(src), t.TempDir(), Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "b")

	src.Skills = []string{"c"}
	_, err = Install(context.Background(), cfg(src), t.TempDir(), Options{CacheDir: t.TempDir()})
	pe := wantProblem(t, err, problem.InvalidRequest)
	if want := "invalid request: no skills found in " + repo.url() + " (git) (filter: c)"; pe.Detail != want {
		t.Errorf("detail = %q, want %q", pe.Detail, want)
	}
}

func TestGitSourceRootSkillNamedAfterRepo(t *testing.T) {
	repo := newGitRepo(t)
	repo.commit(".")
	dir := t.TempDir()
	names, err := Install(context.Background(), cfg(gitSource(repo.url(), "")), dir, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "skills") // from .../skills.git, not the cache hash
}

func TestGitSourceFailures(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	url := "file://" + filepath.Join(t.TempDir(), "missing.git")
	cache := t.TempDir()
	_, err := Install(context.Background(), cfg(gitSource(url, "")), t.TempDir(), Options{CacheDir: cache})
	pe := wantProblem(t, err, problem.StreamError, "failed to clone skill repository "+url)
	if pe.HTTPStatus() != 502 {
		t.Errorf("status = %d", pe.HTTPStatus())
	}
	if got := cacheEntries(t, cache); len(got) != 0 {
		t.Errorf("failed clone left %v", got)
	}

	_, err = Install(context.Background(), cfg(gitSource("--upload-pack=touch /tmp/x", "")), t.TempDir(), Options{CacheDir: cache})
	wantProblem(t, err, problem.InvalidRequest, "invalid git skill source")

	_, err = Install(context.Background(), cfg(gitSource(url, "")), t.TempDir(), Options{CacheDir: cache, Git: filepath.Join(t.TempDir(), "no-git")})
	wantProblem(t, err, problem.InstallFailed, "git is not installed")
}

func TestRepoName(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/skills.git":   "skills",
		"https://github.com/acme/skills/":      "skills",
		"git@github.com:acme/agent-skills.git": "agent-skills",
		"file:///srv/repos/x":                  "x",
		"file:///":                             "",
	} {
		if got := repoName(in); got != want {
			t.Errorf("repoName(%q) = %q, want %q", in, got, want)
		}
	}
}
