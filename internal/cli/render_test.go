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

// TestRenderGolden prints event streams converted from real captured agent
// output (copies of the adapters' golden files, so that their changes do
// not move these) as a terminal shows them, and compares with
// testdata/render/<name>.txt (-update rewrites).
func TestRenderGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/render/*.events.json")
	if err != nil || len(files) < 8 {
		t.Fatalf("captured streams: %v %v", files, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".events.json")
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
