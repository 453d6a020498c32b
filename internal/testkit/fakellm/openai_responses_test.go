package fakellm

import (
	"encoding/json"
	"strings"
	"testing"
)

// codexBody is a Codex-like Responses request: developer instructions, an
// environment_context user message, then the prompt and any history.
func codexBody(history ...any) map[string]any {
	input := []any{
		map[string]any{"type": "message", "role": "developer", "content": []any{map[string]any{"type": "input_text", "text": "You are Codex."}}},
		map[string]any{"type": "message", "role": "user", "content": []any{map[string]any{"type": "input_text", "text": "<environment_context>cwd</environment_context>"}}},
		map[string]any{"type": "message", "role": "user", "content": []any{map[string]any{"type": "input_text", "text": "Run it."}}},
	}
	return map[string]any{
		"model": "gpt-5.5", "input": append(input, history...), "tools": codexTools, "tool_choice": "auto",
		"parallel_tool_calls": true, "reasoning": map[string]any{"summary": "auto"}, "store": false, "stream": true,
		"include": []any{"reasoning.encrypted_content"},
	}
}

// items collects the output_item.done items of a Responses stream and checks
// the invariants every stream keeps.
func responsesItems(t *testing.T, events []sseEvent) []map[string]any {
	t.Helper()
	n := names(events)
	if len(n) < 3 || n[0] != "response.created" || n[1] != "response.in_progress" {
		t.Fatalf("stream start %v", n)
	}
	var items []map[string]any
	for i, e := range events {
		if e.Name != str(e.JSON["type"]) {
			t.Errorf("event %q has type %v", e.Name, e.JSON["type"])
		}
		if seq, _ := e.JSON["sequence_number"].(float64); int(seq) != i {
			t.Errorf("event %d %s: sequence_number %v", i, e.Name, e.JSON["sequence_number"])
		}
		if e.Name == "response.output_item.done" {
			items = append(items, asMap(e.JSON["item"]))
		}
	}
	return items
}

func TestResponsesTextAndReasoning(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Step{Thinking: "Think.", Chunks: []string{"Hel", "lo"}})

	events := streamEvents(t, llm.OpenAIBaseURL()+"/responses", codexBody(), "authorization", "Bearer test")
	equal(t, "events", names(events), []string{
		"response.created", "response.in_progress",
		"response.output_item.added", "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
		"response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
		"response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
		"response.output_text.done", "response.content_part.done", "response.output_item.done",
		"response.completed",
	})
	items := responsesItems(t, events)
	equal(t, "reasoning summary", items[0]["summary"], []any{map[string]any{"type": "summary_text", "text": "Think."}})
	equal(t, "message", []any{items[1]["type"], items[1]["role"], items[1]["content"]},
		[]any{"message", "assistant", []any{map[string]any{"type": "output_text", "text": "Hello", "annotations": []any{}}}})
	equal(t, "delta", events[10].JSON["delta"], "Hel")

	done := asMap(events[len(events)-1].JSON["response"])
	if done["status"] != "completed" || !strings.HasPrefix(str(done["id"]), "resp_") || done["model"] != "gpt-5.5" {
		t.Errorf("completed %v", done)
	}
	equal(t, "usage", done["usage"], map[string]any{
		"input_tokens": 100, "input_tokens_details": map[string]any{"cached_tokens": 0},
		"output_tokens": 20, "output_tokens_details": map[string]any{"reasoning_tokens": 0}, "total_tokens": 120,
	})
	equal(t, "output", len(asSlice(done["output"])), 2)

	r := llm.Requests()[0]
	if r.API != APIResponses || r.Path != "/v1/responses" || !r.HasSystemPrompt() || r.LastUserText() != "Run it." {
		t.Errorf("recorded %s system=%q", r.summary(), r.SystemText())
	}
	equal(t, "tools", r.Tools(), []string{"exec_command", "request_user_input", "apply_patch", "web_search"})
}

func TestResponsesWithoutV1Prefix(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Text("ok"))
	items := responsesItems(t, streamEvents(t, llm.URL()+"/responses", codexBody()))
	if len(items) != 1 || items[0]["type"] != "message" {
		t.Errorf("items %v", items)
	}
}

func TestResponsesCodexTools(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Calls(
		Call{Do: ActBash, Command: "echo hi"},
		Call{Do: ActWrite, Path: "a.txt", Content: "one\ntwo\n"},
		Call{Do: ActAsk, Questions: []Question{NewQuestion("Color", "Which color?", "Red", "Blue")}},
		Call{Do: ActRead, Path: "it's.txt"},
	))
	events := streamEvents(t, llm.OpenAIBaseURL()+"/responses", codexBody())
	items := responsesItems(t, events)
	if len(items) != 4 {
		t.Fatalf("items %v", items)
	}
	// Arguments arrive in pieces that add up to the final arguments.
	args := map[string]string{}
	for _, e := range events {
		switch e.Name {
		case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
			args[str(e.JSON["item_id"])] += str(e.JSON["delta"])
		}
	}

	exec := items[0]
	equal(t, "exec", []any{exec["type"], exec["name"], exec["arguments"], exec["status"]},
		[]any{"function_call", "exec_command", `{"cmd":"echo hi"}`, "completed"})
	if !strings.HasPrefix(str(exec["call_id"]), "call_") || args[str(exec["id"])] != exec["arguments"] {
		t.Errorf("exec %v, streamed %q", exec, args[str(exec["id"])])
	}

	patch := items[1]
	equal(t, "patch", []any{patch["type"], patch["name"], patch["input"]},
		[]any{"custom_tool_call", "apply_patch", "*** Begin Patch\n*** Add File: a.txt\n+one\n+two\n*** End Patch"})
	if args[str(patch["id"])] != patch["input"] {
		t.Errorf("streamed patch %q", args[str(patch["id"])])
	}

	var ask map[string]any
	if err := json.Unmarshal([]byte(str(items[2]["arguments"])), &ask); err != nil {
		t.Fatal(err)
	}
	equal(t, "ask", []any{items[2]["name"], ask}, []any{"request_user_input", map[string]any{"questions": []any{map[string]any{
		"id": "color", "header": "Color", "question": "Which color?",
		"options": []any{map[string]any{"label": "Red", "description": ""}, map[string]any{"label": "Blue", "description": ""}},
	}}}})
	equal(t, "read", items[3]["arguments"], `{"cmd":"cat 'it'\\''s.txt'"}`)
}

