package skills

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

func TestLocalSingleSkill(t *testing.T) {
	dir := t.TempDir()
	skillDir := mkSkill(t, dir, "my-test-skill")

	names, err := Install(context.Background(), cfg(local("my-test-skill")), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "my-test-skill")
	wantLinked(t, dir, "my-test-skill", realpath(t, skillDir))
}

func TestLocalAbsoluteSourceWithSkillsDir(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	a := mkSkill(t, src, "skills/alpha")
	b := mkSkill(t, src, "beta")

	names, err := Install(context.Background(), cfg(local(src)), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "alpha", "beta")
	wantLinked(t, dir, "alpha", realpath(t, a))
	wantLinked(t, dir, "beta", realpath(t, b))
}

func TestEmptyConfigIsNoop(t *testing.T) {
	dir := t.TempDir()
	names, err := Install(context.Background(), schema.SkillsConfig{}, dir, Options{})
	if err != nil || names != nil {
		t.Fatalf("Install = %v, %v", names, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("dir not empty: %v", entries)
	}
}

func TestFilter(t *testing.T) {
	dir := t.TempDir()
	wanted := mkSkill(t, dir, "pack/wanted-skill")
	mkSkill(t, dir, "pack/other-skill")

	names, err := Install(context.Background(), cfg(local("pack", "wanted-skill")), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "wanted-skill")
	wantLinked(t, dir, "wanted-skill", realpath(t, wanted))
	wantAbsent(t, dir, "other-skill")
}

func TestFilterNoMatch(t *testing.T) {
	dir := t.TempDir()
	mkSkill(t, dir, "pack/some-skill")

	_, err := Install(context.Background(), cfg(local("pack", "nope", "zilch")), dir, Options{})
	pe := wantProblem(t, err, problem.InvalidRequest)
	if want := "invalid request: no skills found in pack (local) (filter: nope, zilch)"; pe.Detail != want {
		t.Errorf("detail = %q, want %q", pe.Detail, want)
	}
	if pe.HTTPStatus() != 400 {
		t.Errorf("status = %d", pe.HTTPStatus())
	}
	wantAbsent(t, dir, "some-skill")
}

func TestNoSkills(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "empty", "child"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Install(context.Background(), cfg(local("empty")), dir, Options{})
	pe := wantProblem(t, err, problem.InvalidRequest)
	if want := "invalid request: no skills found in empty (local)"; pe.Detail != want {
		t.Errorf("detail = %q, want %q", pe.Detail, want)
	}
}

func TestInvalidLocalPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"does-not-exist", "file", filepath.Join(dir, "nope")} {
		_, err := Install(context.Background(), cfg(local(src)), dir, Options{})
		wantProblem(t, err, problem.InvalidRequest, "skill source is not a directory")
	}
	_, err := Install(context.Background(), cfg(local("  ")), dir, Options{})
	wantProblem(t, err, problem.InvalidRequest, "skill source cannot be empty")
}

func TestUnsupportedType(t *testing.T) {
	dir := t.TempDir()
	mkSkill(t, dir, "s")
	for _, typ := range []string{"svn", "", "Local"} {
		_, err := Install(context.Background(), cfg(schema.SkillSource{Type: typ, Source: "s"}), dir, Options{})
		pe := wantProblem(t, err, problem.InvalidRequest)
		if want := "invalid request: unsupported skill source type: " + typ; pe.Detail != want {
			t.Errorf("detail = %q, want %q", pe.Detail, want)
		}
	}
}

func TestSubpath(t *testing.T) {
	dir := t.TempDir()
	a := mkSkill(t, dir, "repo/nested/skills/a")
	mkSkill(t, dir, "repo/top")

	src := local("repo")
	src.Subpath = ptr("nested")
	names, err := Install(context.Background(), cfg(src), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "a")
	wantLinked(t, dir, "a", realpath(t, a))
	wantAbsent(t, dir, "top")

	// A subpath naming the skill itself: the skill takes the subpath's name.
	src.Subpath = ptr("nested/skills/a/")
	names, err = Install(context.Background(), cfg(src), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "a")

	src.Subpath = ptr("missing")
	_, err = Install(context.Background(), cfg(src), dir, Options{})
	wantProblem(t, err, problem.InvalidRequest, "skill subpath not found: missing in repo")

	for _, bad := range []string{"../repo", "/etc", "nested/../../x"} {
		src.Subpath = ptr(bad)
		_, err = Install(context.Background(), cfg(src), dir, Options{})
		wantProblem(t, err, problem.InvalidRequest, "invalid skill subpath: "+bad)
	}
}

func TestDiscoveryOrderAndDedupe(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	mkSkill(t, src, ".")
	a := mkSkill(t, src, "skills/a")
	b := mkSkill(t, src, "b")
	// A link to a skill already found, and the skills dir seen again as a
	// direct child (it has no SKILL.md, so it is no skill itself).
	if err := os.Symlink(a, filepath.Join(src, "skills", "a-again")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(src, "not-a-skill"), 0o755); err != nil {
		t.Fatal(err)
	}

	// The same source twice, once through a symlink: each skill once.
	alias := filepath.Join(t.TempDir(), "alias")
	if err := os.Symlink(src, alias); err != nil {
		t.Fatal(err)
	}
	names, err := Install(context.Background(), cfg(local(src), local(alias)), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, filepath.Base(src), "a", "b")
	wantLinked(t, dir, filepath.Base(src), realpath(t, src))
	wantLinked(t, dir, "a", realpath(t, a))
	wantLinked(t, dir, "b", realpath(t, b))
	wantAbsent(t, dir, "a-again")
	wantAbsent(t, dir, "not-a-skill")
}

