package claude

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// feed runs the fixture's lines up to and including line n (1-based).
func feed(t *testing.T, fixture string, n int) *Converter {
	t.Helper()
	c := NewConverter()
	for _, l := range readLines(t, "testdata/"+fixture)[:n] {
		c.Line(l)
	}
	return c
}

// feedTo runs the fixture's lines up to and including the n-th (from 1)
// can_use_tool request for tool, and returns the converter and that
// request's id.
func feedTo(t *testing.T, fixture, tool string, n int) (*Converter, string) {
	t.Helper()
	c := NewConverter()
	for _, l := range readLines(t, "testdata/"+fixture) {
		c.Line(l)
		var v struct {
			Type      string `json:"type"`
			RequestID string `json:"request_id"`
			Request   struct {
				Subtype  string `json:"subtype"`
				ToolName string `json:"tool_name"`
			} `json:"request"`
		}
		if json.Unmarshal(l, &v) == nil && v.Type == "control_request" && v.Request.Subtype == "can_use_tool" && v.Request.ToolName == tool {
			if n--; n == 0 {
				return c, v.RequestID
			}
		}
	}
	t.Fatalf("%s has no can_use_tool request for %s", fixture, tool)
	return nil, ""
}

// response decodes a control_response line's inner response.
func response(t *testing.T, line []byte) (requestID string, resp map[string]any) {
	t.Helper()
	var v struct {
		Type     string `json:"type"`
		Response struct {
			Subtype   string         `json:"subtype"`
			RequestID string         `json:"request_id"`
			Response  map[string]any `json:"response"`
		} `json:"response"`
	}
	if err := json.Unmarshal(line, &v); err != nil {
		t.Fatal(err)
	}
	if v.Type != "control_response" || v.Response.Subtype != "success" {
		t.Fatalf("not a success control_response: %s", line)
	}
	return v.Response.RequestID, v.Response.Response
}

func TestPermissionAlwaysScopesSuggestionsToSession(t *testing.T) {
	c := feed(t, "claude-bash-permission.stdout.jsonl", 4)
	line, err := c.AnswerPermission("b078970f-a6fd-4d8b-a2d5-56feae6916d0", schema.ReplyAlways)
	if err != nil {
		t.Fatal(err)
	}
	_, resp := response(t, line)
	want := []any{
		map[string]any{"type": "addRules", "rules": []any{map[string]any{"toolName": "Bash", "ruleContent": "touch made-by-bash.txt && echo made"}}, "behavior": "allow", "destination": "session"},
		map[string]any{"type": "addDirectories", "directories": []any{"/lab/work-claude"}, "destination": "session"},
	}
	if resp["behavior"] != "allow" {
		t.Errorf("behavior = %v", resp["behavior"])
	}
	if diff := cmp.Diff(want, resp["updatedPermissions"]); diff != "" {
		t.Errorf("updatedPermissions (-want +got):\n%s", diff)
	}
	if _, err := c.AnswerPermission("b078970f-a6fd-4d8b-a2d5-56feae6916d0", schema.ReplyOnce); !errors.Is(err, agent.ErrInvalidRequest) {
		t.Errorf("second answer: err = %v, want invalid request", err)
	}
}

func TestPermissionAlwaysWithoutSuggestions(t *testing.T) {
	got := sessionRules("Write", json.RawMessage(`[{"type":"setMode","mode":"acceptEdits","destination":"session"}]`))
	want := `{"behavior":"allow","destination":"session","rules":[{"toolName":"Write"}],"type":"addRules"}`
	if len(got) != 1 || string(got[0]) != want {
		t.Errorf("rules = %s, want [%s]", got, want)
	}
}

func TestPermissionReject(t *testing.T) {
	c, req := feedTo(t, "claude-questions.stdout.jsonl", "Write", 1)
	line, err := c.AnswerPermission(req, schema.ReplyReject)
	if err != nil {
		t.Fatal(err)
	}
	id, resp := response(t, line)
	if id != req || resp["behavior"] != "deny" || resp["message"] == "" {
		t.Errorf("reject = %s", line)
	}
}

// Two questions of one AskUserQuestion call (the second multi-select), as
// the real CLI asked them: the reply goes out once both are answered,
// answers keyed by question text.
func TestQuestionsAnsweredTogether(t *testing.T) {
	c, req := feedTo(t, "claude-questions.stdout.jsonl", "AskUserQuestion", 1)
	if _, err := c.AnswerPermission(req, schema.ReplyOnce); err == nil {
		t.Error("a question request accepted a permission reply")
	}
	line, err := c.AnswerQuestion(QuestionID(req, 1), []string{"S", "L"}, false)
	if err != nil || line != nil {
		t.Fatalf("first answer: line %s, err %v; want nothing yet", line, err)
	}
	line, err = c.AnswerQuestion(QuestionID(req, 0), []string{"Blue"}, false)
	if err != nil || line == nil {
		t.Fatalf("second answer: line %s, err %v", line, err)
	}
	_, resp := response(t, line)
	in := resp["updatedInput"].(map[string]any)
	want := map[string]any{"Which color should we use?": "Blue", "Which sizes should we make?": "S, L"}
	if diff := cmp.Diff(want, in["answers"]); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if len(in["questions"].([]any)) != 2 {
		t.Errorf("questions not kept: %v", in)
	}
	if _, err := c.AnswerQuestion(QuestionID(req, 0), []string{"Red"}, false); err == nil {
		t.Error("answered a settled request")
	}
}

