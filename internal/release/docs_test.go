package release_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// guides are the documents whose TypeScript must be the type-checked
// code of examples/deploy.
func guides(t *testing.T) []string {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "docs", "deploy", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(root, "docs", "quickstart.md"))
	if len(files) < 7 {
		t.Fatalf("found only %d guides: %v", len(files), files)
	}
	return files
}

var tsBlock = regexp.MustCompile("(?s)```ts\n(.*?)```")

// TestGuideCodeIsTypeChecked: every TypeScript block in the quickstart and
// the deploy guides is, verbatim, one of the example files that CI
// type-checks (`npm run typecheck` in examples/deploy), so the guides
// cannot drift into code that does not compile.
func TestGuideCodeIsTypeChecked(t *testing.T) {
	root := repoRoot(t)
	examples := map[string]string{}
	for _, pattern := range []string{"examples/deploy/src/*.ts", "examples/deploy/cloudflare/src/*.ts"} {
		files, _ := filepath.Glob(filepath.Join(root, pattern))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			examples[strings.TrimRight(string(b), "\n")] = f
		}
	}
	blocks := 0
	for _, guide := range guides(t) {
		b, err := os.ReadFile(guide)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range tsBlock.FindAllStringSubmatch(string(b), -1) {
			blocks++
			code := strings.TrimRight(m[1], "\n")
			if _, ok := examples[code]; !ok {
				first, _, _ := strings.Cut(code, "\n")
				t.Errorf("%s: a ts block (starting %q) is not the text of any file in examples/deploy", filepath.Base(guide), first)
			}
		}
	}
	if blocks < 7 {
		t.Errorf("found %d ts blocks in the guides, want one per guide at least", blocks)
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)

// TestGuideLinks: relative links in the guides point at files that exist.
func TestGuideLinks(t *testing.T) {
	for _, guide := range guides(t) {
		b, err := os.ReadFile(guide)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(guide), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", filepath.Base(guide), target)
			}
		}
	}
}
