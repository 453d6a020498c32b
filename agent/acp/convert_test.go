package acp

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/golden"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Captures of the real agents (opencode acp 1.18.33, claude-agent-acp
// 0.23.1), recorded by the e2e suite (SANDBOX_AGENT_E2E_CAPTURE=1):
// <row>.stdin.jsonl is what we sent, <row>.stdout.jsonl what the agent
// said.

func captureLines(t *testing.T, stdout string) (in, out [][]byte) {
	t.Helper()
	return golden.Lines(t, strings.TrimSuffix(stdout, ".stdout.jsonl")+".stdin.jsonl"), golden.Lines(t, stdout)
}

// TestCapturesFollowSchema checks every message of the real agents'
// conversations with us, both ways, against the ACP schema.
func TestCapturesFollowSchema(t *testing.T) {
	p := schemaProtocol(t)
	total := 0
	for _, f := range golden.Fixtures(t, "testdata/captures/*/*.stdout.jsonl") {
		in, out := captureLines(t, f)
		var lines []wireLine
		for _, l := range in {
			lines = append(lines, wireLine{fromClient: true, raw: l})
		}
		for _, l := range out {
			lines = append(lines, wireLine{raw: l})
		}
		n := p.check(t, lines)
		if n < len(lines)-2 {
			t.Errorf("%s: only %d of %d messages checked", f, n, len(lines))
		}
		total += n
	}
	t.Logf("%d messages checked", total)
}

// TestConvertGolden replays each capture through the converter: every
// session/update, and the end of each turn at the response to its
// session/prompt.
func TestConvertGolden(t *testing.T) {
	for _, f := range golden.Fixtures(t, "testdata/captures/*/*.stdout.jsonl") {
		name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			in, out := captureLines(t, f)
			prompts := map[string]bool{}
			for _, l := range in {
				var m struct {
					ID     json.RawMessage `json:"id"`
					Method string          `json:"method"`
				}
				if json.Unmarshal(l, &m) == nil && m.Method == "session/prompt" {
					prompts[string(m.ID)] = true
				}
			}
			c := NewConverter()
			var evs []golden.Event
			turns := 0
			for i, l := range out {
				var m struct {
					ID     json.RawMessage `json:"id"`
					Method string          `json:"method"`
					Params json.RawMessage `json:"params"`
					Result json.RawMessage `json:"result"`
					Error  json.RawMessage `json:"error"`
				}
				if err := json.Unmarshal(l, &m); err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				switch {
				case m.Method == "session/update":
					for _, d := range c.Update(m.Params, l) {
						if d.Type == schema.EventAgentUnparsed {
							t.Errorf("line %d unparsed: %s", i+1, l)
						}
						evs = append(evs, golden.FromDraft(i+1, "session/update", d))
					}
				case m.Method == "" && prompts[string(m.ID)]:
					turns++
					var res *promptResult
					if len(m.Result) > 0 {
						res = &promptResult{}
						_ = json.Unmarshal(m.Result, res)
					}
					for _, d := range c.EndTurn(res, l) {
						evs = append(evs, golden.FromDraft(i+1, "session/prompt result", d))
					}
				}
			}
			if turns == 0 {
				t.Fatalf("no turn ended in %s", f)
			}
			golden.Compare(t, f, evs)
		})
	}
}

// TestConvertUpdates covers update kinds the captures lack.
func TestConvertUpdates(t *testing.T) {
	c := NewConverter()
	up := func(u string) []string {
		var out []string
		for _, d := range c.Update(json.RawMessage(`{"sessionId":"s","update":`+u+`}`), nil) {
			b, _ := json.Marshal(d.Data)
			out = append(out, string(d.Type)+" "+string(b))
		}
		return out
	}
	got := up(`{"sessionUpdate":"tool_call","toolCallId":"t1","title":"Edit a.go","kind":"edit","status":"in_progress","locations":[{"path":"/w/a.go"}],"rawInput":{"path":"/w/a.go"}}`)
	if len(got) != 2 || !strings.Contains(got[1], `"name":"Edit a.go"`) {
		t.Errorf("tool_call: %q", got)
	}
	got = up(`{"sessionUpdate":"tool_call_update","toolCallId":"t1","status":"completed","content":[{"type":"diff","path":"/w/a.go","oldText":"x := 1\n","newText":"x := 2\n"}]}`)
	if len(got) != 2 || !strings.Contains(got[1], `"action":"patch"`) || !strings.Contains(got[1], `-x := 1\n+x := 2`) {
		t.Errorf("diff: %q", got)
	}
	got = up(`{"sessionUpdate":"tool_call","toolCallId":"t2","title":"Read b.go","kind":"read","status":"completed","locations":[{"path":"/w/b.go"}]}`)
	if len(got) != 4 || !strings.Contains(got[3], `"type":"file_ref","path":"/w/b.go","action":"read"`) {
		t.Errorf("read: %q", got)
	}
	got = up(`{"sessionUpdate":"user_message_chunk","content":{"type":"resource_link","uri":"file:///w/c.txt","name":"c.txt"}}`)
	if len(got) != 2 || !strings.Contains(got[1], "file:///w/c.txt") {
		t.Errorf("user chunk: %q", got)
	}
	got = up(`{"sessionUpdate":"session_info_update","title":"Fixing a bug"}`)
	if len(got) != 2 || !strings.Contains(got[1], "Fixing a bug") {
		t.Errorf("session info: %q", got)
	}
	got = up(`{"sessionUpdate":"something_new"}`)
	if len(got) != 1 || !strings.HasPrefix(got[0], "agent.unparsed") {
		t.Errorf("unknown update: %q", got)
	}
	// A tool call left running when the turn ends is completed; its result
	// is failed.
	up(`{"sessionUpdate":"tool_call","toolCallId":"t3","title":"Run","kind":"execute","status":"in_progress"}`)
	var types []string
	for _, d := range c.EndTurn(nil, nil) {
		types = append(types, string(d.Type))
		if it, ok := d.Data.(*schema.ItemEventData); ok && d.Type == schema.EventItemCompleted && it.Item.Kind == schema.KindToolResult && it.Item.Status != schema.StatusFailed {
			t.Errorf("unfinished tool's result is %s", it.Item.Status)
		}
	}
	if strings.Join(types, ",") != "item.started,item.completed,turn.ended" {
		t.Errorf("end of turn: %v", types)
	}
}
