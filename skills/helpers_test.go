package skills

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// mkSkill creates <base>/<rel>/SKILL.md and returns the skill directory.
func mkSkill(t *testing.T, base, rel string) string {
	t.Helper()
	d := filepath.Join(base, rel)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, skillFile), []byte("# "+filepath.Base(d)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

func local(source string, filter ...string) schema.SkillSource {
	return schema.SkillSource{Type: TypeLocal, Source: source, Skills: filter}
}

func cfg(src ...schema.SkillSource) schema.SkillsConfig { return schema.SkillsConfig{Sources: src} }

func ptr(s string) *string { return &s }

// realpath is the canonical form the links point at.
func realpath(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantLinked asserts that name is a symlink to target in every link dir.
func wantLinked(t *testing.T, dir, name, target string) {
	t.Helper()
	for _, ld := range LinkDirs {
		dest := filepath.Join(dir, ld, name)
		got, err := os.Readlink(dest)
		if err != nil {
			t.Fatalf("%s: %v", dest, err)
		}
		if got != target {
			t.Errorf("%s → %s, want %s", dest, got, target)
		}
		if _, err := os.Stat(filepath.Join(dest, skillFile)); err != nil {
			t.Errorf("%s not readable through the link: %v", skillFile, err)
		}
	}
}

func wantAbsent(t *testing.T, dir, name string) {
	t.Helper()
	for _, ld := range LinkDirs {
		if _, err := os.Lstat(filepath.Join(dir, ld, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists (err %v)", filepath.Join(ld, name), err)
		}
	}
}

func wantNames(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("names = %q, want %q", got, want)
	}
}

// wantProblem asserts err is a *problem.Error of kind whose detail contains
// each of parts (or equals the only part when exact).
func wantProblem(t *testing.T, err error, kind problem.Kind, parts ...string) *problem.Error {
	t.Helper()
	pe, ok := problem.As(err)
	if !ok {
		t.Fatalf("err = %v (%T), want a problem of kind %s", err, err, kind)
	}
	if pe.Kind != kind {
		t.Fatalf("kind = %s (%q), want %s", pe.Kind, pe.Detail, kind)
	}
	for _, p := range parts {
		if !strings.Contains(pe.Detail, p) {
			t.Errorf("detail %q lacks %q", pe.Detail, p)
		}
	}
	return pe
}
