package fakellm

import (
	"encoding/json"
	"net/http"
	"testing"
)

// opencodeBody is an OpenCode-like Chat Completions request.
func opencodeBody(tools []any, messages ...any) map[string]any {
	msgs := append([]any{map[string]any{"role": "system", "content": "You are opencode."}}, messages...)
	body := map[string]any{
		"model": "fake-model", "max_tokens": 4096, "stream": true,
		"stream_options": map[string]any{"include_usage": true},
		"messages":       msgs,
	}
	if tools != nil {
		body["tools"] = tools
		body["tool_choice"] = "auto"
	}
	return body
}

// chatCall accumulates streamed tool_calls by index.
type chatCall struct{ ID, Name, Args string }

func collectChat(t *testing.T, events []sseEvent) (content, reasoning string, calls []chatCall, finish string, usage map[string]any) {
	t.Helper()
	if len(events) == 0 || events[len(events)-1].Data != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %v", events)
	}
	for _, e := range events[:len(events)-1] {
		if e.Name != "" || e.JSON["object"] != "chat.completion.chunk" {
			t.Fatalf("chunk %q %q", e.Name, e.Data)
		}
		if u := asMap(e.JSON["usage"]); u != nil {
			usage = u
		}
		for _, c := range asSlice(e.JSON["choices"]) {
			choice := asMap(c)
			if f := str(choice["finish_reason"]); f != "" {
				finish = f
			}
			d := asMap(choice["delta"])
			content += str(d["content"])
			reasoning += str(d["reasoning_content"])
			for _, tc := range asSlice(d["tool_calls"]) {
				m := asMap(tc)
				i, _ := m["index"].(float64)
				for len(calls) <= int(i) {
					calls = append(calls, chatCall{})
				}
				fn := asMap(m["function"])
				if id := str(m["id"]); id != "" {
					if calls[int(i)].ID != "" {
						t.Errorf("tool call %d: id sent twice", int(i))
					}
					calls[int(i)].ID, calls[int(i)].Name = id, str(fn["name"])
				} else if calls[int(i)].ID == "" {
					t.Errorf("tool call %d: arguments before id and name", int(i))
				}
				calls[int(i)].Args += str(fn["arguments"])
			}
		}
	}
	return content, reasoning, calls, finish, usage
}

func TestChatStreamText(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Step{Thinking: "hmm", Chunks: []string{"Hi ", "there"}})
	events := streamEvents(t, llm.OpenAIBaseURL()+"/chat/completions", opencodeBody(opencodeTools, map[string]any{"role": "user", "content": "\"hello\""}))
	content, reasoning, calls, finish, usage := collectChat(t, events)
	if content != "Hi there" || reasoning != "hmm" || len(calls) != 0 || finish != "stop" {
		t.Errorf("content %q reasoning %q calls %v finish %q", content, reasoning, calls, finish)
	}
	equal(t, "usage", usage, map[string]any{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120})
	// The usage chunk comes last, with empty choices, as OpenAI sends it.
	equal(t, "usage chunk choices", events[len(events)-2].JSON["choices"], []any{})
	equal(t, "first delta", asMap(asSlice(events[0].JSON["choices"])[0])["delta"], map[string]any{"role": "assistant", "content": ""})
}

func TestChatOpenCodeTools(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Calls(
		Call{Do: ActBash, Command: "touch x && echo made"},
		Call{Do: ActWrite, Path: "/w/a.txt", Content: "hi"},
		Call{Do: ActEdit, Path: "/w/a.txt", Old: "hi", New: "bye"},
		Call{Do: ActRead, Path: "/w/a.txt"},
		Call{Do: ActAsk, Questions: []Question{{Header: "Color", Question: "Which?", Options: []Choice{{Label: "Red"}}, MultiSelect: true}}},
		ToolCall("todowrite", map[string]any{"todos": []any{}}),
	))
	body := opencodeBody(opencodeTools, map[string]any{"role": "user", "content": "go"})
	delete(body, "stream_options")
	_, _, calls, finish, usage := collectChat(t, streamEvents(t, llm.OpenAIBaseURL()+"/chat/completions", body))
	if finish != "tool_calls" || usage != nil {
		t.Errorf("finish %q usage %v", finish, usage)
	}
	want := []struct {
		name string
		args map[string]any
	}{
		{"bash", map[string]any{"command": "touch x && echo made", "description": "Run touch x && echo made"}},
		{"write", map[string]any{"filePath": "/w/a.txt", "content": "hi"}},
		{"edit", map[string]any{"filePath": "/w/a.txt", "oldString": "hi", "newString": "bye"}},
		{"read", map[string]any{"filePath": "/w/a.txt"}},
		{"question", map[string]any{"questions": []any{map[string]any{"question": "Which?", "header": "Color", "multiple": true, "options": []any{map[string]any{"label": "Red", "description": ""}}}}}},
		{"todowrite", map[string]any{"todos": []any{}}},
	}
	if len(calls) != len(want) {
		t.Fatalf("calls %v", calls)
	}
	for i, w := range want {
		var args map[string]any
		if err := json.Unmarshal([]byte(calls[i].Args), &args); err != nil {
			t.Fatalf("call %d args %q: %v", i, calls[i].Args, err)
		}
		equal(t, w.name, []any{calls[i].Name, args}, []any{w.name, w.args})
	}
}

