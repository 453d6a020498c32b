package session

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

func fixedNow() time.Time { return time.Date(2026, 2, 9, 12, 0, 0, 123456789, time.UTC) }

// shape renders events compactly: seq type item-id [synthetic] details.
func shape(evs []schema.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "%d %s", ev.Sequence, ev.Type)
		switch d := ev.Data.(type) {
		case *schema.ItemEventData:
			fmt.Fprintf(&b, " %s %s", d.Item.ItemID, d.Item.Status)
			if d.Item.ParentID != nil {
				fmt.Fprintf(&b, " parent=%s", *d.Item.ParentID)
			}
		case *schema.ItemDeltaData:
			fmt.Fprintf(&b, " %s %q", d.ItemID, d.Delta)
		}
		if ev.Synthetic {
			b.WriteString(" synthetic")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func runAll(p *pipeline, ds ...agent.Draft) []schema.Event {
	var out []schema.Event
	for _, d := range ds {
		out = append(out, p.run(d)...)
	}
	return out
}

func TestPipelineFillsGaps(t *testing.T) {
	p := newPipeline("s", fixedNow)
	msg := agent.Message("m1", schema.RoleAssistant, schema.Text("hello"), schema.Text("world"))
	call := schema.Item{NativeItemID: schema.Ptr("call1"), ParentID: schema.Ptr("m1"), Kind: schema.KindToolCall,
		Role: schema.Ptr(schema.RoleAssistant), Content: []schema.ContentPart{schema.ToolCall("bash", `{}`, "call1")}}
	evs := runAll(p,
		agent.Draft{Type: schema.EventSessionStarted, NativeSessionID: "native-1"},
		agent.Draft{Type: schema.EventSessionStarted}, // duplicate: dropped
		agent.Draft{Type: schema.EventTurnStarted, Data: &schema.TurnEventData{Phase: schema.PhaseStarted}},
		agent.ItemCompleted(msg, nil),                                     // never started, never streamed
		agent.ItemCompleted(call, nil),                                    // parent refers to m1's native id
		agent.Delta("m2", "str", nil),                                     // unknown item: started first
		agent.Delta("", "eam", nil),                                       // no id: the open message
		agent.ItemStarted(agent.Message("m2", schema.RoleAssistant), nil), // already started: dropped
		agent.ItemCompleted(agent.Message("m2", schema.RoleAssistant, schema.Text("stream")), nil),
		agent.TurnEnded(nil, nil),
		agent.TurnEnded(nil, nil), // no turn running: dropped
	)
	want := `1 session.started
2 turn.started
3 item.started itm_1 in_progress synthetic
4 item.delta itm_1 "hello\nworld" synthetic
5 item.completed itm_1 completed
6 item.started itm_2 in_progress parent=itm_1 synthetic
7 item.completed itm_2 completed parent=itm_1
8 item.started itm_3 in_progress synthetic
9 item.delta itm_3 "str"
10 item.delta itm_3 "eam"
11 item.completed itm_3 completed
12 turn.ended
`
	if got := shape(evs); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	for i, ev := range evs {
		if schema.Deref(ev.NativeSessionID) != "native-1" || ev.EventID != schema.EventID(uint64(i+1)) ||
			ev.Time != "2026-02-09T12:00:00.123456789Z" || ev.SessionID != "s" {
			t.Fatalf("envelope %d: %+v", i, ev)
		}
		wantSource := schema.SourceAgent
		if ev.Synthetic {
			wantSource = schema.SourceDaemon
		}
		if ev.Source != wantSource {
			t.Fatalf("event %d source %s synthetic %v", i, ev.Source, ev.Synthetic)
		}
	}
	// The adapter's item was not modified by the pipeline.
	if msg.ItemID != "" || *call.ParentID != "m1" {
		t.Fatal("pipeline mutated the draft's item")
	}
}

func TestPipelineUserMessageGetsNoDelta(t *testing.T) {
	p := newPipeline("s", fixedNow)
	evs := runAll(p, agent.ItemCompleted(agent.Message("u", schema.RoleUser, schema.Text("hi")), nil))
	if got := shape(evs); got != "1 item.started itm_1 in_progress synthetic\n2 item.completed itm_1 completed\n" {
		t.Fatal(got)
	}
}

func TestPipelineQueuedTurnsStayBalanced(t *testing.T) {
	p := newPipeline("s", fixedNow)
	p.run(agent.Draft{Type: schema.EventTurnStarted, Synthetic: true})
	p.queued = 2 // two sends arrived during the turn
	evs := runAll(p, agent.TurnEnded(nil, nil), agent.TurnEnded(nil, nil), agent.TurnEnded(nil, nil), agent.TurnEnded(nil, nil))
	want := "2 turn.ended\n3 turn.started synthetic\n4 turn.ended\n5 turn.started synthetic\n6 turn.ended\n"
	if got := shape(evs); got != want {
		t.Fatalf("got:\n%s", got)
	}
}

func TestPipelineBadDraftsBecomeUnparsed(t *testing.T) {
	p := newPipeline("s", fixedNow)
	evs := runAll(p,
		agent.Draft{Type: "bogus.type", Raw: json.RawMessage(`{"x":1}`)},
		agent.Draft{Type: schema.EventItemCompleted, Data: &schema.ErrorData{}},
	)
	if len(evs) != 2 || evs[0].Type != schema.EventAgentUnparsed || evs[1].Type != schema.EventAgentUnparsed || string(evs[0].Raw) != `{"x":1}` {
		t.Fatalf("got %s", shape(evs))
	}
}

// FuzzPipeline: whatever an adapter emits, the pipeline never panics, keeps
// sequences dense, and never emits an item event before its item.started.
func FuzzPipeline(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "a")
	f.Add([]byte{6, 6, 5, 5, 4, 3, 2, 1}, "")
	types := schema.EventTypes
	f.Fuzz(func(t *testing.T, ops []byte, id string) {
		p := newPipeline("s", fixedNow)
		started := map[string]bool{}
		var seq uint64
		for i, op := range ops {
			typ := types[int(op)%len(types)]
			native := fmt.Sprintf("%s%d", id, int(op)%3)
			var d agent.Draft
			switch typ {
			case schema.EventItemStarted:
				d = agent.ItemStarted(agent.Message(native, schema.RoleAssistant), nil)
			case schema.EventItemCompleted:
				d = agent.ItemCompleted(agent.Message(native, schema.ItemRole([]string{"user", "assistant", "tool"}[i%3]), schema.Text("x")), nil)
			case schema.EventItemDelta:
				if op%2 == 0 {
					native = ""
				}
				d = agent.Delta(native, "d", nil)
			default:
				d = agent.Draft{Type: typ}
			}
			for _, ev := range p.run(d) {
				seq++
				if ev.Sequence != seq {
					t.Fatalf("sequence %d, want %d", ev.Sequence, seq)
				}
				switch data := ev.Data.(type) {
				case *schema.ItemEventData:
					if ev.Type == schema.EventItemStarted {
						started[data.Item.ItemID] = true
					} else if !started[data.Item.ItemID] {
						t.Fatalf("completed before started: %s", data.Item.ItemID)
					}
				case *schema.ItemDeltaData:
					if !started[data.ItemID] {
						t.Fatalf("delta before started: %s", data.ItemID)
					}
				}
			}
		}
	})
}
