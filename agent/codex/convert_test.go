package codex

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/jsonrpc"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/golden"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// fixtures lists the app-server stdout streams in testdata.
func fixtures(t testing.TB) []string { return golden.Fixtures(t, "testdata/*.stdout.jsonl") }

func readLines(t testing.TB, path string) [][]byte { return golden.Lines(t, path) }

// replay converts a stream the way the adapter does: notifications and
// requests go to their thread's converter; responses and lines of no
// thread make no events.
type replay struct {
	convs map[string]*Converter
}

func (r *replay) line(l []byte) (string, []agent.Draft, error) {
	var m jsonrpc.Message
	if err := json.Unmarshal(l, &m); err != nil {
		return "invalid", nil, err
	}
	if m.Method == "" {
		return "response", nil, nil
	}
	var env envelope
	_ = json.Unmarshal(m.Params, &env)
	thread := env.thread()
	if thread == "" {
		return m.Method, nil, nil
	}
	c := r.convs[thread]
	if c == nil {
		c = NewConverter(thread)
		r.convs[thread] = c
	}
	if len(m.ID) > 0 {
		h, err := c.Request(m.ID, m.Method, m.Params, l)
		return m.Method, h.Drafts, err
	}
	return m.Method, c.Notification(m.Method, m.Params, l), nil
}

func TestGolden(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := &replay{convs: map[string]*Converter{}}
			var got []golden.Event
			for i, l := range readLines(t, f) {
				native, drafts, err := r.line(l)
				if err != nil {
					t.Errorf("line %d (%s): %v", i+1, native, err)
				}
				for _, d := range drafts {
					if d.Type == schema.EventAgentUnparsed {
						t.Errorf("line %d (%s) unparsed: %+v", i+1, native, d.Data)
					}
					got = append(got, golden.FromDraft(i+1, native, d))
				}
			}
			golden.Compare(t, f, got)
		})
	}
}

// TestGoldenCoversTheProtocol guards the goldens' worth: across the
// captures the converter met the items, requests and turn ends the
// adapter exists for.
func TestGoldenCoversTheProtocol(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range fixtures(t) {
		r := &replay{convs: map[string]*Converter{}}
		for _, l := range readLines(t, f) {
			native, drafts, _ := r.line(l)
			for _, d := range drafts {
				seen[native+" → "+string(d.Type)] = true
				if it, ok := d.Data.(*schema.ItemEventData); ok {
					for _, p := range it.Item.Content {
						seen[string(p.Type)] = true
					}
				}
			}
		}
	}
	for _, want := range []string{
		"item/agentMessage/delta → item.delta",
		"item/commandExecution/requestApproval → permission.requested",
		"item/tool/requestUserInput → question.requested",
		"turn/completed → turn.ended",
		"error → error",
		string(schema.PartToolCall), string(schema.PartToolResult), string(schema.PartFileRef),
	} {
		if !seen[want] {
			t.Errorf("no capture exercises %q", want)
		}
	}
}

func TestErrorCode(t *testing.T) {
	for in, want := range map[string]string{
		`"rateLimitExceeded"`:                                      "rateLimitExceeded",
		`{"httpConnectionFailed":{"httpStatusCode":401}}`:          "unauthorized",
		`{"responseTooManyFailedAttempts":{"httpStatusCode":429}}`: "rateLimitExceeded",
		`{"responseStreamDisconnected":{"httpStatusCode":null}}`:   "responseStreamDisconnected",
		`null`: "",
	} {
		if got := errorCode(json.RawMessage(in)); got != want {
			t.Errorf("errorCode(%s) = %q, want %q", in, got, want)
		}
	}
}