func TestChatTitleSideRequestAndToolResult(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Bash("echo made"), Text("done"))

	// OpenCode sends a tool-less title request before each prompt.
	title := opencodeBody(nil, map[string]any{"role": "user", "content": "Generate a title for this conversation:\nRun it"})
	content, _, _, _, _ := collectChat(t, streamEvents(t, llm.OpenAIBaseURL()+"/chat/completions", title))
	if content != "Fake title" || llm.Remaining() != 2 {
		t.Fatalf("title %q, remaining %d", content, llm.Remaining())
	}

	_, _, calls, _, _ := collectChat(t, streamEvents(t, llm.OpenAIBaseURL()+"/chat/completions",
		opencodeBody(opencodeTools, map[string]any{"role": "user", "content": "Run it"})))
	next := opencodeBody(opencodeTools,
		map[string]any{"role": "user", "content": "Run it"},
		map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
			"id": calls[0].ID, "type": "function", "function": map[string]any{"name": "bash", "arguments": calls[0].Args},
		}}},
		map[string]any{"role": "tool", "tool_call_id": calls[0].ID, "content": "made\n"},
	)
	content, _, _, finish, _ := collectChat(t, streamEvents(t, llm.OpenAIBaseURL()+"/chat/completions", next))
	if content != "done" || finish != "stop" {
		t.Errorf("content %q finish %q", content, finish)
	}

	reqs := llm.ModelRequests()
	equal(t, "served", []any{reqs[0].Served, reqs[1].Served, reqs[1].Step, reqs[2].Step}, []any{ServedSide, ServedStep, 0, 1})
	equal(t, "tool results", reqs[2].ToolResults(), []ToolResult{{CallID: calls[0].ID, Output: "made\n"}})
	if reqs[2].LastUserText() != "Run it" || reqs[2].SystemText() != "You are opencode." {
		t.Errorf("texts %q %q", reqs[2].LastUserText(), reqs[2].SystemText())
	}
}

func TestChatNonStreamingErrorsAndModels(t *testing.T) {
	llm := New(t, WithModels("fake-model"))
	llm.SetSteps(Step{Text: "I will", Calls: []Call{{Do: ActBash, Command: "ls"}}}, Error(429, ""),
		Step{Text: "x", Error: &APIError{Status: 500, InStream: true}})

	body := opencodeBody(opencodeTools, map[string]any{"role": "user", "content": "go"})
	body["stream"] = false
	m := decode(t, post(t, llm.OpenAIBaseURL()+"/chat/completions", body))
	choice := asMap(asSlice(m["choices"])[0])
	msg := asMap(choice["message"])
	call := asMap(asSlice(msg["tool_calls"])[0])
	if m["object"] != "chat.completion" || choice["finish_reason"] != "tool_calls" || msg["content"] != "I will" ||
		asMap(call["function"])["name"] != "bash" {
		t.Errorf("completion %v", m)
	}

	resp := post(t, llm.OpenAIBaseURL()+"/chat/completions", body)
	if e := asMap(decode(t, resp)["error"]); resp.StatusCode != 429 || e["code"] != "rate_limit_exceeded" {
		t.Errorf("429: %d %v", resp.StatusCode, e)
	}

	resp = post(t, llm.OpenAIBaseURL()+"/chat/completions", opencodeBody(opencodeTools, map[string]any{"role": "user", "content": "go"}))
	events, err := readSSE(t, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if asMap(last.JSON["error"])["type"] != "server_error" {
		t.Errorf("in-stream error: last event %q", last.Data)
	}

	get, err := http.Get(llm.OpenAIBaseURL() + "/models")
	if err != nil {
		t.Fatal(err)
	}
	defer get.Body.Close()
	equal(t, "models", decode(t, get), map[string]any{"object": "list", "data": []any{
		map[string]any{"id": "fake-model", "object": "model", "created": 1735689600, "owned_by": "fakellm"},
	}})
	one, err := http.Get(llm.OpenAIBaseURL() + "/models/gpt-5.5")
	if err != nil {
		t.Fatal(err)
	}
	defer one.Body.Close()
	if decode(t, one)["id"] != "gpt-5.5" {
		t.Error("GET /models/{id}")
	}
}
