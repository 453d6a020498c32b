package fakellm

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// anthropicText returns the text of a non-streaming Messages reply.
func anthropicText(t *testing.T, m map[string]any) string {
	t.Helper()
	var b strings.Builder
	for _, c := range asSlice(m["content"]) {
		b.WriteString(str(asMap(c)["text"]))
	}
	return b.String()
}

func ask(t *testing.T, llm *Server, body map[string]any) map[string]any {
	t.Helper()
	body["stream"] = false
	return decode(t, post(t, llm.URL()+"/v1/messages", body, anthropicHeaders...))
}

func TestScriptAdvancesOnToolResultThenFallsBack(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Bash("touch made-by-bash.txt && echo made"), Text("FAKE_DONE: made"))

	first := ask(t, llm, claudeBody(false, userText("Run it.")))
	use := asMap(asSlice(first["content"])[0])
	second := ask(t, llm, claudeBody(false,
		userText("Run it."),
		map[string]any{"role": "assistant", "content": []any{use}},
		map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "tool_result", "tool_use_id": use["id"], "content": "made", "is_error": false},
		}},
	))
	if got := anthropicText(t, second); got != "FAKE_DONE: made" {
		t.Errorf("second reply %q", got)
	}
	third := ask(t, llm, claudeBody(false, userText("again")))
	if got := anthropicText(t, third); got != DefaultText {
		t.Errorf("fallback reply %q", got)
	}

	reqs := llm.ModelRequests()
	equal(t, "served", []any{reqs[0].Served, reqs[1].Served, reqs[2].Served}, []any{ServedStep, ServedStep, ServedFallback})
	equal(t, "latest results", reqs[1].LatestToolResults(), []ToolResult{{CallID: str(use["id"]), Output: "made"}})
	if reqs[1].LastUserText() != "<system-reminder>be nice</system-reminder>\nRun it." {
		t.Errorf("LastUserText %q", reqs[1].LastUserText())
	}
	if !reqs[0].HasSystemPrompt() || reqs[0].Model() != "claude-opus-5-5" || !reqs[0].HasTool("Bash") || reqs[0].HasTool("bash") {
		t.Errorf("helpers on %s", reqs[0].summary())
	}
	if specs := reqs[0].ToolSpecs(); specs[len(specs)-1].Type != "web_search_20250305" || specs[0].Type != "function" {
		t.Errorf("tool specs %+v", specs)
	}
}

func TestSideRules(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Text("real turn"))

	// Claude Code's title request: no tools, a system prompt asking for JSON.
	title := claudeBody(false, userText("Say hello"))
	delete(title, "tools")
	title["system"] = "Generate a title. Respond with JSON {\"title\": string}."
	if got := anthropicText(t, ask(t, llm, title)); got != `{"title": "Fake title"}` {
		t.Errorf("JSON title %q", got)
	}
	if got := anthropicText(t, ask(t, llm, claudeBody(false, userText("hi")))); got != "real turn" {
		t.Errorf("real turn %q", got)
	}

	// Custom rules replace the defaults; Match fields combine.
	llm.SetScenario(Scenario{
		Steps: []Step{Text("step")},
		Side: []SideRule{
			{Match: Match{SystemContains: "summarize", API: APIAnthropic}, Reply: Text("summary")},
			{Match: Match{Func: func(r *Request) bool { return strings.Contains(r.LastUserText(), "quota") }}},
		},
	})
	sum := claudeBody(false, userText("x"))
	sum["system"] = "Please summarize."
	if got := anthropicText(t, ask(t, llm, sum)); got != "summary" {
		t.Errorf("custom side %q", got)
	}
	if got := anthropicText(t, ask(t, llm, claudeBody(false, userText("quota")))); got != "Fake title" {
		t.Errorf("zero reply must mean the title reply, got %q", got)
	}
	noTools := claudeBody(false, userText("tool-less but scripted"))
	delete(noTools, "tools")
	if got := anthropicText(t, ask(t, llm, noTools)); got != "step" {
		t.Errorf("custom rules must replace the default: %q", got)
	}

	// An empty, non-nil Side disables side rules entirely.
	llm.SetScenario(Scenario{Steps: []Step{Text("scripted title")}, Side: []SideRule{}})
	if got := anthropicText(t, ask(t, llm, noTools)); got != "scripted title" {
		t.Errorf("disabled side rules: %q", got)
	}
}

