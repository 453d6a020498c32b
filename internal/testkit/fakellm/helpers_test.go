package fakellm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	Name string
	Data string
	JSON map[string]any
}

// readSSE parses an SSE body until EOF or a read error, which it returns
// (nil on a clean end).
func readSSE(t *testing.T, body io.Reader) ([]sseEvent, error) {
	t.Helper()
	var (
		events []sseEvent
		cur    sseEvent
		data   []string
	)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 || cur.Name != "" {
				cur.Data = strings.Join(data, "\n")
				if strings.HasPrefix(cur.Data, "{") {
					if err := json.Unmarshal([]byte(cur.Data), &cur.JSON); err != nil {
						t.Fatalf("event %q: bad JSON %q: %v", cur.Name, cur.Data, err)
					}
				}
				events = append(events, cur)
			}
			cur, data = sseEvent{}, nil
		case strings.HasPrefix(line, "event: "):
			cur.Name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	return events, sc.Err()
}

// names lists event names, or the JSON "type" for data-only events.
func names(events []sseEvent) []string {
	var out []string
	for _, e := range events {
		n := e.Name
		if n == "" {
			n = str(e.JSON["type"])
		}
		out = append(out, n)
	}
	return out
}

// post sends body as JSON and returns the response.
func post(t *testing.T, url string, body any, headers ...string) *http.Response {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// streamEvents posts body and parses the SSE reply, failing on a non-200 status
// or a broken stream.
func streamEvents(t *testing.T, url string, body any, headers ...string) []sseEvent {
	t.Helper()
	resp := post(t, url, body, headers...)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type = %q", ct)
	}
	events, err := readSSE(t, resp.Body)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	return events
}

// decode reads a JSON object body.
func decode(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// Tool schemas as the real agents send them (abridged), from
// shared/reference/real-agents-offline.md.
var (
	claudeTools = []any{
		map[string]any{"name": "Bash", "description": "Run a command", "input_schema": map[string]any{"type": "object", "properties": map[string]any{
			"command": map[string]any{"type": "string"}, "description": map[string]any{"type": "string"}, "timeout": map[string]any{"type": "number"},
		}, "required": []any{"command"}}},
		map[string]any{"name": "Write", "input_schema": map[string]any{"type": "object", "properties": map[string]any{
			"file_path": map[string]any{"type": "string"}, "content": map[string]any{"type": "string"},
		}}},
		map[string]any{"name": "Edit", "input_schema": map[string]any{"type": "object", "properties": map[string]any{
			"file_path": map[string]any{"type": "string"}, "old_string": map[string]any{"type": "string"}, "new_string": map[string]any{"type": "string"}, "replace_all": map[string]any{"type": "boolean"},
		}}},
		map[string]any{"name": "Read", "input_schema": map[string]any{"type": "object", "properties": map[string]any{
			"file_path": map[string]any{"type": "string"}, "offset": map[string]any{"type": "number"},
		}}},
		map[string]any{"name": "AskUserQuestion", "input_schema": map[string]any{"type": "object", "properties": map[string]any{"questions": map[string]any{"type": "array"}}}},
		map[string]any{"name": "ExitPlanMode", "input_schema": map[string]any{"type": "object", "properties": map[string]any{"plan": map[string]any{"type": "string"}}}},
		map[string]any{"type": "web_search_20250305", "name": "web_search"},
	}
	codexTools = []any{
		map[string]any{"type": "function", "name": "exec_command", "parameters": map[string]any{"type": "object", "properties": map[string]any{
			"cmd": map[string]any{"type": "string"}, "workdir": map[string]any{"type": "string"}, "login": map[string]any{"type": "boolean"},
		}, "required": []any{"cmd"}}},
		map[string]any{"type": "function", "name": "request_user_input", "parameters": map[string]any{"type": "object", "properties": map[string]any{"questions": map[string]any{"type": "array"}}}},
		map[string]any{"type": "custom", "name": "apply_patch", "format": map[string]any{"type": "grammar", "syntax": "lark", "definition": "start: begin_patch hunk+ end_patch"}},
		map[string]any{"type": "web_search"},
	}
	opencodeTools = []any{
		map[string]any{"type": "function", "function": map[string]any{"name": "bash", "parameters": map[string]any{"type": "object", "properties": map[string]any{
			"command": map[string]any{"type": "string"}, "timeout": map[string]any{"type": "number"}, "workdir": map[string]any{"type": "string"}, "description": map[string]any{"type": "string"},
		}}}},
		map[string]any{"type": "function", "function": map[string]any{"name": "write", "parameters": map[string]any{"type": "object", "properties": map[string]any{
			"content": map[string]any{"type": "string"}, "filePath": map[string]any{"type": "string"},
		}}}},
		map[string]any{"type": "function", "function": map[string]any{"name": "edit", "parameters": map[string]any{"type": "object", "properties": map[string]any{
			"filePath": map[string]any{"type": "string"}, "oldString": map[string]any{"type": "string"}, "newString": map[string]any{"type": "string"},
		}}}},
		map[string]any{"type": "function", "function": map[string]any{"name": "read", "parameters": map[string]any{"type": "object", "properties": map[string]any{
			"filePath": map[string]any{"type": "string"},
		}}}},
		map[string]any{"type": "function", "function": map[string]any{"name": "question", "parameters": map[string]any{"type": "object", "properties": map[string]any{"questions": map[string]any{"type": "array"}}}}},
	}
)

// claudeBody is a Claude Code-like Messages request.
func claudeBody(stream bool, messages ...any) map[string]any {
	return map[string]any{
		"model": "claude-opus-5-5", "max_tokens": 128000, "stream": stream,
		"system": []any{
			map[string]any{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332"},
			map[string]any{"type": "text", "text": "You are Claude Code."},
		},
		"tools":    claudeTools,
		"messages": messages,
	}
}

func userText(text string) map[string]any {
	return map[string]any{"role": "user", "content": []any{
		map[string]any{"type": "text", "text": "<system-reminder>be nice</system-reminder>"},
		map[string]any{"type": "text", "text": text},
	}}
}

var anthropicHeaders = []string{"x-api-key", "test", "anthropic-version", "2023-06-01"}
