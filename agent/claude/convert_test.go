package claude

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/golden"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// stdoutFixtures lists the testdata streams the CLI printed: *.jsonl other
// than the *.stdin.jsonl files (what was written to it).
func stdoutFixtures(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, f := range golden.Fixtures(t, "testdata/*.jsonl") {
		if !strings.HasSuffix(f, ".stdin.jsonl") {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		t.Fatal("no fixtures")
	}
	return out
}

func readLines(t testing.TB, path string) [][]byte { return golden.Lines(t, path) }

func nativeKind(line []byte) string {
	var env struct {
		envelope
		Event struct {
			Type  string `json:"type"`
			Delta struct {
				Type string `json:"type"`
			} `json:"delta"`
		} `json:"event"`
		Request struct {
			Subtype string `json:"subtype"`
		} `json:"request"`
	}
	if json.Unmarshal(line, &env) != nil {
		return "(not json)"
	}
	switch {
	case env.Type == "stream_event" && env.Event.Delta.Type != "" && env.Event.Type == "content_block_delta":
		return "stream_event/" + env.Event.Delta.Type
	case env.Type == "stream_event":
		return "stream_event/" + env.Event.Type
	case env.Type == "control_request":
		return "control_request/" + env.Request.Subtype
	}
	return lineKind(env.envelope)
}

// convertFixture runs a converter over a fixture; a line "#!interrupt"
// stands for the adapter's NoteInterrupt, other lines starting with "#" are
// comments.
func convertFixture(t testing.TB, path string) []golden.Event {
	t.Helper()
	c := NewConverter()
	var out []golden.Event
	for i, l := range readLines(t, path) {
		if bytes.HasPrefix(l, []byte("#")) {
			if string(bytes.TrimSpace(l)) == "#!interrupt" {
				c.NoteInterrupt()
			}
			continue
		}
		for _, d := range c.Line(l) {
			assertRawJSON(t, d)
			out = append(out, golden.FromDraft(i+1, nativeKind(l), d))
		}
	}
	for _, d := range c.Flush() {
		out = append(out, golden.Event{Native: "(flush)", Type: d.Type, Data: d.Data})
	}
	return out
}

func assertRawJSON(t testing.TB, d agent.Draft) {
	t.Helper()
	if d.Raw != nil && !json.Valid(d.Raw) {
		t.Fatalf("draft %s has invalid raw %q", d.Type, d.Raw)
	}
}

func TestGolden(t *testing.T) {
	for _, fixture := range stdoutFixtures(t) {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			events := convertFixture(t, fixture)
			golden.Compare(t, fixture, events)
			checkInvariants(t, fixture, events)
		})
	}
}

// checkInvariants holds for every stream: nothing the real CLI printed is
// unparsed; every item completed was started once and completed once;
// deltas only go to started, not yet completed items; every item's parent
// is an item seen before it; a turn ends after its last item.
func checkInvariants(t *testing.T, fixture string, events []golden.Event) {
	t.Helper()
	synthetic := strings.Contains(filepath.Base(fixture), "unknown")
	started := map[string]bool{}
	completed := map[string]bool{}
	for _, e := range events {
		switch d := e.Data.(type) {
		case *schema.AgentUnparsedData:
			if !synthetic {
				t.Errorf("line %d: unparsed: %s", e.Line, d.Error)
			}
		case *schema.ItemEventData:
			id := schema.Deref(d.Item.NativeItemID)
			if id == "" {
				t.Errorf("line %d: item without native id", e.Line)
			}
			if p := d.Item.ParentID; p != nil && !started[*p] && !strings.HasPrefix(*p, "toolu_") {
				t.Errorf("line %d: %s has unknown parent %s", e.Line, id, *p)
			}
			if e.Type == schema.EventItemStarted {
				if started[id] {
					t.Errorf("line %d: %s started twice", e.Line, id)
				}
				started[id] = true
			} else {
				if !started[id] || completed[id] {
					t.Errorf("line %d: %s completed without start or twice", e.Line, id)
				}
				completed[id] = true
			}
		case *schema.ItemDeltaData:
			id := schema.Deref(d.NativeItemID)
			if !started[id] || completed[id] {
				t.Errorf("line %d: delta for %s outside its lifetime", e.Line, id)
			}
		case *schema.TurnEventData:
			for id := range started {
				if !completed[id] {
					t.Errorf("line %d: turn ended with %s open", e.Line, id)
				}
			}
		}
	}
}