func TestQuestionRejectDenies(t *testing.T) {
	c, req := feedTo(t, "claude-questions.stdout.jsonl", "AskUserQuestion", 1)
	line, err := c.AnswerQuestion(QuestionID(req, 1), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, resp := response(t, line); resp["behavior"] != "deny" {
		t.Errorf("reject = %s", line)
	}
	if _, ok := c.Pending(req); ok {
		t.Error("rejected request still pending")
	}
}

func TestExitPlanMode(t *testing.T) {
	cases := []struct {
		name     string
		answer   []string
		reject   bool
		behavior string
		message  string
	}{
		{"approve", []string{"approve"}, false, "allow", ""},
		{"reject option", []string{"reject"}, false, "deny", "The user rejected the plan. Stay in plan mode and revise it."},
		{"rejected", nil, true, "deny", "The user rejected the plan. Stay in plan mode and revise it."},
		{"feedback", []string{"Use a shell script instead"}, false, "deny", "The user rejected the plan: Use a shell script instead"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, req := feedTo(t, "claude-plan-reject.stdout.jsonl", "ExitPlanMode", 1)
			c.PlanExitMode = "acceptEdits"
			line, err := c.AnswerQuestion(QuestionID(req, 0), tc.answer, tc.reject)
			if err != nil {
				t.Fatal(err)
			}
			_, resp := response(t, line)
			if resp["behavior"] != tc.behavior {
				t.Fatalf("behavior = %v: %s", resp["behavior"], line)
			}
			if tc.behavior == "deny" {
				if resp["message"] != tc.message {
					t.Errorf("message = %q", resp["message"])
				}
				return
			}
			want := []any{map[string]any{"type": "setMode", "mode": "acceptEdits", "destination": "session"}}
			if diff := cmp.Diff(want, resp["updatedPermissions"]); diff != "" {
				t.Errorf("updatedPermissions (-want +got):\n%s", diff)
			}
			if resp["updatedInput"].(map[string]any)["plan"] == nil {
				t.Errorf("plan not kept: %s", line)
			}
		})
	}
}

func TestQuestionRequestsAreNotPermissions(t *testing.T) {
	for _, f := range []string{"claude-askuserquestion.stdout.jsonl", "claude-plan-accept.stdout.jsonl", "claude-plan-reject.stdout.jsonl", "claude-questions.stdout.jsonl"} {
		for _, e := range convertFixture(t, "testdata/"+f) {
			if p, ok := e.Data.(*schema.PermissionEventData); ok && (p.Action == "AskUserQuestion" || p.Action == "ExitPlanMode") {
				t.Errorf("%s: %s surfaced as a permission", f, p.Action)
			}
		}
	}
}

func TestCancelledRequestIsGone(t *testing.T) {
	c := feed(t, "claude-bash-permission.stdout.jsonl", 4)
	ds := c.Line([]byte(`{"type":"control_cancel_request","request_id":"b078970f-a6fd-4d8b-a2d5-56feae6916d0"}`))
	if len(ds) != 1 || ds[0].Type != schema.EventPermissionResolved {
		t.Fatalf("drafts %+v, want one permission.resolved", ds)
	}
	if p := ds[0].Data.(*schema.PermissionEventData); p.Status != schema.PermissionReject || p.Action != "Bash" || len(p.Metadata) == 0 {
		t.Errorf("resolved %+v, want Bash rejected with its metadata", p)
	}
	if _, err := c.AnswerPermission("b078970f-a6fd-4d8b-a2d5-56feae6916d0", schema.ReplyOnce); err == nil {
		t.Error("answered a withdrawn request")
	}
	if ds := c.Line([]byte(`{"type":"control_cancel_request","request_id":"b078970f-a6fd-4d8b-a2d5-56feae6916d0"}`)); len(ds) != 0 {
		t.Errorf("a second cancel gave %+v", ds)
	}
}

// A withdrawn AskUserQuestion resolves the questions not answered yet.
func TestCancelledQuestionsResolveOnce(t *testing.T) {
	c, req := feedTo(t, "claude-questions.stdout.jsonl", "AskUserQuestion", 1)
	if line, err := c.AnswerQuestion(QuestionID(req, 0), []string{"Red"}, false); err != nil || line != nil {
		t.Fatalf("first answer: %s, %v", line, err)
	}
	ds := c.Line([]byte(`{"type":"control_cancel_request","request_id":"` + req + `"}`))
	if len(ds) != 1 || ds[0].Type != schema.EventQuestionResolved {
		t.Fatalf("drafts %+v, want one question.resolved", ds)
	}
	if q := ds[0].Data.(*schema.QuestionEventData); q.QuestionID != QuestionID(req, 1) || q.Status != schema.QuestionRejected {
		t.Errorf("resolved %+v, want question 1 rejected", q)
	}
}

func TestUnsupportedControlRequestIsRefused(t *testing.T) {
	c := NewConverter()
	ds := c.Line([]byte(`{"type":"control_request","request_id":"cli-1","request":{"subtype":"mcp_message","server_name":"x","message":{}}}`))
	if len(ds) != 1 || ds[0].Type != schema.EventAgentUnparsed {
		t.Fatalf("drafts = %+v", ds)
	}
	if got := c.Unanswered(); len(got) != 1 || got[0] != "cli-1" {
		t.Errorf("Unanswered = %v", got)
	}
	if got := c.Unanswered(); len(got) != 0 {
		t.Errorf("Unanswered again = %v", got)
	}
	var v map[string]any
	if err := json.Unmarshal(ErrorResponseLine("cli-1", "unsupported"), &v); err != nil {
		t.Fatal(err)
	}
	if v["response"].(map[string]any)["subtype"] != "error" {
		t.Errorf("error response = %v", v)
	}
}
