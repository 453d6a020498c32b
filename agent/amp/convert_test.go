package amp

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/agent/streamjson"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/golden"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// The fixtures are streams built from Amp's documentation of its stream
// JSON (ampcode.com/news/streaming-json, `amp --help`) and the record
// shapes the pinned CLI's own code writes; Amp cannot run offline, so
// there are no captures. amp-unparsed.jsonl holds what Amp does not
// document.

func fixtures(t testing.TB) []string { return golden.Fixtures(t, "testdata/*.jsonl") }

func readLines(t testing.TB, path string) [][]byte { return golden.Lines(t, path) }

func nativeKind(line []byte) string {
	var env streamjson.Envelope
	if json.Unmarshal(line, &env) != nil {
		return "(not json)"
	}
	if env.Subtype != "" {
		return env.Type + "/" + env.Subtype
	}
	return env.Type
}

func convertFixture(t testing.TB, path string) []golden.Event {
	t.Helper()
	c := NewConverter()
	var out []golden.Event
	for i, l := range readLines(t, path) {
		for _, d := range c.Line(l) {
			if d.Raw != nil && !json.Valid(d.Raw) {
				t.Fatalf("line %d: draft %s has invalid raw %q", i+1, d.Type, d.Raw)
			}
			out = append(out, golden.FromDraft(i+1, nativeKind(l), d))
		}
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, fixture := range fixtures(t) {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			events := convertFixture(t, fixture)
			golden.Compare(t, fixture, events)
			checkInvariants(t, fixture, events)
		})
	}
}

// checkInvariants holds for every stream: nothing documented is unparsed;
// every item is started once, then completed once; deltas go to open
// items; parents are items seen before; a turn ends with no item open.
func checkInvariants(t *testing.T, fixture string, events []golden.Event) {
	t.Helper()
	undocumented := strings.Contains(filepath.Base(fixture), "unparsed")
	started, completed := map[string]bool{}, map[string]bool{}
	unparsed := 0
	for _, e := range events {
		switch d := e.Data.(type) {
		case *schema.AgentUnparsedData:
			unparsed++
			if !undocumented {
				t.Errorf("line %d: documented record unparsed: %s", e.Line, d.Error)
			}
			if d.Location != "amp" {
				t.Errorf("line %d: location %q", e.Line, d.Location)
			}
		case *schema.ItemEventData:
			id := schema.Deref(d.Item.NativeItemID)
			if p := d.Item.ParentID; p != nil && !started[*p] {
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
	if undocumented && unparsed == 0 {
		t.Error("the undocumented stream made no agent.unparsed")
	}
}

// Every record type Amp documents is covered by some fixture, and maps to
// the events it should.
func TestFixturesCoverDocumentedRecords(t *testing.T) {
	seen := map[string]bool{}
	for _, fixture := range fixtures(t) {
		for _, e := range convertFixture(t, fixture) {
			switch d := e.Data.(type) {
			case *schema.ItemEventData:
				for _, p := range d.Item.Content {
					seen[e.Native+" "+string(e.Type)+" "+string(d.Item.Kind)+"/"+string(p.Type)] = true
				}
				if d.Item.Status == schema.StatusFailed {
					seen[e.Native+" failed "+string(d.Item.Kind)] = true
				}
			case *schema.ErrorData:
				seen[e.Native+" error "+schema.Deref(d.Code)] = true
			default:
				seen[e.Native+" "+string(e.Type)] = true
			}
		}
	}
	for _, want := range []string{
		"system/init session.started",
		"system/init item.completed status/status",                   // an MCP server that failed
		"assistant item.delta",                                       // text as deltas
		"assistant item.completed message/text",                      // assistant text
		"assistant item.completed message/reasoning",                 // thinking
		"assistant item.completed tool_call/tool_call",               // tool use
		"assistant item.completed tool_call/file_ref",                // edit_file, create_file, Read
		"user item.completed tool_result/tool_result",                // tool result
		"user failed tool_result",                                    // a rejected tool
		"result/success turn.ended",                                  // result success
		"result/error_during_execution error error_during_execution", // result error
		"result/error_during_execution error permission_denied",      // permission denial
		"result/error_during_execution turn.ended",
	} {
		if !seen[want] {
			t.Errorf("no fixture covers %q", want)
		}
	}
}

func TestInterruptedResultIsNoError(t *testing.T) {
	c := NewConverter()
	c.NoteInterrupt()
	out := c.Line([]byte(`{"type":"result","subtype":"error_during_execution","is_error":true,"num_turns":1,"error":"User cancelled (SIGINT/SIGTERM)","session_id":"T-1"}`))
	if len(out) != 1 || out[0].Type != schema.EventTurnEnded {
		t.Fatalf("got %+v", out)
	}
	if !strings.Contains(string(out[0].Data.(*schema.TurnEventData).Metadata), `"interrupted":true`) {
		t.Errorf("metadata %s", out[0].Data.(*schema.TurnEventData).Metadata)
	}
	if c.Interrupted() {
		t.Error("the interrupt outlived its turn")
	}
}

func TestThreadIDAndUserItems(t *testing.T) {
	c := NewConverter()
	if got := c.UserMessage("hi"); len(got) != 2 || got[0].NativeSessionID != "" {
		t.Fatalf("user item before a thread: %+v", got)
	}
	c.Line([]byte(`{"type":"system","subtype":"init","session_id":"T-9","tools":[],"mcp_servers":[]}`))
	if c.ThreadID() != "T-9" {
		t.Fatalf("thread %q", c.ThreadID())
	}
	got := c.UserMessage("again")
	if got[0].NativeSessionID != "T-9" || *got[0].Data.(*schema.ItemEventData).Item.NativeItemID != "user_2" {
		t.Errorf("user item %+v", got[0])
	}
}