func TestFallbackAndFuncAndAddSteps(t *testing.T) {
	fb := Func(func(r *Request) Step { return Text("echo: " + r.LastUserText()) })
	llm := New(t, WithScenario(Scenario{Fallback: &fb}))
	if got := anthropicText(t, ask(t, llm, claudeBody(false, map[string]any{"role": "user", "content": "ping"}))); got != "echo: ping" {
		t.Errorf("fallback %q", got)
	}
	llm.AddSteps(Text("added"))
	if llm.Remaining() != 1 {
		t.Errorf("remaining %d", llm.Remaining())
	}
	if got := anthropicText(t, ask(t, llm, claudeBody(false, userText("x")))); got != "added" {
		t.Errorf("added step %q", got)
	}
	llm.Reset()
	if len(llm.Requests()) != 0 || llm.Remaining() != 1 {
		t.Errorf("after Reset: %d requests, %d remaining", len(llm.Requests()), llm.Remaining())
	}
}

func TestMarkers(t *testing.T) {
	llm := New(t)
	llm.SetSteps(Repeat(5, Markers())...)

	// opencode run wraps the prompt in quotes; the trailing one is dropped.
	_, _, calls, _, _ := collectChat(t, streamEvents(t, llm.OpenAIBaseURL()+"/chat/completions",
		opencodeBody(opencodeTools, map[string]any{"role": "user", "content": "\"Run it. FAKE_BASH: touch x && echo made\""})))
	equal(t, "bash", calls[0].Args, `{"command":"touch x && echo made","description":"Run touch x && echo made"}`)

	content, _, _, _, _ := collectChat(t, streamEvents(t, llm.OpenAIBaseURL()+"/chat/completions", opencodeBody(opencodeTools,
		map[string]any{"role": "user", "content": "FAKE_BASH: echo made"},
		map[string]any{"role": "assistant", "tool_calls": []any{map[string]any{"id": "c1", "type": "function", "function": map[string]any{"name": "bash", "arguments": "{}"}}}},
		map[string]any{"role": "tool", "tool_call_id": "c1", "content": "made"},
	)))
	equal(t, "done", content, "FAKE_DONE: made")

	m := ask(t, llm, claudeBody(false, userText(`FAKE_TOOL: AskUserQuestion {"questions":[{"question":"Which?","header":"C","options":[],"multiSelect":false}]}`)))
	equal(t, "tool", asMap(asSlice(m["content"])[0])["input"], map[string]any{"questions": []any{map[string]any{"question": "Which?", "header": "C", "options": []any{}, "multiSelect": false}}})

	items := responsesItems(t, streamEvents(t, llm.OpenAIBaseURL()+"/responses", func() map[string]any {
		b := codexBody()
		b["input"] = []any{map[string]any{"role": "user", "content": "FAKE_PATCH: hello.txt hi there"}}
		return b
	}()))
	equal(t, "patch", items[0]["input"], "*** Begin Patch\n*** Add File: hello.txt\n+hi there\n*** End Patch")

	if got := anthropicText(t, ask(t, llm, claudeBody(false, userText("FAKE_TEXT: just this\nmore")))); got != "just this" {
		t.Errorf("FAKE_TEXT %q", got)
	}
}

