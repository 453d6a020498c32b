package claude

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// FuzzConverter feeds arbitrary input, split into lines, to one converter:
// it must never panic, and every draft must be well-formed.
func FuzzConverter(f *testing.F) {
	for _, fixture := range stdoutFixtures(f) {
		lines := readLines(f, fixture)
		for _, l := range lines {
			f.Add(l)
		}
		f.Add(bytes.Join(lines, []byte("\n")))
	}
	f.Add([]byte(`{"type":"stream_event","event":{"type":"content_block_delta","index":-1,"delta":{"type":"thinking_delta"}}}`))
	f.Add([]byte(`{"type":"assistant","message":{"content":"plain"}}`))
	f.Add([]byte(`{"type":"control_request","request_id":"r","request":{"subtype":"can_use_tool","tool_name":"AskUserQuestion","input":[]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewConverter()
		for _, l := range bytes.Split(data, []byte("\n")) {
			for _, d := range c.Line(l) {
				checkDraft(t, d.Type, d.Data, d.Raw)
			}
		}
		for id := range c.reqs {
			_, _ = c.AnswerPermission(id, schema.ReplyAlways)
			_, _ = c.AnswerQuestion(QuestionID(id, 0), []string{"approve"}, false)
		}
		for _, d := range c.Flush() {
			checkDraft(t, d.Type, d.Data, d.Raw)
		}
	})
}

func checkDraft(t *testing.T, typ schema.EventType, data schema.EventData, raw json.RawMessage) {
	t.Helper()
	if typ == "" || data == nil {
		t.Fatalf("draft without type or data: %q %v", typ, data)
	}
	if raw != nil && !json.Valid(raw) {
		t.Fatalf("invalid raw %q", raw)
	}
	if _, err := json.Marshal(data); err != nil {
		t.Fatalf("%s: data does not marshal: %v", typ, err)
	}
}