// The stdin lines we build equal what the capture driver wrote, which the
// real CLI accepted.
func TestStdinMatchesCaptures(t *testing.T) {
	t.Run("bash permission", func(t *testing.T) {
		want := readLines(t, "testdata/claude-bash-permission.stdin.jsonl")
		assertJSONEqual(t, want[0], InitializeLine("req_1_init"))
		userLine, err := UserLine(agent.Prompt{Text: "Please run it. FAKE_BASH: touch made-by-bash.txt && echo made"}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		assertJSONEqual(t, want[1], userLine)

		c := NewConverter()
		lines := readLines(t, "testdata/claude-bash-permission.stdout.jsonl")
		for _, l := range lines[:4] { // up to the can_use_tool request
			c.Line(l)
		}
		got, err := c.AnswerPermission("b078970f-a6fd-4d8b-a2d5-56feae6916d0", schema.ReplyOnce)
		if err != nil {
			t.Fatal(err)
		}
		assertJSONEqual(t, want[2], got)
	})
	t.Run("ask user question", func(t *testing.T) {
		want := readLines(t, "testdata/claude-askuserquestion.stdin.jsonl")
		c := NewConverter()
		lines := readLines(t, "testdata/claude-askuserquestion.stdout.jsonl")
		for _, l := range lines[:4] {
			c.Line(l)
		}
		got, err := c.AnswerQuestion("56ce1a24-cb70-4afb-b496-f4707d1f6416.q0", []string{"Red"}, false)
		if err != nil {
			t.Fatal(err)
		}
		assertJSONEqual(t, want[2], got)
		if _, ok := c.Pending("56ce1a24-cb70-4afb-b496-f4707d1f6416"); ok {
			t.Error("request still pending after its answer")
		}
	})
}

// TestRepliesMatchCaptures rebuilds every line the adapter wrote to the
// real CLI in the e2e captures (testdata/claude-*.stdin.jsonl) from what
// it had read by then: initialize and interrupt requests, text-only user
// turns, and the replies to can_use_tool (once, always, reject, answers,
// plan approval), whose kind is read back from the captured line.
func TestRepliesMatchCaptures(t *testing.T) {
	stdins, err := filepath.Glob("testdata/claude-*.stdin.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, in := range stdins {
		out := strings.TrimSuffix(in, ".stdin.jsonl") + ".stdout.jsonl"
		if _, err := os.Stat(out); err != nil {
			continue
		}
		t.Run(filepath.Base(in), func(t *testing.T) {
			c := NewConverter()
			c.PlanExitMode = "default"
			stdout := readLines(t, out)
			next := 0
			// readUntil feeds stdout until the CLI has asked request id.
			readUntil := func(id string) {
				for ; next < len(stdout); next++ {
					c.Line(stdout[next])
					if bytes.Contains(stdout[next], []byte(`"request_id":"`+id+`"`)) {
						next++
						return
					}
				}
				t.Fatalf("stdout never asks request %s", id)
			}
			for _, want := range readLines(t, in) {
				got := rebuildStdinLine(t, c, want, readUntil)
				if got == nil {
					continue
				}
				checked++
				assertJSONEqual(t, want, got)
			}
		})
	}
	if checked < 20 {
		t.Errorf("only %d captured stdin lines rebuilt", checked)
	}
}

// rebuildStdinLine makes the line the adapter would write where want was
// written, or returns nil for lines it cannot tell the input of
// (attachments).
func rebuildStdinLine(t *testing.T, c *Converter, want []byte, readUntil func(string)) []byte {
	t.Helper()
	var l struct {
		Type      string `json:"type"`
		RequestID string `json:"request_id"`
		Request   struct {
			Subtype string `json:"subtype"`
		} `json:"request"`
		Message struct {
			Content json.RawMessage `json:"content"`
		} `json:"message"`
		SessionID string `json:"session_id"`
		Response  struct {
			RequestID string `json:"request_id"`
			Response  struct {
				Behavior           string            `json:"behavior"`
				Message            string            `json:"message"`
				UpdatedPermissions []json.RawMessage `json:"updatedPermissions"`
				UpdatedInput       struct {
					Answers map[string]string `json:"answers"`
				} `json:"updatedInput"`
			} `json:"response"`
		} `json:"response"`
	}
	if err := json.Unmarshal(want, &l); err != nil {
		t.Fatal(err)
	}
	switch l.Type {
	case "control_request":
		switch l.Request.Subtype {
		case "initialize":
			return InitializeLine(l.RequestID)
		case "interrupt":
			return InterruptLine(l.RequestID)
		}
	case "user":
		var text string
		if json.Unmarshal(l.Message.Content, &text) != nil {
			return nil
		}
		sid := l.SessionID
		if sid == "default" {
			sid = ""
		}
		got, err := UserLine(agent.Prompt{Text: text}, sid, "")
		if err != nil {
			t.Fatal(err)
		}
		return got
	case "control_response":
		id := l.Response.RequestID
		readUntil(id)
		r, ok := c.Pending(id)
		if !ok {
			t.Fatalf("no pending request %s", id)
		}
		resp := l.Response.Response
		var got []byte
		var err error
		switch r.Kind {
		case KindPermission:
			reply := schema.ReplyOnce
			switch {
			case resp.Behavior == "deny":
				reply = schema.ReplyReject
			case len(resp.UpdatedPermissions) > 0:
				reply = schema.ReplyAlways
			}
			got, err = c.AnswerPermission(id, reply)
		case KindPlan:
			answer := []string{"approve"}
			if resp.Behavior == "deny" {
				answer = []string{"reject"}
			}
			got, err = c.AnswerQuestion(QuestionID(id, 0), answer, false)
		case KindAskUser:
			for i, q := range r.Questions {
				if resp.Behavior == "deny" {
					got, err = c.AnswerQuestion(q.ID, nil, true)
					break
				}
				got, err = c.AnswerQuestion(QuestionID(id, i), strings.Split(resp.UpdatedInput.Answers[q.Prompt], ", "), false)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	t.Fatalf("unexpected stdin line %s", want)
	return nil
}

func assertJSONEqual(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("line differs (-want +got):\n%s", diff)
	}
	if !bytes.HasSuffix(got, []byte("\n")) || bytes.Count(got, []byte("\n")) != 1 {
		t.Errorf("not exactly one line: %q", got)
	}
}
