package fakellm

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestAnthropicStreamText(t *testing.T) {
	llm := New(t)
	llm.SetSteps(TextChunks("partial mess", "ages demo"))

	events := streamEvents(t, llm.URL()+"/v1/messages?beta=true", claudeBody(true, userText("hi")), anthropicHeaders...)
	equal(t, "events", names(events), []string{
		"message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
		"content_block_stop", "message_delta", "message_stop",
	})
	for _, e := range events {
		if e.JSON["type"] != e.Name {
			t.Errorf("event %q has data type %v", e.Name, e.JSON["type"])
		}
	}
	msg := asMap(events[0].JSON["message"])
	equal(t, "message_start", []any{msg["role"], msg["model"], msg["content"], msg["stop_reason"]},
		[]any{"assistant", "claude-opus-5-5", []any{}, nil})
	if !strings.HasPrefix(str(msg["id"]), "msg_") {
		t.Errorf("message id %v", msg["id"])
	}
	equal(t, "block", events[1].JSON["content_block"], map[string]any{"type": "text", "text": ""})
	equal(t, "delta", events[3].JSON["delta"], map[string]any{"type": "text_delta", "text": "partial mess"})
	equal(t, "message_delta", events[6].JSON["delta"], map[string]any{"stop_reason": "end_turn", "stop_sequence": nil})
	equal(t, "usage", events[6].JSON["usage"], map[string]any{"output_tokens": 20})

	r := llm.Requests()[0]
	if r.Path != "/v1/messages" || r.Query != "beta=true" || r.API != APIAnthropic || r.Served != ServedStep || r.Step != 0 {
		t.Errorf("recorded %+v", r)
	}
}

func TestAnthropicThinkingAndToolUse(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Bash("touch made && echo made").WithThinking("I should run it.").WithText("Running."))

	events := streamEvents(t, llm.URL()+"/v1/messages", claudeBody(true, userText("go")), anthropicHeaders...)
	n := names(events)
	if len(n) < 5 || n[0] != "message_start" || n[2] != "ping" || n[len(n)-2] != "message_delta" || n[len(n)-1] != "message_stop" {
		t.Fatalf("events %v", n)
	}

	var (
		blocks  []map[string]any
		partial = map[int]string{}
		stop    string
	)
	for _, e := range events {
		switch e.Name {
		case "content_block_start":
			blocks = append(blocks, asMap(e.JSON["content_block"]))
		case "content_block_delta":
			d := asMap(e.JSON["delta"])
			idx, _ := e.JSON["index"].(float64)
			switch d["type"] {
			case "thinking_delta":
				partial[int(idx)] += str(d["thinking"])
			case "signature_delta":
				if str(d["signature"]) == "" {
					t.Error("empty signature")
				}
			case "text_delta":
				partial[int(idx)] += str(d["text"])
			case "input_json_delta":
				partial[int(idx)] += str(d["partial_json"])
			default:
				t.Errorf("delta type %v", d["type"])
			}
		case "message_delta":
			stop = str(asMap(e.JSON["delta"])["stop_reason"])
		}
	}
	if len(blocks) != 3 || blocks[0]["type"] != "thinking" || blocks[1]["type"] != "text" || blocks[2]["type"] != "tool_use" {
		t.Fatalf("blocks %v", blocks)
	}
	if blocks[2]["name"] != "Bash" || !strings.HasPrefix(str(blocks[2]["id"]), "toolu_") {
		t.Errorf("tool block %v", blocks[2])
	}
	equal(t, "thinking", partial[0], "I should run it.")
	equal(t, "text", partial[1], "Running.")
	var input map[string]any
	if err := json.Unmarshal([]byte(partial[2]), &input); err != nil {
		t.Fatalf("tool input %q: %v", partial[2], err)
	}
	equal(t, "input", input, map[string]any{"command": "touch made && echo made", "description": "Run touch made && echo made"})
	if stop != "tool_use" {
		t.Errorf("stop_reason %q", stop)
	}
}

func TestAnthropicNonStreaming(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Calls(
		Call{Do: ActWrite, Path: "/w/a.txt", Content: "hi\n", ID: "toolu_fixed"},
		Call{Do: ActEdit, Path: "/w/a.txt", Old: "hi", New: "bye"},
		Call{Do: ActRead, Path: "/w/a.txt"},
		Call{Do: ActExitPlan, Plan: "1. win"},
	).WithThinking("plan"))

	resp := post(t, llm.URL()+"/v1/messages", claudeBody(false, userText("go")), anthropicHeaders...)
	if resp.StatusCode != 200 || resp.Header.Get("request-id") == "" {
		t.Fatalf("status %d, request-id %q", resp.StatusCode, resp.Header.Get("request-id"))
	}
	m := decode(t, resp)
	equal(t, "head", []any{m["type"], m["role"], m["stop_reason"]}, []any{"message", "assistant", "tool_use"})
	content := asSlice(m["content"])
	if len(content) != 5 {
		t.Fatalf("content %v", content)
	}
	think := asMap(content[0])
	if think["type"] != "thinking" || think["thinking"] != "plan" || str(think["signature"]) == "" {
		t.Errorf("thinking %v", think)
	}
	want := []map[string]any{
		{"type": "tool_use", "id": "toolu_fixed", "name": "Write", "input": map[string]any{"file_path": "/w/a.txt", "content": "hi\n"}},
		{"type": "tool_use", "name": "Edit", "input": map[string]any{"file_path": "/w/a.txt", "old_string": "hi", "new_string": "bye"}},
		{"type": "tool_use", "name": "Read", "input": map[string]any{"file_path": "/w/a.txt"}},
		{"type": "tool_use", "name": "ExitPlanMode", "input": map[string]any{"plan": "1. win"}},
	}
	for i, w := range want {
		got := asMap(content[i+1])
		if w["id"] == nil {
			delete(got, "id")
		}
		equal(t, "tool", got, w)
	}
}

