package acp

import (
	"encoding/json"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/golden"
)

// FuzzConvert feeds arbitrary session/update params (seeded with the
// captures' updates) to the converter: it must never panic, and every draft
// it returns must carry data.
func FuzzConvert(f *testing.F) {
	for _, fx := range golden.Fixtures(f, "testdata/captures/*/*.stdout.jsonl") {
		for _, l := range golden.Lines(f, fx) {
			var m struct {
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
			}
			if json.Unmarshal(l, &m) == nil && m.Method == "session/update" {
				f.Add([]byte(m.Params))
			}
		}
	}
	f.Add([]byte(`{"sessionId":"s","update":{"sessionUpdate":"tool_call_update","toolCallId":"x","status":"completed","content":[{"type":"diff","path":"a","oldText":"x","newText":"y"}]}}`))
	f.Fuzz(func(t *testing.T, params []byte) {
		c := NewConverter()
		for range 2 {
			for _, d := range c.Update(params, params) {
				if d.Data == nil {
					t.Fatalf("draft %s without data", d.Type)
				}
			}
		}
		for _, d := range c.EndTurn(nil, nil) {
			if d.Data == nil {
				t.Fatalf("draft %s without data", d.Type)
			}
		}
	})
}