func TestDuplicateNameAcrossSources(t *testing.T) {
	dir := t.TempDir()
	mkSkill(t, dir, "one/same")
	mkSkill(t, dir, "two/same")
	_, err := Install(context.Background(), cfg(local("one"), local("two")), dir, Options{})
	wantProblem(t, err, problem.InvalidRequest, "duplicate skill name same")
	wantAbsent(t, dir, "same")
}

func TestRelinkIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	s := mkSkill(t, dir, "pack/s")
	for i := 0; i < 3; i++ {
		names, err := Install(context.Background(), cfg(local("pack")), dir, Options{})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		wantNames(t, names, "s")
		wantLinked(t, dir, "s", realpath(t, s))
	}
	// A relative link someone made to the same place is the same link.
	rel := filepath.Join(dir, ".claude", "skills", "s")
	if err := os.Remove(rel); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "pack", "s"), rel); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(context.Background(), cfg(local("pack")), dir, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestConflicts(t *testing.T) {
	cases := map[string]func(t *testing.T, dest string){
		"file": func(t *testing.T, dest string) {
			if err := os.WriteFile(dest, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"dir without SKILL.md": func(t *testing.T, dest string) {
			if err := os.Mkdir(dest, 0o755); err != nil {
				t.Fatal(err)
			}
		},
		"link to another skill": func(t *testing.T, dest string) {
			if err := os.Symlink(mkSkill(t, t.TempDir(), "s"), dest); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			mkSkill(t, dir, "pack/s")
			dest := filepath.Join(dir, ".claude", "skills", "s")
			if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
				t.Fatal(err)
			}
			setup(t, dest)

			_, err := Install(context.Background(), cfg(local("pack")), dir, Options{})
			pe := wantProblem(t, err, problem.InvalidRequest)
			if want := "invalid request: skill path conflict: " + dest + " already exists"; pe.Detail != want {
				t.Errorf("detail = %q, want %q", pe.Detail, want)
			}
			// Checked before anything is written.
			if _, err := os.Lstat(filepath.Join(dir, ".agents", "skills", "s")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf(".agents/skills/s was linked despite the conflict")
			}
		})
	}
}

func TestExistingSkillDirKept(t *testing.T) {
	dir := t.TempDir()
	s := mkSkill(t, dir, "pack/s")
	mine := mkSkill(t, dir, ".claude/skills/s")
	if err := os.WriteFile(filepath.Join(mine, "mine"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	names, err := Install(context.Background(), cfg(local("pack")), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantNames(t, names, "s")
	if fi, err := os.Lstat(mine); err != nil || !fi.IsDir() {
		t.Fatalf("existing skill dir replaced: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(mine, "mine")); err != nil {
		t.Fatal(err)
	}
	for _, ld := range []string{".agents/skills", ".opencode/skill"} {
		if got, _ := os.Readlink(filepath.Join(dir, ld, "s")); got != realpath(t, s) {
			t.Errorf("%s/s → %q", ld, got)
		}
	}
}

func TestDanglingSymlinkReplaced(t *testing.T) {
	dir := t.TempDir()
	s := mkSkill(t, dir, "pack/s")
	dest := filepath.Join(dir, ".opencode", "skill", "s")
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), dest); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(context.Background(), cfg(local("pack")), dir, Options{}); err != nil {
		t.Fatal(err)
	}
	wantLinked(t, dir, "s", realpath(t, s))
}

func TestCopyFallback(t *testing.T) {
	dir := t.TempDir()
	s := mkSkill(t, dir, "pack/s")
	if err := os.MkdirAll(filepath.Join(s, "scripts", ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s, "scripts", "run.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(s, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}

	orig := symlink
	symlink = func(string, string) error { return &os.LinkError{Op: "symlink", Err: errors.ErrUnsupported} }
	t.Cleanup(func() { symlink = orig })

	for i := 0; i < 2; i++ { // the second run keeps the copies
		names, err := Install(context.Background(), cfg(local("pack")), dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		wantNames(t, names, "s")
	}
	for _, ld := range LinkDirs {
		dest := filepath.Join(dir, ld, "s")
		fi, err := os.Lstat(dest)
		if err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v %v", dest, fi, err)
		}
		if fi, err := os.Stat(filepath.Join(dest, "scripts", "run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
			t.Errorf("run.sh not copied executable: %v %v", fi, err)
		}
		if _, err := os.Stat(filepath.Join(dest, ".git")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf(".git copied: %v", err)
		}
		if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 1 {
			t.Errorf("leftovers beside %s: %v", dest, entries)
		}
	}
}

func TestConcurrentInstallsIntoOneDir(t *testing.T) {
	dir := t.TempDir()
	mkSkill(t, dir, "pack/a")
	mkSkill(t, dir, "pack/b")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			_, err := Install(context.Background(), cfg(local("pack")), dir, Options{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	dir := t.TempDir()
	mkSkill(t, dir, "s")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Install(ctx, cfg(local("s")), dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}
