package amp

import (
	"encoding/json"
	"testing"
)

// FuzzLine: any line, after any other, converts without panicking, and
// every draft's raw payload is JSON.
func FuzzLine(f *testing.F) {
	for _, fixture := range fixtures(f) {
		for _, l := range readLines(f, fixture) {
			f.Add(l, []byte(nil))
		}
	}
	f.Add([]byte(`{"type":"assistant","message":{"content":"x"}}`), []byte(`{"type":"result","error":{"message":"m"}}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		c := NewConverter()
		for _, l := range [][]byte{a, b, a} {
			for _, d := range c.Line(l) {
				if d.Raw != nil && !json.Valid(d.Raw) {
					t.Fatalf("invalid raw %q", d.Raw)
				}
				if d.Data == nil {
					t.Fatalf("draft %s without data", d.Type)
				}
			}
		}
		c.UserMessage(string(a))
		c.EndTurn()
	})
}
