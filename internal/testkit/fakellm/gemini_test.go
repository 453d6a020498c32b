package fakellm

import (
	"net/http"
	"strings"
	"testing"
)

// geminiBody is a Gemini CLI request: the shell, write and edit tools with
// their JSON schemas, and the given contents.
func geminiBody(contents ...any) map[string]any {
	return map[string]any{
		"contents":          contents,
		"systemInstruction": map[string]any{"parts": []any{map[string]any{"text": "You are Gemini CLI."}}},
		"tools": []any{map[string]any{"functionDeclarations": []any{
			map[string]any{"name": "run_shell_command", "parametersJsonSchema": map[string]any{"type": "object", "properties": map[string]any{"command": map[string]any{"type": "string"}, "description": map[string]any{"type": "string"}}}},
			map[string]any{"name": "write_file", "parametersJsonSchema": map[string]any{"type": "object", "properties": map[string]any{"file_path": map[string]any{"type": "string"}, "content": map[string]any{"type": "string"}}}},
			map[string]any{"name": "replace", "parametersJsonSchema": map[string]any{"type": "object", "properties": map[string]any{"file_path": map[string]any{}, "old_string": map[string]any{}, "new_string": map[string]any{}}}},
		}}},
	}
}

func geminiUser(text string) map[string]any {
	return map[string]any{"role": "user", "parts": []any{map[string]any{"text": text}}}
}

func TestGeminiStreamToolCallAndResult(t *testing.T) {
	s := New(t)
	s.SetSteps(Thinking("Let me run it.", "Running."), Bash("echo hi"), Write("a.txt", "x\n"), Edit("a.txt", "x", "y"), Text("Done."))
	url := s.URL() + "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
	evs := streamEvents(t, url, geminiBody(geminiUser("Go.")))
	if len(evs) != 2 {
		t.Fatalf("events %v", evs)
	}
	p0 := asMap(asSlice(asMap(asMap(asSlice(evs[0].JSON["candidates"])[0])["content"])["parts"])[0])
	if p0["text"] != "Let me run it." || p0["thought"] != true {
		t.Errorf("thought part %v", p0)
	}
	last := asMap(asSlice(evs[1].JSON["candidates"])[0])
	if last["finishReason"] != "STOP" || evs[1].JSON["usageMetadata"] == nil {
		t.Errorf("last event %v", evs[1].JSON)
	}
	var calls []string
	for i := range 3 {
		evs = streamEvents(t, url, geminiBody(geminiUser("Go.")))
		for _, e := range evs {
			for _, p := range asSlice(asMap(asMap(asSlice(e.JSON["candidates"])[0])["content"])["parts"]) {
				if fc := asMap(asMap(p)["functionCall"]); fc != nil {
					calls = append(calls, str(fc["name"])+" "+compactJSON(fc["args"]))
				}
			}
		}
		_ = i
	}
	want := []string{
		`run_shell_command {"command":"echo hi","description":"Run echo hi"}`,
		`write_file {"content":"x\n","file_path":"a.txt"}`,
		`replace {"file_path":"a.txt","new_string":"y","old_string":"x"}`,
	}
	if strings.Join(calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls\n got %q\nwant %q", calls, want)
	}
	// The tool's result comes back as a functionResponse part.
	post(t, url, geminiBody(geminiUser("Go."),
		map[string]any{"role": "model", "parts": []any{map[string]any{"functionCall": map[string]any{"id": "c1", "name": "run_shell_command", "args": map[string]any{"command": "echo hi"}}}}},
		map[string]any{"role": "user", "parts": []any{map[string]any{"functionResponse": map[string]any{"id": "c1", "name": "run_shell_command", "response": map[string]any{"output": "hi\n"}}}}},
	)).Body.Close()
	reqs := s.ModelRequests()
	q := reqs[len(reqs)-1]
	if q.API != APIGemini || q.Model() != "gemini-2.5-pro" || !q.Stream() || q.SystemText() != "You are Gemini CLI." {
		t.Errorf("request %s %q stream=%v system=%q", q.API, q.Model(), q.Stream(), q.SystemText())
	}
	if res := q.LatestToolResults(); len(res) != 1 || res[0].CallID != "c1" || res[0].Output != "hi\n" {
		t.Errorf("tool results %+v", res)
	}
}

func TestGeminiJSONSideRequestAndError(t *testing.T) {
	s := New(t)
	s.SetSteps(Step{Error: &APIError{Status: 429, Message: "slow down"}})
	// A tool-less generateContent (Gemini CLI's routing classifier) is a
	// side request: it consumes no step.
	resp := post(t, s.URL()+"/v1beta/models/gemini-flash:generateContent", map[string]any{"contents": []any{geminiUser("Route this.")}})
	body := decode(t, resp)
	part := asMap(asSlice(asMap(asMap(asSlice(body["candidates"])[0])["content"])["parts"])[0])
	if part["text"] != "Fake title" {
		t.Errorf("side reply %v", body)
	}
	resp = post(t, s.URL()+"/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", geminiBody(geminiUser("Go.")))
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("status %d", resp.StatusCode)
	}
	e := asMap(decode(t, resp)["error"])
	if e["status"] != "RESOURCE_EXHAUSTED" || e["message"] != "slow down" || e["code"] != float64(429) {
		t.Errorf("error %v", e)
	}
}
