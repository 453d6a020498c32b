package opencode

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

const rsID = "ses_r"

func rsEvent(typ string, props any) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "properties": props})
	return b
}

func rsUser() []byte {
	return rsEvent("message.updated", map[string]any{"sessionID": rsID, "info": map[string]any{"id": "msg_u", "sessionID": rsID, "role": "user"}})
}

func rsAssistant() []byte {
	return rsEvent("message.updated", map[string]any{"sessionID": rsID, "info": map[string]any{"id": "msg_a", "sessionID": rsID, "role": "assistant"}})
}

func rsTextPart(text string, done bool) map[string]any {
	p := map[string]any{"id": "prt_t", "messageID": "msg_a", "sessionID": rsID, "type": "text", "text": text, "time": map[string]any{"start": 1}}
	if done {
		p["time"] = map[string]any{"start": 1, "end": 2}
	}
	return p
}

func rsPart(p map[string]any) []byte {
	return rsEvent("message.part.updated", map[string]any{"sessionID": rsID, "part": p})
}

func rsDelta(d string) []byte {
	return rsEvent("message.part.delta", map[string]any{"sessionID": rsID, "messageID": "msg_a", "partID": "prt_t", "field": "text", "delta": d})
}

// rsFetched is what GET /session/{id}/message answers.
func rsFetched(parts ...map[string]any) []sessionMessage {
	raws := make([]json.RawMessage, len(parts))
	for i, p := range parts {
		raws[i], _ = json.Marshal(p)
	}
	return []sessionMessage{
		{Info: messageInfo{ID: "msg_u", SessionID: rsID, Role: "user"}, Parts: []json.RawMessage{json.RawMessage(
			`{"id":"prt_u","messageID":"msg_u","sessionID":"` + rsID + `","type":"text","text":"go"}`)}},
		{Info: messageInfo{ID: "msg_a", SessionID: rsID, Role: "assistant"}, Parts: raws},
	}
}

// spelled is what the drafts say of the text part: its deltas joined, its
// completed text, and how many user items and step counts there were.
func spelled(ds []agent.Draft) (deltas string, completed []string, users int) {
	var b strings.Builder
	for _, d := range ds {
		switch data := d.Data.(type) {
		case *schema.ItemDeltaData:
			if *data.NativeItemID == "prt_t" {
				b.WriteString(data.Delta)
			}
		case *schema.ItemEventData:
			if d.Type != schema.EventItemCompleted {
				continue
			}
			switch *data.Item.NativeItemID {
			case "prt_t":
				completed = append(completed, data.Item.Content[0].Text)
			case "prt_u":
				users++
			}
		}
	}
	return b.String(), completed, users
}

// TestReconcileAfterReconnect: the event stream breaks mid-reply; the
// server's copy of the messages, fetched once the new stream is up, fills
// the gap; events the new stream then delivers that the copy already holds
// (queued between the subscription and the fetch) say nothing twice.
func TestReconcileAfterReconnect(t *testing.T) {
	before := [][]byte{rsUser(), rsPart(map[string]any{"id": "prt_u", "messageID": "msg_u", "sessionID": rsID, "type": "text", "text": "go"}),
		rsAssistant(), rsPart(rsTextPart("", false)), rsDelta("ab")}
	for _, tc := range []struct {
		name    string
		fetched string // the text part's text in the fetched copy
		after   [][]byte
	}{
		{"stale deltas then the final update", "abcd", [][]byte{rsDelta("d"), rsDelta("e"), rsPart(rsTextPart("abcde", true))}},
		{"a stale update, stale and new deltas", "abcd", [][]byte{rsPart(rsTextPart("abc", false)), rsDelta("d"), rsDelta("e"),
			rsPart(rsTextPart("abcde", true))}},
		{"a current update, then new deltas", "abcd", [][]byte{rsPart(rsTextPart("abcd", false)), rsDelta("e"), rsDelta("f"),
			rsPart(rsTextPart("abcdef", true))}},
		{"the reply ended in the gap", "abcdef", [][]byte{rsDelta("ef"), rsPart(rsTextPart("abcdef", true))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConverter(rsID)
			c.NoteSent()
			var ds []agent.Draft
			for _, ev := range before {
				ds = append(ds, c.Convert(ev)...)
			}
			ds = append(ds, c.Reconcile(rsFetched(rsTextPart(tc.fetched, false)))...)
			for _, ev := range tc.after {
				ds = append(ds, c.Convert(ev)...)
			}
			final := ""
			var last map[string]any
			_ = json.Unmarshal(tc.after[len(tc.after)-1], &last)
			final = last["properties"].(map[string]any)["part"].(map[string]any)["text"].(string)
			deltas, completed, users := spelled(ds)
			if deltas != final {
				t.Errorf("deltas spell %q, want %q", deltas, final)
			}
			if fmt.Sprint(completed) != fmt.Sprint([]string{final}) {
				t.Errorf("completed %q, want once %q", completed, final)
			}
			if users != 1 {
				t.Errorf("%d user items, want 1", users)
			}
		})
	}
}

// TestReconcileCountsOnce: parts that add to the turn (usage, notes) are
// counted once whether the stream, the catch-up or both delivered them.
func TestReconcileCountsOnce(t *testing.T) {
	c := NewConverter(rsID)
	c.NoteSent()
	step := map[string]any{"id": "prt_s", "messageID": "msg_a", "sessionID": rsID, "type": "step-finish", "reason": "stop", "cost": 0.5,
		"tokens": map[string]any{"input": 3, "output": 4, "total": 7}}
	c.Convert(rsUser())
	c.Convert(rsAssistant())
	c.Convert(rsPart(step))
	c.Reconcile(rsFetched(step))
	c.Convert(rsPart(step))
	if c.usage.Steps != 1 || c.usage.Total != 7 || c.usage.Cost != 0.5 {
		t.Errorf("usage %+v, want one step of 7 tokens", c.usage)
	}
}
