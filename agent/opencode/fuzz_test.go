package opencode

import (
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// FuzzConvert feeds arbitrary events, after a real capture's, to one
// converter: it must never panic, and every draft it makes has data.
func FuzzConvert(f *testing.F) {
	for _, path := range captures(f) {
		for _, ev := range sseEvents(f, path) {
			f.Add(ev)
		}
	}
	f.Add([]byte(`{"type":"message.part.delta","properties":{"sessionID":"ses_de8bf12c9ffePvO76fF1m3vqPX","partID":"p","field":"text","delta":"x"}}`))
	f.Add([]byte(`{"type":"question.asked","properties":{"id":"q","sessionID":"ses_de8bf12c9ffePvO76fF1m3vqPX","questions":[]}}`))
	f.Add([]byte(`{"type":"message.part.updated","properties":{"part":{"type":"tool","sessionID":"ses_de8bf12c9ffePvO76fF1m3vqPX"}}}`))
	prefix := sseEvents(f, "testdata/sse-bash-permission.sse")
	root := rootSession(f, prefix)
	f.Fuzz(func(t *testing.T, raw []byte) {
		c := NewConverter(root)
		for _, ev := range prefix[:len(prefix)/2] {
			c.Convert(ev)
		}
		for _, d := range c.Convert(raw) {
			if d.Data == nil || d.Type == "" {
				t.Fatalf("draft without type or data: %+v", d)
			}
			if d.Type == schema.EventQuestionRequested {
				q := d.Data.(*schema.QuestionEventData)
				if _, _, err := c.AnswerQuestion(q.QuestionID, []string{"x"}, false); err != nil {
					t.Fatalf("a question just asked cannot be answered: %v", err)
				}
			}
		}
		c.NoteSent()
		c.Convert([]byte(`{"type":"session.idle","properties":{"sessionID":"` + root + `"}}`))
	})
}
