package server_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

func writeSkill(t *testing.T, root, name string) {
	t.Helper()
	d := filepath.Join(root, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "SKILL.md"), []byte("# "+name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCreateSessionWithSkills covers the reference's skill-source scenarios.
func TestCreateSessionWithSkills(t *testing.T) {
	e := startAPI(t, apiOpts{})
	src := t.TempDir()
	writeSkill(t, src, "my-test-skill")
	work := t.TempDir()
	res := e.create("sk", schema.CreateSessionRequest{Agent: "mock", Directory: schema.Ptr(work),
		Skills: &schema.SkillsConfig{Sources: []schema.SkillSource{{Type: "local", Source: filepath.Join(src, "my-test-skill")}}}})
	if !res.Healthy {
		t.Fatal("not healthy")
	}
	for _, link := range []string{".agents/skills", ".claude/skills", ".opencode/skill"} {
		if _, err := os.Stat(filepath.Join(work, link, "my-test-skill", "SKILL.md")); err != nil {
			t.Fatalf("skill not linked into %s: %v", link, err)
		}
	}
	info, _ := e.c.Session(ctxT(t), "sk")
	if info.Skills == nil || len(info.Skills.Sources) != 1 || schema.Deref(info.Directory) != work {
		t.Fatalf("session info = %+v", info)
	}

	two := t.TempDir()
	writeSkill(t, two, "wanted-skill")
	writeSkill(t, two, "other-skill")
	work2 := t.TempDir()
	e.create("sk2", schema.CreateSessionRequest{Agent: "mock", Directory: schema.Ptr(work2),
		Skills: &schema.SkillsConfig{Sources: []schema.SkillSource{{Type: "local", Source: two, Skills: []string{"wanted-skill"}}}}})
	if _, err := os.Stat(filepath.Join(work2, ".claude/skills/other-skill")); !os.IsNotExist(err) {
		t.Fatal("filtered-out skill was linked")
	}

	for name, src := range map[string]schema.SkillSource{
		"missing path": {Type: "local", Source: filepath.Join(src, "nope")},
		"no match":     {Type: "local", Source: two, Skills: []string{"absent"}},
		"bad type":     {Type: "ftp", Source: "x"},
	} {
		_, err := e.c.CreateSession(ctxT(t), "bad-"+name, schema.CreateSessionRequest{Agent: "mock", Directory: schema.Ptr(t.TempDir()),
			Skills: &schema.SkillsConfig{Sources: []schema.SkillSource{src}}})
		if p := problemOf(t, err); p.Status != 400 || p.Kind() != "invalid_request" {
			t.Fatalf("%s: %+v", name, p)
		}
		if _, err := e.c.Session(ctxT(t), "bad-"+name); err == nil {
			t.Fatalf("%s: failed creation left a session behind", name)
		}
	}
}