func TestParseScenario(t *testing.T) {
	sc, err := LoadScenario("testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Steps) != 17 || len(sc.Side) != 1 || sc.Fallback == nil || sc.Fallback.Text != "Done." {
		t.Fatalf("scenario %+v", sc)
	}
	if d := time.Duration(sc.Steps[14].Delay); d != 2*time.Second {
		t.Errorf("delay %v", d)
	}
	if d := time.Duration(sc.Steps[14].EventDelay); d != 250*time.Millisecond {
		t.Errorf("event_delay %v", d)
	}
	if c := sc.Steps[9].Calls[0]; c.Name != "TodoWrite" || string(c.Input) != `{"todos": []}` || c.ID != "toolu_1" {
		t.Errorf("literal call %+v", c)
	}
	if e := sc.Steps[11].Error; e.Status != 429 || !e.NoRetry || e.Headers["retry-after"] != "0" {
		t.Errorf("error %+v", e)
	}
	if !sc.Steps[16].Markers || !sc.Side[0].Match.NoTools {
		t.Error("markers / side match")
	}

	// A scenario round-trips through JSON.
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseScenario(b); err != nil {
		t.Errorf("round trip: %v\n%s", err, b)
	}

	for _, bad := range []string{
		`{"steps": [{"txt": "typo"}]}`,
		`{"steps": [{"calls": [{"do": "fly"}]}]}`,
		`{"steps": [{"calls": [{"input": {}}]}]}`,
		`{"steps": [{"error": {"status": 200}}]}`,
		`{"steps": [{"delay": "soon"}]}`,
		`{"fallback": {"cut_after": -1}}`,
	} {
		if _, err := ParseScenario([]byte(bad)); err == nil {
			t.Errorf("ParseScenario(%s) succeeded", bad)
		}
	}
}

func TestScenarioServesEveryExampleStep(t *testing.T) {
	sc, err := LoadScenario("testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	// Drop the pacing and failure steps; the rest must stream cleanly on
	// every API.
	var steps []Step
	for _, s := range sc.Steps {
		if s.Error == nil && s.CutAfter == 0 && s.Delay == 0 {
			steps = append(steps, s)
		}
	}
	for _, api := range []string{"anthropic", "responses", "chat"} {
		llm := New(t, WithScenario(Scenario{Steps: steps}))
		for range steps {
			switch api {
			case "anthropic":
				streamEvents(t, llm.URL()+"/v1/messages", claudeBody(true, userText("x")), anthropicHeaders...)
			case "responses":
				responsesItems(t, streamEvents(t, llm.OpenAIBaseURL()+"/responses", codexBody()))
			case "chat":
				collectChat(t, streamEvents(t, llm.OpenAIBaseURL()+"/chat/completions", opencodeBody(opencodeTools, map[string]any{"role": "user", "content": "x"})))
			}
		}
		if llm.Remaining() != 0 {
			t.Errorf("%s: %d steps left", api, llm.Remaining())
		}
	}
}

func TestStepHelpers(t *testing.T) {
	equal(t, "Thinking", Thinking("t", "x"), Step{Thinking: "t", Text: "x"})
	equal(t, "Write", Write("p", "c"), Step{Calls: []Call{{Do: ActWrite, Path: "p", Content: "c"}}})
	equal(t, "Read", Read("p"), Step{Calls: []Call{{Do: ActRead, Path: "p"}}})
	equal(t, "WithUsage", Text("x").WithUsage(1, 2).Usage, &Usage{InputTokens: 1, OutputTokens: 2})
	equal(t, "WithEventDelay", Text("x").WithEventDelay(time.Second).EventDelay, Duration(time.Second))
	equal(t, "Tool(nil)", Tool("X", nil).Calls[0].Input, json.RawMessage(`{}`))

	base := Error(503, "down")
	in := base.InStream()
	if !in.Error.InStream || base.Error.InStream {
		t.Error("InStream must copy the error")
	}
	if Text("x").InStream().Error != nil {
		t.Error("InStream without an error")
	}

	llm := New(t)
	llm.SetSteps(Text("usage").WithUsage(7, 3), Step{Text: "half", Error: &APIError{Status: 503}}.InStream())
	events := streamEvents(t, llm.URL()+"/v1/messages", claudeBody(true, userText("x")), anthropicHeaders...)
	equal(t, "usage", asMap(asMap(events[0].JSON["message"])["usage"])["input_tokens"], 7)
	equal(t, "output usage", asMap(events[len(events)-2].JSON["usage"])["output_tokens"], 3)
	events = streamEvents(t, llm.URL()+"/v1/messages", claudeBody(true, userText("x")), anthropicHeaders...)
	equal(t, "503 in stream", asMap(events[len(events)-1].JSON["error"])["type"], "api_error")
}
