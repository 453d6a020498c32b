package agent

import "testing"

func TestDiffs(t *testing.T) {
	if got := *WriteDiff("a.txt", "x\ny\n"); got != "--- /dev/null\n+++ a.txt\n@@ -0,0 +1,2 @@\n+x\n+y\n" {
		t.Errorf("WriteDiff = %q", got)
	}
	if got := *EditDiff("a.txt", Edit{Old: "x", New: "z\nw"}); got != "--- a.txt\n+++ a.txt\n@@ @@\n-x\n+z\n+w\n" {
		t.Errorf("EditDiff = %q", got)
	}
	if EditDiff("a.txt") != nil {
		t.Error("EditDiff without edits is not nil")
	}
}
