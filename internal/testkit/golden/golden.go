// Package golden is the converters' golden-file harness: a captured native
// stream in testdata/ is converted and its drafts compared with
// testdata/<name>.events.json; `go test -update` rewrites those files from
// the converter's output.
package golden

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/*.events.json from the converter's output")

// Event is one draft as the golden files show it: what the converter
// produced and the number and kind of the native line it came from (raw is
// that line, so it is not repeated).
type Event struct {
	Line            int              `json:"line"`
	Native          string           `json:"native"`
	Type            schema.EventType `json:"type"`
	Synthetic       bool             `json:"synthetic,omitempty"`
	NativeSessionID string           `json:"native_session_id,omitempty"`
	Data            schema.EventData `json:"data"`
}

// FromDraft is d as produced from native line number line of kind native.
func FromDraft(line int, native string, d agent.Draft) Event {
	return Event{Line: line, Native: native, Type: d.Type, Synthetic: d.Synthetic,
		NativeSessionID: d.NativeSessionID, Data: d.Data}
}

// Fixtures lists the files matching pattern (under testdata/); none is a
// failure, as a golden test over nothing proves nothing.
func Fixtures(t testing.TB, pattern string) []string {
	t.Helper()
	all, err := filepath.Glob(pattern)
	if err != nil || len(all) == 0 {
		t.Fatalf("no fixtures match %s: %v", pattern, err)
	}
	return all
}

// Lines reads a capture's lines (up to 16 MiB each).
func Lines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// Path is the golden file of a fixture: x.jsonl, x.stdout.jsonl and x.sse
// all have x.events.json.
func Path(fixture string) string {
	base := strings.TrimSuffix(fixture, filepath.Ext(fixture))
	return strings.TrimSuffix(base, ".stdout") + ".events.json"
}

// Compare checks events against the fixture's golden file, or rewrites the
// file with -update.
func Compare(t testing.TB, fixture string, events []Event) {
	t.Helper()
	got, err := json.MarshalIndent(events, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := Path(fixture)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", golden, diff)
	}
}