func TestResponsesPlanAndApplyPatchFunction(t *testing.T) {
	llm := New(t)
	llm.SetSteps(ExitPlanMode("1. do it"), Edit("a.txt", "x", "y"))

	items := responsesItems(t, streamEvents(t, llm.OpenAIBaseURL()+"/responses", codexBody()))
	equal(t, "plan text", asSlice(items[0]["content"])[0], map[string]any{"type": "output_text", "text": "<proposed_plan>\n1. do it\n</proposed_plan>", "annotations": []any{}})

	// Some Codex models get apply_patch as a JSON function taking {input}.
	body := codexBody()
	body["tools"] = []any{map[string]any{"type": "function", "name": "apply_patch", "parameters": map[string]any{"type": "object", "properties": map[string]any{"input": map[string]any{"type": "string"}}}}}
	items = responsesItems(t, streamEvents(t, llm.OpenAIBaseURL()+"/responses", body))
	equal(t, "edit", []any{items[0]["type"], items[0]["arguments"]},
		[]any{"function_call", `{"input":"*** Begin Patch\n*** Update File: a.txt\n@@\n-x\n+y\n*** End Patch"}`})
}

func TestResponsesToolResultAdvancesScript(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Bash("echo hi"), Text("It printed hi."))

	items := responsesItems(t, streamEvents(t, llm.OpenAIBaseURL()+"/responses", codexBody()))
	call := items[0]
	next := codexBody(
		map[string]any{"type": "reasoning", "summary": []any{}, "encrypted_content": nil},
		map[string]any{"type": "function_call", "call_id": call["call_id"], "name": "exec_command", "arguments": call["arguments"]},
		map[string]any{"type": "function_call_output", "call_id": call["call_id"], "output": "Chunk ID: 1\nProcess exited with code 0\nOutput:\nhi\n"},
	)
	items = responsesItems(t, streamEvents(t, llm.OpenAIBaseURL()+"/responses", next))
	equal(t, "final text", asSlice(items[0]["content"])[0].(map[string]any)["text"], "It printed hi.")

	reqs := llm.ModelRequests()
	if len(reqs) != 2 || reqs[1].Step != 1 || llm.Remaining() != 0 {
		t.Fatalf("requests %v", reqs)
	}
	res := reqs[1].LatestToolResults()
	if len(res) != 1 || res[0].CallID != call["call_id"] || !strings.Contains(res[0].Output, "hi") {
		t.Errorf("tool results %+v", res)
	}
	if calls := reqs[1].Messages()[4].ToolCalls; len(calls) != 1 || calls[0].Name != "exec_command" {
		t.Errorf("history %+v", reqs[1].Messages())
	}
	if len(reqs[0].LatestToolResults()) != 0 {
		t.Error("first request has no tool results")
	}
}

func TestResponsesErrors(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Error(401, ""), Error(429, "slow down"), Error(500, "boom"),
		Step{Error: &APIError{Status: 429, Code: "insufficient_quota", Type: "insufficient_quota"}})
	for _, want := range []struct {
		status    int
		typ, code any
	}{
		{401, "invalid_request_error", "invalid_api_key"},
		{429, "requests", "rate_limit_exceeded"},
		{500, "server_error", nil},
		{429, "insufficient_quota", "insufficient_quota"},
	} {
		resp := post(t, llm.OpenAIBaseURL()+"/responses", codexBody())
		if resp.StatusCode != want.status {
			t.Errorf("status %d, want %d", resp.StatusCode, want.status)
		}
		e := asMap(decode(t, resp)["error"])
		if e["type"] != want.typ || e["code"] != want.code || str(e["message"]) == "" {
			t.Errorf("%d: error %v", want.status, e)
		}
	}
}

func TestResponsesInStreamErrorAndCut(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Text("partial").WithCut(4), Step{Text: "partial", Error: &APIError{Status: 500, Message: "went away", InStream: true}})

	resp := post(t, llm.OpenAIBaseURL()+"/responses", codexBody())
	events, err := readSSE(t, resp.Body)
	if err == nil || len(events) != 4 {
		t.Errorf("cut: %d events, err %v", len(events), err)
	}

	events = streamEvents(t, llm.OpenAIBaseURL()+"/responses", codexBody())
	last := events[len(events)-1]
	if last.Name != "response.failed" {
		t.Fatalf("last event %v", names(events))
	}
	failed := asMap(last.JSON["response"])
	equal(t, "failed", []any{failed["status"], failed["error"]}, []any{"failed", map[string]any{"code": "server_error", "message": "went away"}})
}

func TestResponsesNonStreaming(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Bash("ls"))
	body := codexBody()
	body["stream"] = false
	m := decode(t, post(t, llm.OpenAIBaseURL()+"/responses", body))
	out := asSlice(m["output"])
	if m["object"] != "response" || m["status"] != "completed" || len(out) != 1 || asMap(out[0])["name"] != "exec_command" {
		t.Errorf("response %v", m)
	}
}
