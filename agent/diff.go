package agent

import (
	"fmt"
	"strings"
)

// Diffs that file_ref parts show for a tool's file write or edit, built
// from the tool's input when the agent reports none of its own.

// Edit is one replacement in a file.
type Edit struct{ Old, New string }

func diffLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// WriteDiff is the unified diff of creating path with content.
func WriteDiff(path, content string) *string {
	lines := diffLines(content)
	var b strings.Builder
	fmt.Fprintf(&b, "--- /dev/null\n+++ %s\n@@ -0,0 +1,%d @@\n", path, len(lines))
	for _, l := range lines {
		b.WriteString("+" + l + "\n")
	}
	s := b.String()
	return &s
}

// EditDiff is a diff of path with one hunk per edit (without line numbers:
// the edits name text, not places); nil without edits.
func EditDiff(path string, edits ...Edit) *string {
	if len(edits) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", path, path)
	for _, e := range edits {
		b.WriteString("@@ @@\n")
		for _, l := range diffLines(e.Old) {
			b.WriteString("-" + l + "\n")
		}
		for _, l := range diffLines(e.New) {
			b.WriteString("+" + l + "\n")
		}
	}
	s := b.String()
	return &s
}
