package opencode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/golden"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// sseEvents reads the data: lines of a captured /event body (or the
// payloads of a /global/event body) in order.
func sseEvents(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data:")
		if !ok {
			continue
		}
		payload := []byte(strings.TrimSpace(line))
		var g globalEvent
		if json.Unmarshal(payload, &g) == nil && len(g.Payload) > 0 {
			payload = g.Payload
		}
		out = append(out, payload)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rootSession is the first session the capture created without a parent.
func rootSession(t testing.TB, evs [][]byte) string {
	for _, raw := range evs {
		var ev event
		var p sessionUpdated
		if json.Unmarshal(raw, &ev) == nil && ev.Type == "session.created" &&
			json.Unmarshal(ev.Properties, &p) == nil && p.Info.ParentID == "" {
			return p.Info.ID
		}
	}
	t.Fatal("no session.created in the capture")
	return ""
}

func convertAll(t testing.TB, evs [][]byte) []golden.Event {
	c := NewConverter(rootSession(t, evs))
	var out []golden.Event
	for i, raw := range evs {
		var ev event
		_ = json.Unmarshal(raw, &ev)
		for _, d := range c.Convert(raw) {
			out = append(out, golden.FromDraft(i+1, ev.Type, d))
		}
	}
	return out
}

func captures(t testing.TB) []string { return golden.Fixtures(t, "testdata/*.sse") }

// TestGolden converts every captured stream and compares the drafts with
// testdata/<name>.events.json (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for _, f := range captures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			golden.Compare(t, f, convertAll(t, sseEvents(t, f)))
		})
	}
}

// TestCapturesFullyUnderstood: nothing the real server sent lands in
// agent.unparsed, every turn ends exactly once, deltas add up to the
// completed text, and every started item completes.
func TestCapturesFullyUnderstood(t *testing.T) {
	for _, f := range captures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			evs := convertAll(t, sseEvents(t, f))
			started := map[string]bool{}
			deltas := map[string]string{}
			turns := 0
			for _, e := range evs {
				switch d := e.Data.(type) {
				case *schema.AgentUnparsedData:
					t.Errorf("line %d (%s) unparsed: %s", e.Line, e.Native, d.Error)
				case *schema.TurnEventData:
					turns++
				case *schema.ItemDeltaData:
					deltas[*d.NativeItemID] += d.Delta
				case *schema.ItemEventData:
					id := *d.Item.NativeItemID
					if e.Type == schema.EventItemStarted {
						started[id] = true
						continue
					}
					if !started[id] {
						t.Errorf("line %d: %s completed without item.started", e.Line, id)
					}
					delete(started, id)
					if s, ok := deltas[id]; ok && s != d.Item.Text() {
						t.Errorf("item %s: deltas %q, completed text %q", id, s, d.Item.Text())
					}
				}
			}
			if turns != 1 {
				t.Errorf("%d turn.ended, want 1 (one prompt in the capture)", turns)
			}
			for id := range started {
				t.Errorf("item %s never completed", id)
			}
		})
	}
}

func TestPermissionCaptureShape(t *testing.T) {
	evs := convertAll(t, sseEvents(t, "testdata/sse-bash-permission.sse"))
	var perm *schema.PermissionEventData
	var result *schema.Item
	for _, e := range evs {
		if d, ok := e.Data.(*schema.PermissionEventData); ok && e.Type == schema.EventPermissionRequested {
			perm = d
		}
		if d, ok := e.Data.(*schema.ItemEventData); ok && d.Item.Kind == schema.KindToolResult && e.Type == schema.EventItemCompleted {
			result = &d.Item
		}
	}
	if perm == nil || perm.Action != "bash" || !strings.HasPrefix(perm.PermissionID, "per_") {
		t.Fatalf("permission.requested = %+v", perm)
	}
	var meta struct {
		Command  string   `json:"command"`
		Patterns []string `json:"patterns"`
	}
	if err := json.Unmarshal(perm.Metadata, &meta); err != nil || meta.Command != "touch made-by-opencode.txt && echo made" || len(meta.Patterns) != 2 {
		t.Errorf("permission metadata %s", perm.Metadata)
	}
	if result == nil {
		t.Fatal("no tool_result item")
	}
	var sawExit bool
	for _, p := range result.Content {
		if p.Type == schema.PartToolResult && p.Output != "made\n" {
			t.Errorf("tool output %q", p.Output)
		}
		if p.Type == schema.PartJSON && strings.Contains(string(p.JSON), `"exitCode":0`) {
			sawExit = true
		}
	}
	if !sawExit {
		t.Errorf("no exit code in the result: %+v", result.Content)
	}
}