func TestAnthropicAskUserQuestion(t *testing.T) {
	llm := New(t)
	llm.SetSteps(AskUserQuestion(Question{Header: "Color", Question: "Which color should we use?",
		Options: []Choice{{Label: "Red", Description: "warm"}, {Label: "Blue", Description: "cool"}}}))
	m := decode(t, post(t, llm.URL()+"/v1/messages", claudeBody(false, userText("ask")), anthropicHeaders...))
	block := asMap(asSlice(m["content"])[0])
	equal(t, "ask", block["input"], map[string]any{"questions": []any{map[string]any{
		"question": "Which color should we use?", "header": "Color", "multiSelect": false,
		"options": []any{map[string]any{"label": "Red", "description": "warm"}, map[string]any{"label": "Blue", "description": "cool"}},
	}}})
	if block["name"] != "AskUserQuestion" {
		t.Errorf("name %v", block["name"])
	}
}

func TestAnthropicCountTokensAndModels(t *testing.T) {
	llm := New(t, WithModels("claude-a", "claude-b"))
	m := decode(t, post(t, llm.URL()+"/v1/messages/count_tokens?beta=true", claudeBody(false, userText("x")), anthropicHeaders...))
	if n, _ := m["input_tokens"].(float64); n < 1 {
		t.Errorf("count_tokens %v", m)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, llm.URL()+"/v1/models", nil)
	req.Header.Set("anthropic-version", "2023-06-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m = decode(t, resp)
	equal(t, "models", m, map[string]any{
		"data": []any{
			map[string]any{"type": "model", "id": "claude-a", "display_name": "claude-a", "created_at": "2025-01-01T00:00:00Z"},
			map[string]any{"type": "model", "id": "claude-b", "display_name": "claude-b", "created_at": "2025-01-01T00:00:00Z"},
		},
		"has_more": false, "first_id": "claude-a", "last_id": "claude-b",
	})
	if llm.Remaining() != 0 || len(llm.ModelRequests()) != 0 {
		t.Errorf("count_tokens/models must not be model turns: %v", llm.ModelRequests())
	}
}

func TestAnthropicErrors(t *testing.T) {
	for _, tc := range []struct {
		step     Step
		status   int
		typ      string
		noRetry  bool
		retryHdr string
	}{
		{Error(401, "bad key"), 401, "authentication_error", false, ""},
		{Step{Error: &APIError{Status: 429, NoRetry: true, Headers: map[string]string{"retry-after": "0"}}}, 429, "rate_limit_error", true, "0"},
		{Error(500, ""), 500, "api_error", false, ""},
		{Error(529, "Overloaded"), 529, "overloaded_error", false, ""},
	} {
		llm := New(t)
		llm.SetSteps(tc.step)
		resp := post(t, llm.URL()+"/v1/messages", claudeBody(true, userText("x")), anthropicHeaders...)
		if resp.StatusCode != tc.status {
			t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
		}
		if (resp.Header.Get("x-should-retry") == "false") != tc.noRetry || resp.Header.Get("retry-after") != tc.retryHdr {
			t.Errorf("%d: headers %v", tc.status, resp.Header)
		}
		m := decode(t, resp)
		e := asMap(m["error"])
		if m["type"] != "error" || e["type"] != tc.typ || str(e["message"]) == "" || str(m["request_id"]) != resp.Header.Get("request-id") {
			t.Errorf("%d: body %v", tc.status, m)
		}
	}
}

func TestAnthropicInStreamError(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Step{Text: "partial", Error: &APIError{Status: 529, InStream: true}})
	events := streamEvents(t, llm.URL()+"/v1/messages", claudeBody(true, userText("x")), anthropicHeaders...)
	equal(t, "events", names(events), []string{"message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop", "error"})
	equal(t, "error", events[5].JSON, map[string]any{"type": "error", "error": map[string]any{"type": "overloaded_error", "message": "fakellm: scripted 529 Overloaded"}})
}

func TestAnthropicStreamCut(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Text("never finished").WithCut(3), Text("again").WithCut(1))

	resp := post(t, llm.URL()+"/v1/messages", claudeBody(true, userText("x")), anthropicHeaders...)
	events, err := readSSE(t, resp.Body)
	if err == nil {
		t.Fatal("cut stream ended cleanly")
	}
	equal(t, "events", names(events), []string{"message_start", "content_block_start", "ping"})

	resp = post(t, llm.URL()+"/v1/messages", claudeBody(false, userText("x")), anthropicHeaders...)
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("cut JSON body read cleanly")
	}
}
