package codex

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// FuzzConverter feeds arbitrary lines to the replay: it must never panic,
// and every draft must be well-formed.
func FuzzConverter(f *testing.F) {
	for _, fixture := range fixtures(f) {
		lines := readLines(f, fixture)
		for _, l := range lines {
			f.Add(l)
		}
		f.Add(bytes.Join(lines, []byte("\n")))
	}
	f.Add([]byte(`{"method":"item/completed","params":{"threadId":"t","item":{"type":"fileChange","id":"x","changes":[{"path":"a","kind":{"type":"update","move_path":"b"},"diff":""}]}}}`))
	f.Add([]byte(`{"id":1,"method":"item/tool/requestUserInput","params":{"threadId":"t","questions":[]}}`))
	f.Add([]byte(`{"method":"error","params":{"threadId":"t","error":{"message":"m","codexErrorInfo":{"a":1,"b":2}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &replay{convs: map[string]*Converter{}}
		for _, l := range bytes.Split(data, []byte("\n")) {
			_, drafts, _ := r.line(l)
			for _, d := range drafts {
				if d.Type == "" || d.Data == nil {
					t.Fatalf("draft without type or data: %+v", d)
				}
				if d.Raw != nil && !json.Valid(d.Raw) {
					t.Fatalf("invalid raw %q", d.Raw)
				}
				if _, err := json.Marshal(d.Data); err != nil {
					t.Fatalf("%s: data does not marshal: %v", d.Type, err)
				}
				if it, ok := d.Data.(*schema.ItemEventData); ok && it.Item.NativeItemID == nil {
					t.Fatalf("item without native id: %+v", it.Item)
				}
			}
		}
	})
}
