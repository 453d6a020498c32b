package fakellm

import (
	"strings"
	"testing"
)

// Claude Code 2.1.332 offers ExitPlanMode only as a deferred tool without a
// plan argument and reads the plan from the file its plan-mode reminder
// names; a bare ExitPlanMode{plan} reached can_use_tool with input {} (seen
// in the e2e suite). The portable step must write that file first.
func TestExitPlanModeWritesClaudePlanFile(t *testing.T) {
	const planFile = "/home/u/.claude/plans/plan-the-work-witty-koala.md"
	deferred := []any{}
	for _, tool := range claudeTools {
		if name := asMap(tool)["name"]; name != "ExitPlanMode" {
			deferred = append(deferred, tool)
		}
	}
	body := claudeBody(false, userText("<system-reminder>Plan mode is active.\n## Plan File Info:\nNo plan file exists yet. You should create your plan at "+
		planFile+" using the Write tool.</system-reminder>\nPlan it."))
	body["tools"] = deferred

	for _, tc := range []struct {
		name string
		body map[string]any
		want []map[string]any
	}{
		{"plan file named", body, []map[string]any{
			{"type": "tool_use", "name": "Write", "input": map[string]any{"file_path": planFile, "content": "1. win\n"}},
			{"type": "tool_use", "id": "toolu_exit", "name": "ExitPlanMode", "input": map[string]any{"plan": "1. win"}},
		}},
		// 2.1.197 offered ExitPlanMode{plan} and named no plan file.
		{"plan argument", claudeBody(false, userText("Plan it.")), []map[string]any{
			{"type": "tool_use", "id": "toolu_exit", "name": "ExitPlanMode", "input": map[string]any{"plan": "1. win"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			llm := New(t)
			llm.SetSteps(Calls(Call{Do: ActExitPlan, Plan: "1. win", ID: "toolu_exit"}))
			m := decode(t, post(t, llm.URL()+"/v1/messages", tc.body, anthropicHeaders...))
			content := asSlice(m["content"])
			if len(content) != len(tc.want) {
				t.Fatalf("content %v", content)
			}
			for i, w := range tc.want {
				got := asMap(content[i])
				if w["id"] == nil {
					if !strings.HasPrefix(str(got["id"]), "toolu_") {
						t.Errorf("call %d id %v", i, got["id"])
					}
					delete(got, "id")
				}
				equal(t, "tool", got, w)
			}
		})
	}
}

// The plan file is an Anthropic (Claude Code) convention: an OpenCode
// request that happens to quote such a sentence still gets one call.
func TestExitPlanModeOtherAPIsIgnorePlanFile(t *testing.T) {
	llm := New(t)
	llm.SetSteps(ExitPlanMode("1. win"))
	body := map[string]any{"model": "fake-model", "stream": false, "tools": opencodeTools, "messages": []any{
		map[string]any{"role": "user", "content": "You should create your plan at /tmp/p.md using the Write tool."},
	}}
	m := decode(t, post(t, llm.OpenAIBaseURL()+"/chat/completions", body))
	calls := asSlice(asMap(asMap(asSlice(m["choices"])[0])["message"])["tool_calls"])
	if len(calls) != 1 || asMap(asMap(calls[0])["function"])["name"] != "plan_exit" {
		t.Fatalf("tool calls %v", calls)
	}
}
