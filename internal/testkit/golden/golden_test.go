package golden

import "testing"

func TestPath(t *testing.T) {
	for in, want := range map[string]string{
		"testdata/a.jsonl":        "testdata/a.events.json",
		"testdata/a.stdout.jsonl": "testdata/a.events.json",
		"testdata/sse-x.sse":      "testdata/sse-x.events.json",
	} {
		if got := Path(in); got != want {
			t.Errorf("Path(%q) = %q, want %q", in, got, want)
		}
	}
}
