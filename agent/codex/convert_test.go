package codex

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/jsonrpc"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/*.events.json from the converter's output")

// goldenEvent is one draft as the golden files show it; raw is the input
// line, so only its number and method are shown.
type goldenEvent struct {
	Line            int              `json:"line"`
	Native          string           `json:"native"`
	Type            schema.EventType `json:"type"`
	Synthetic       bool             `json:"synthetic,omitempty"`
	NativeSessionID string           `json:"native_session_id,omitempty"`
	Data            schema.EventData `json:"data"`
}

// fixtures lists the app-server stdout streams in testdata.
func fixtures(t testing.TB) []string {
	t.Helper()
	all, err := filepath.Glob("testdata/*.stdout.jsonl")
	if err != nil || len(all) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	return all
}

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	return lines
}

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
			var got []goldenEvent
			for i, l := range readLines(t, f) {
				native, drafts, err := r.line(l)
				if err != nil {
					t.Errorf("line %d (%s): %v", i+1, native, err)
				}
				for _, d := range drafts {
					if d.Type == schema.EventAgentUnparsed {
						t.Errorf("line %d (%s) unparsed: %+v", i+1, native, d.Data)
					}
					got = append(got, goldenEvent{Line: i + 1, Native: native, Type: d.Type, Synthetic: d.Synthetic, NativeSessionID: d.NativeSessionID, Data: d.Data})
				}
			}
			want := strings.TrimSuffix(f, ".stdout.jsonl") + ".events.json"
			b, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, '\n')
			if *update {
				if err := os.WriteFile(want, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			w, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if d := cmp.Diff(string(w), string(b)); d != "" {
				t.Errorf("%s differs (-want +got):\n%s", want, d)
			}
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
