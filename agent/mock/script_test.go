package mock

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

var user = []string{"item.started mock_1_user", "item.completed mock_1_user"}

func seq(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func msg(id string) []string { return []string{"item.started " + id, "item.completed " + id} }

var (
	toolSigs = seq(msg("mock_1_tool_call"), msg("mock_1_tool_result"))
	richSigs = []string{"item.started mock_1_assistant_rich", "item.delta mock_1_assistant_rich",
		"item.delta mock_1_assistant_rich", "item.completed mock_1_assistant_rich"}
	markdownSigs = seq([]string{"item.started mock_1_markdown"},
		slices.Repeat([]string{"item.delta mock_1_markdown"}, 8),
		[]string{"item.completed mock_1_markdown"})
	permissionsSigs = []string{"permission.requested mock_1_permission", "permission.requested mock_1_permission_denied"}
	questionsSigs   = []string{"question.requested mock_1_question", "question.requested mock_1_question_reject"}
	errorSigs       = []string{"error", "agent.unparsed"}
	ended           = []string{"turn.ended"}
)

// TestScripts checks the draft sequence of every prompt and command.
func TestScripts(t *testing.T) {
	tests := []struct {
		text  string
		want  []string
		await bool // the turn stops on requests
	}{
		{text: "Reply with exactly the single word OK.", want: seq(user, msg("mock_1_ok"), ended)},
		{text: "  reply with exactly the single word ok.  ", want: seq(user, msg("mock_1_ok"), ended)},
		{text: "Reply with exactly the word FIRST.", want: seq(user, msg("mock_1_first"), ended)},
		{text: "Reply with exactly the word SECOND.", want: seq(user, msg("mock_1_second"), ended)},
		{text: "Answer briefly and include your reasoning.", want: seq(user, richSigs, ended)},
		{text: "Provide a short status update.", want: seq(user, msg("mock_1_status"), ended)},
		{text: "List files in the current directory using available tools.", await: true,
			want: seq(user, []string{"permission.requested mock_1_permission"})},
		{text: "Use the bash tool to run `ls` in the current directory. Do not answer without using the tool.", await: true,
			want: seq(user, []string{"permission.requested mock_1_permission"})},
		{text: "Use the AskUserQuestion tool to ask exactly one yes/no question, then wait for a reply. Do not answer yourself.", await: true,
			want: seq(user, []string{"question.requested mock_1_question"})},
		{text: "Call the AskUserQuestion tool with exactly one yes/no question and wait for a reply. Do not answer yourself.", await: true,
			want: seq(user, []string{"question.requested mock_1_question"})},
		{text: "help", want: seq(user, msg("mock_1_help"), ended)},
		{text: "HELP me", want: seq(user, msg("mock_1_help"), ended)},
		{text: "markdown", want: seq(user, markdownSigs, ended)},
		{text: "tool", want: seq(user, toolSigs, ended)},
		{text: "tools", want: seq(user, toolSigs, ended)},
		{text: "tooling", want: seq(user, toolSigs, ended)},
		{text: "status", want: seq(user, msg("mock_1_status"), ended)},
		{text: "image", want: seq(user, msg("mock_1_image"), ended)},
		{text: "unknown", want: seq(user, msg("mock_1_unknown"), ended)},
		{text: "permission", want: seq(user, permissionsSigs), await: true},
		{text: "permissions", want: seq(user, permissionsSigs), await: true},
		{text: "question", want: seq(user, questionsSigs), await: true},
		{text: "questions", want: seq(user, questionsSigs), await: true},
		{text: "error", want: seq(user, errorSigs, ended)},
		{text: "unparsed", want: seq(user, []string{"agent.unparsed"}, ended)},
		{text: "end", want: seq(user, []string{"session.ended"})},
		{text: "ended", want: seq(user, []string{"session.ended"})},
		{text: "session.end", want: seq(user, []string{"session.ended"})},
		{text: "echo hello there", want: seq(user, msg("mock_1_echo"), ended)},
		{text: "say hi", want: seq(user, msg("mock_1_echo"), ended)},
		{text: "echo", want: seq(user, msg("mock_1_echo"), ended)},
		{text: "what is this?", want: seq(user, msg("mock_1_reply"), ended)},
		{text: "   ", want: seq(msg("mock_1_reply"), ended)},
		{text: "demo", want: seq(user,
			msg("mock_1_marker_system"), msg("mock_1_system"),
			msg("mock_1_marker_rich"), richSigs,
			msg("mock_1_marker_status"), msg("mock_1_status"),
			msg("mock_1_marker_markdown"), markdownSigs,
			msg("mock_1_marker_tool"), toolSigs,
			msg("mock_1_marker_image"), msg("mock_1_image"),
			msg("mock_1_marker_unknown"), msg("mock_1_unknown"),
			msg("mock_1_marker_permissions"), permissionsSigs), await: true},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			c, rec := session(t, -1)
			send(t, c, tt.text)
			if tt.await {
				waitAwaiting(t, c)
			} else {
				waitIdle(t, c)
			}
			ds := rec.all()
			if got := sig(ds[0]); got != "session.started" {
				t.Fatalf("first draft = %s, want session.started", got)
			}
			if diff := cmp.Diff(tt.want, sigs(ds[1:])); diff != "" {
				t.Errorf("drafts (-want +got):\n%s", diff)
			}
			for _, d := range ds {
				if d.NativeSessionID != "mock-s1" {
					t.Errorf("%s: native session id %q", sig(d), d.NativeSessionID)
				}
				wantSynthetic := d.Type == schema.EventTurnEnded || d.Type == schema.EventError ||
					d.Type == schema.EventAgentUnparsed || d.Type == schema.EventSessionEnded
				if d.Synthetic != wantSynthetic {
					t.Errorf("%s: synthetic = %v", sig(d), d.Synthetic)
				}
			}
		})
	}
}