// A reply we sent is the session's to report; one from elsewhere (another
// client of the server) is reported by the converter.
func TestRepliesFromUsAreNotRepeated(t *testing.T) {
	evs := sseEvents(t, "testdata/sse-bash-permission.sse")
	c := NewConverter(rootSession(t, evs))
	var resolved int
	for _, raw := range evs {
		for _, d := range c.Convert(raw) {
			if d.Type == schema.EventPermissionRequested {
				id := d.Data.(*schema.PermissionEventData).PermissionID
				if w, err := c.AnswerPermission(id, schema.ReplyOnce); err != nil || w != "once" {
					t.Fatalf("AnswerPermission: %q %v", w, err)
				}
				if _, err := c.AnswerPermission(id, schema.ReplyOnce); err == nil {
					t.Errorf("a second answer to %s was accepted", id)
				}
			}
			if d.Type == schema.EventPermissionResolved {
				resolved++
			}
		}
	}
	if resolved != 0 {
		t.Errorf("%d permission.resolved for a reply we sent, want 0", resolved)
	}
}

func TestQuestionsAnsweredTogether(t *testing.T) {
	c := NewConverter("ses_1")
	raw := []byte(`{"id":"evt_1","type":"question.asked","properties":{"id":"que_1","sessionID":"ses_1","questions":[` +
		`{"question":"Which color?","header":"Color","options":[{"label":"Red","description":"warm"}]},` +
		`{"question":"Which size?","header":"Size","options":[{"label":"S","description":""},{"label":"L","description":""}],"multiple":true}]}}`)
	ds := c.Convert(raw)
	if len(ds) != 2 {
		t.Fatalf("want one question.requested per question, got %d", len(ds))
	}
	q0, q1 := ds[0].Data.(*schema.QuestionEventData), ds[1].Data.(*schema.QuestionEventData)
	if q0.QuestionID != "que_1.q0" || q1.QuestionID != "que_1.q1" || q1.Options[1] != "L" {
		t.Fatalf("questions %+v %+v", q0, q1)
	}
	if _, ok, err := c.AnswerQuestion("que_1.q1", []string{"S", "L"}, false); ok || err != nil {
		t.Fatalf("first of two answers: ok=%v err=%v, want to wait", ok, err)
	}
	if _, _, err := c.AnswerQuestion("que_1.q1", []string{"S"}, false); err == nil {
		t.Errorf("a question answered twice was accepted")
	}
	rep, ok, err := c.AnswerQuestion("que_1.q0", []string{"Red"}, false)
	if !ok || err != nil || rep.RequestID != "que_1" || !cmp.Equal(rep.Answers, [][]string{{"Red"}, {"S", "L"}}) {
		t.Fatalf("reply %+v ok=%v err=%v", rep, ok, err)
	}
	if ds := c.Convert([]byte(`{"id":"evt_2","type":"question.replied","properties":{"sessionID":"ses_1","requestID":"que_1","answers":[["Red"],["S","L"]]}}`)); len(ds) != 0 {
		t.Errorf("our own answer came back as %d drafts", len(ds))
	}
	if _, _, err := c.AnswerQuestion("nope", nil, true); err == nil {
		t.Errorf("an unknown question id was accepted")
	}
}

