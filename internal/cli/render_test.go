package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// TestRenderGolden prints the event streams converted from real captured
// agent output (the adapters' golden files) as a terminal shows them, and
// compares with testdata/render/<agent>-<name>.txt (-update rewrites).
func TestRenderGolden(t *testing.T) {
	files, err := filepath.Glob("../../agent/*/testdata/*.events.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captured streams: %v", err)
	}
	for _, f := range files {
		agentName := filepath.Base(filepath.Dir(filepath.Dir(f)))
		name := strings.TrimSuffix(filepath.Base(f), ".events.json")
		if !strings.HasPrefix(name, agentName) {
			name = agentName + "-" + name
		}
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var evs []schema.Event
			if err := json.Unmarshal(b, &evs); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			r := newRenderer(&out, false, true)
			for _, ev := range evs {
				nativeIDs(ev)
				if err := r.event(ev); err != nil {
					t.Fatal(err)
				}
			}
			r.endLine()
			golden := filepath.Join("testdata", "render", name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (write it with -update)", err)
			}
			if !bytes.Equal(want, out.Bytes()) {
				t.Fatalf("rendering changed; -update rewrites %s. Got:\n%s", golden, out.String())
			}
		})
	}
}

// nativeIDs stands in for the session's item ids, which the adapters'
// golden streams (drafts) do not have yet.
func nativeIDs(ev schema.Event) {
	switch d := ev.Data.(type) {
	case *schema.ItemEventData:
		if d.Item.ItemID == "" && d.Item.NativeItemID != nil {
			d.Item.ItemID = "itm_" + *d.Item.NativeItemID
		}
	case *schema.ItemDeltaData:
		if d.ItemID == "" && d.NativeItemID != nil {
			d.ItemID = "itm_" + *d.NativeItemID
		}
	}
}