// run sends text to a fresh session and returns its drafts once idle.
func run(t *testing.T, text string) []agent.Draft {
	t.Helper()
	c, rec := session(t, -1)
	send(t, c, text)
	waitIdle(t, c)
	return rec.all()
}

func TestUserItem(t *testing.T) {
	ds := run(t, "  hello  ")
	it := item(t, ds, "item.completed mock_1_user")
	want := agent.Message("mock_1_user", schema.RoleUser, schema.Text("  hello  "))
	want.Status = schema.StatusCompleted
	if diff := cmp.Diff(want, it); diff != "" {
		t.Error(diff)
	}
	if got := item(t, ds, "item.started mock_1_user").Status; got != schema.StatusInProgress {
		t.Errorf("started status = %s", got)
	}
}

func TestUserItemAttachments(t *testing.T) {
	c, rec := session(t, -1)
	err := c.Send(t.Context(), agent.Prompt{Text: "look", Attachments: []schema.MessageAttachment{
		{Path: "/tmp/a.png", MIME: schema.Ptr("image/png")}, {Path: "/tmp/b.txt"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, c)
	it := item(t, rec.all(), "item.completed mock_1_user")
	want := []schema.ContentPart{schema.Text("look"), schema.Image("/tmp/a.png", schema.Ptr("image/png")),
		schema.FileRef("/tmp/b.txt", schema.FileRead, nil)}
	if diff := cmp.Diff(want, it.Content); diff != "" {
		t.Error(diff)
	}
}

func TestEchoContent(t *testing.T) {
	for text, want := range map[string]string{
		"echo  hello there ":                     "hello there",
		"Say\thi":                                "hi",
		"Reply with exactly the single word OK.": "OK",
		"what is this?":                          "what is this?",
	} {
		ds := run(t, text)
		replies := 0
		for _, d := range ds {
			if d.Type == schema.EventItemCompleted && *d.Data.(*schema.ItemEventData).Item.Role == schema.RoleAssistant {
				replies++
				if got := d.Data.(*schema.ItemEventData).Item.Text(); got != want {
					t.Errorf("%q: reply %q, want %q", text, got, want)
				}
			}
		}
		if replies != 1 {
			t.Errorf("%q: %d assistant replies, want 1", text, replies)
		}
	}
	ds := run(t, "help")
	if txt := item(t, ds, "item.completed mock_1_help").Text(); !strings.Contains(txt, "demo") || !strings.Contains(txt, "permission") {
		t.Errorf("help text lacks commands: %q", txt)
	}
}

func TestRichContent(t *testing.T) {
	ds := run(t, "Answer briefly and include your reasoning.")
	it := item(t, ds, "item.completed mock_1_assistant_rich")
	if it.Kind != schema.KindMessage || *it.Role != schema.RoleAssistant || it.Status != schema.StatusCompleted {
		t.Errorf("item = %+v", it)
	}
	var types []schema.PartType
	for _, p := range it.Content {
		types = append(types, p.Type)
	}
	if diff := cmp.Diff([]schema.PartType{schema.PartText, schema.PartReasoning, schema.PartReasoning, schema.PartJSON}, types); diff != "" {
		t.Error(diff)
	}
	if it.Content[0].Text != "Mock assistant response with rich content." ||
		it.Content[1].Visibility != schema.VisibilityPublic || it.Content[2].Visibility != schema.VisibilityPrivate ||
		string(it.Content[3].JSON) != `{"stage":"analysis","ok":true}` {
		t.Errorf("content = %+v", it.Content)
	}
	var deltas []string
	for _, d := range ds {
		if dd, ok := d.Data.(*schema.ItemDeltaData); ok {
			deltas = append(deltas, dd.Delta)
			if dd.ItemID != "" {
				t.Errorf("delta carries item id %q", dd.ItemID)
			}
		}
	}
	if diff := cmp.Diff([]string{"Mock assistant ", "streaming delta."}, deltas); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff(it.Content, item(t, ds, "item.started mock_1_assistant_rich").Content); diff != "" {
		t.Errorf("started content differs: %s", diff)
	}
}

func TestStatusContent(t *testing.T) {
	ds := run(t, "status")
	st := item(t, ds, "item.started mock_1_status")
	done := item(t, ds, "item.completed mock_1_status")
	if st.Kind != schema.KindStatus || *st.Role != schema.RoleAssistant {
		t.Errorf("kind/role = %s/%s", st.Kind, *st.Role)
	}
	if diff := cmp.Diff([]schema.ContentPart{schema.Status("Indexing", schema.Ptr("2 files"))}, st.Content); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]schema.ContentPart{schema.Status("Indexing", schema.Ptr("Done"))}, done.Content); diff != "" {
		t.Error(diff)
	}
}

func TestMarkdownContent(t *testing.T) {
	ds := run(t, "markdown")
	full := ""
	n := 0
	for _, d := range ds {
		if dd, ok := d.Data.(*schema.ItemDeltaData); ok {
			full += dd.Delta
			n++
		}
	}
	if n != 8 {
		t.Errorf("%d deltas, want 8", n)
	}
	if got := item(t, ds, "item.completed mock_1_markdown").Text(); got != full || !strings.HasPrefix(got, "# ") {
		t.Errorf("completed text %q, deltas joined %q", got, full)
	}
	if got := item(t, ds, "item.started mock_1_markdown").Text(); got == full || got == "" {
		t.Errorf("started text should be a placeholder, got %q", got)
	}
}

func TestToolContent(t *testing.T) {
	ds := run(t, "tool")
	call := item(t, ds, "item.completed mock_1_tool_call")
	if call.Kind != schema.KindToolCall || *call.Role != schema.RoleAssistant || call.Status != schema.StatusCompleted {
		t.Errorf("call = %+v", call)
	}
	if diff := cmp.Diff([]schema.ContentPart{schema.ToolCall("mock.search", `{"query":"example"}`, "mock_1_call")}, call.Content); diff != "" {
		t.Error(diff)
	}
	res := item(t, ds, "item.completed mock_1_tool_result")
	if res.Kind != schema.KindToolResult || *res.Role != schema.RoleTool || res.Status != schema.StatusFailed {
		t.Errorf("result = %+v", res)
	}
	want := []schema.ContentPart{
		schema.ToolResult("mock_1_call", "mock search results"),
		schema.FileRef("mock_1/readme.md", schema.FileRead, nil),
		schema.FileRef("mock_1/output.txt", schema.FileWrite, schema.Ptr("+mock output\n")),
		schema.FileRef("mock_1/patch.txt", schema.FilePatch, schema.Ptr("@@ -1,1 +1,1 @@\n-old\n+new\n")),
	}
	if diff := cmp.Diff(want, res.Content); diff != "" {
		t.Error(diff)
	}
	if st := item(t, ds, "item.started mock_1_tool_result"); st.Status != schema.StatusInProgress || len(st.Content) != 4 {
		t.Errorf("started result = %+v", st)
	}
}

func TestImageSystemUnknownContent(t *testing.T) {
	ds := run(t, "image")
	img := item(t, ds, "item.completed mock_1_image")
	if len(img.Content) != 2 || img.Content[0].Type != schema.PartText ||
		cmp.Diff(schema.Image("mock_1/image.png", schema.Ptr("image/png")), img.Content[1]) != "" {
		t.Errorf("image content = %+v", img.Content)
	}
	ds = run(t, "unknown")
	if u := item(t, ds, "item.completed mock_1_unknown"); u.Kind != schema.KindUnknown || *u.Role != schema.RoleAssistant || u.Text() == "" {
		t.Errorf("unknown = %+v", u)
	}
	c, rec := session(t, -1)
	send(t, c, "demo")
	waitAwaiting(t, c)
	ds = rec.all()
	if s := item(t, ds, "item.completed mock_1_system"); s.Kind != schema.KindSystem || *s.Role != schema.RoleSystem || s.Text() == "" {
		t.Errorf("system = %+v", s)
	}
}

func TestRequestsContent(t *testing.T) {
	c, rec := session(t, -1)
	send(t, c, "permissions")
	waitAwaiting(t, c)
	var got []schema.PermissionEventData
	for _, d := range rec.all() {
		if p, ok := d.Data.(*schema.PermissionEventData); ok {
			got = append(got, *p)
		}
	}
	want := []schema.PermissionEventData{
		{PermissionID: "mock_1_permission", Action: "command_execution", Status: schema.PermissionRequested,
			Metadata: json.RawMessage(`{"codexRequestKind":"commandExecution","command":"echo mock"}`)},
		{PermissionID: "mock_1_permission_denied", Action: "file_change", Status: schema.PermissionRequested,
			Metadata: json.RawMessage(`{"codexRequestKind":"fileChange","path":"mock_1/deny.txt"}`)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}

	c, rec = session(t, -1)
	send(t, c, "List files in the current directory using available tools.")
	waitAwaiting(t, c)
	p := rec.all()[3].Data.(*schema.PermissionEventData)
	if p.Action != "command_execution" || string(p.Metadata) != `{"codexRequestKind":"commandExecution","command":"ls"}` {
		t.Errorf("single permission = %+v", p)
	}

	c, rec = session(t, -1)
	send(t, c, "questions")
	waitAwaiting(t, c)
	var qs []schema.QuestionEventData
	for _, d := range rec.all() {
		if q, ok := d.Data.(*schema.QuestionEventData); ok {
			qs = append(qs, *q)
		}
	}
	wantQ := []schema.QuestionEventData{
		{QuestionID: "mock_1_question", Prompt: "Choose a color", Options: []string{"Red", "Blue"}, Status: schema.QuestionRequested},
		{QuestionID: "mock_1_question_reject", Prompt: "Allow mock experiment?", Options: []string{"Yes", "No"}, Status: schema.QuestionRequested},
	}
	if diff := cmp.Diff(wantQ, qs); diff != "" {
		t.Error(diff)
	}

	c, rec = session(t, -1)
	send(t, c, "Use the AskUserQuestion tool to ask exactly one yes/no question, then wait for a reply. Do not answer yourself.")
	waitAwaiting(t, c)
	q := rec.all()[3].Data.(*schema.QuestionEventData)
	if diff := cmp.Diff(&schema.QuestionEventData{QuestionID: "mock_1_question", Prompt: "Proceed?",
		Options: []string{"Yes", "No"}, Status: schema.QuestionRequested}, q); diff != "" {
		t.Error(diff)
	}
}

func TestErrorAndEndContent(t *testing.T) {
	ds := run(t, "error")
	e := ds[3].Data.(*schema.ErrorData)
	if e.Message != "Mock error event." || schema.Deref(e.Code) != "mock_error" || string(e.Details) != `{"mock":true}` {
		t.Errorf("error = %+v", e)
	}
	u := ds[4]
	ud := u.Data.(*schema.AgentUnparsedData)
	if ud.Location != "mock.stream" || ud.Error != "unsupported payload" || string(u.Raw) != `{"raw":"mock"}` || !u.Synthetic {
		t.Errorf("unparsed = %+v raw %s", ud, u.Raw)
	}

	ds = run(t, "end")
	se := ds[3].Data.(*schema.SessionEndedData)
	if se.Reason != schema.EndCompleted || se.TerminatedBy != schema.ByAgent || se.Message != nil || se.ExitCode != nil {
		t.Errorf("session.ended = %+v", se)
	}
}