func TestTurnEndsOnceAndErrorsHaveCodes(t *testing.T) {
	c := NewConverter("ses_1")
	c.NoteSent()
	var types []schema.EventType
	var code string
	for _, l := range []string{
		`{"id":"e1","type":"session.status","properties":{"sessionID":"ses_1","status":{"type":"busy"}}}`,
		`{"id":"e2","type":"session.error","properties":{"sessionID":"ses_1","error":{"name":"APIError","data":{"message":"boom","statusCode":429,"isRetryable":false}}}}`,
		`{"id":"e3","type":"session.status","properties":{"sessionID":"ses_1","status":{"type":"idle"}}}`,
		`{"id":"e4","type":"session.idle","properties":{"sessionID":"ses_1"}}`,
		`{"id":"e5","type":"session.idle","properties":{"sessionID":"ses_2"}}`,
	} {
		for _, d := range c.Convert([]byte(l)) {
			types = append(types, d.Type)
			if e, ok := d.Data.(*schema.ErrorData); ok {
				code = schema.Deref(e.Code)
			}
		}
	}
	if !cmp.Equal(types, []schema.EventType{schema.EventError, schema.EventTurnEnded}) {
		t.Errorf("events %v, want error then one turn.ended", types)
	}
	if code != "rate_limit" {
		t.Errorf("code %q, want rate_limit", code)
	}
	if ds := c.Convert([]byte(`{"id":"x","type":"no.such.event","properties":{}}`)); len(ds) != 1 || ds[0].Type != schema.EventAgentUnparsed {
		t.Errorf("an unknown event gave %v, want agent.unparsed", ds)
	}
}

// Child sessions (the task tool) hang under the task call.
func TestSubtaskLinkedToTaskCall(t *testing.T) {
	c := NewConverter("ses_p")
	for _, l := range []string{
		`{"id":"e1","type":"message.updated","properties":{"sessionID":"ses_p","info":{"id":"msg_a","sessionID":"ses_p","role":"assistant"}}}`,
		`{"id":"e2","type":"message.part.updated","properties":{"sessionID":"ses_p","part":{"id":"prt_task","sessionID":"ses_p","messageID":"msg_a","type":"tool","tool":"task","callID":"c1","state":{"status":"running","input":{"prompt":"look"},"metadata":{"sessionId":"ses_c"}}}}}`,
		`{"id":"e3","type":"session.created","properties":{"sessionID":"ses_c","info":{"id":"ses_c","parentID":"ses_p"}}}`,
		`{"id":"e4","type":"message.updated","properties":{"sessionID":"ses_c","info":{"id":"msg_c","sessionID":"ses_c","role":"assistant"}}}`,
	} {
		c.Convert([]byte(l))
	}
	if !c.Owns("ses_c") {
		t.Fatal("the child session is not routed here")
	}
	ds := c.Convert([]byte(`{"id":"e5","type":"message.part.updated","properties":{"sessionID":"ses_c","part":{"id":"prt_x","sessionID":"ses_c","messageID":"msg_c","type":"text","text":"hi","time":{"start":1,"end":2}}}}`))
	if len(ds) == 0 {
		t.Fatal("no drafts for the child's text")
	}
	for _, d := range ds {
		if it, ok := d.Data.(*schema.ItemEventData); ok && schema.Deref(it.Item.ParentID) != "prt_task" {
			t.Errorf("child item parent %v, want prt_task", it.Item.ParentID)
		}
	}
}

// The session.idle that follows session.status idle (or any idle from
// before the prompt) must not end the next turn as soon as it starts.
func TestStaleIdleDoesNotEndNextTurn(t *testing.T) {
	c := NewConverter("ses_1")
	c.NoteSent()
	if ds := c.Convert([]byte(`{"id":"e1","type":"session.idle","properties":{"sessionID":"ses_1"}}`)); len(ds) != 0 {
		t.Fatalf("an idle before the turn's busy ended it: %v", ds)
	}
	c.Convert([]byte(`{"id":"e2","type":"session.status","properties":{"sessionID":"ses_1","status":{"type":"busy"}}}`))
	ds := c.Convert([]byte(`{"id":"e3","type":"session.status","properties":{"sessionID":"ses_1","status":{"type":"idle"}}}`))
	if len(ds) != 1 || ds[0].Type != schema.EventTurnEnded {
		t.Fatalf("idle after busy gave %v, want turn.ended", ds)
	}
}
