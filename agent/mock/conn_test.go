package mock

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

func TestAdapterInfo(t *testing.T) {
	a := New(Options{})
	info := a.Info()
	if info.ID != "mock" || info.Name != "Mock" || info.NativeTurns || len(info.CredentialProviders) != 0 {
		t.Errorf("info = %+v", info)
	}
	caps := info.Capabilities
	if caps.SharedProcess || !caps.PlanMode || !caps.Permissions || !caps.Questions || !caps.ItemStarted ||
		!caps.StreamingDeltas || !caps.Reasoning || !caps.Images || !caps.FileChanges || !caps.McpTools {
		t.Errorf("capabilities = %+v", caps)
	}
	st, err := a.Status(t.Context())
	if err != nil || !st.Installed || st.Version != "builtin" {
		t.Errorf("status = %+v, %v", st, err)
	}
	modes, _ := a.Modes(t.Context())
	if diff := cmp.Diff([]agent.Mode{
		{ID: "build", Name: "Build", Description: "Mock agent for UI testing"},
		{ID: "plan", Name: "Plan", Description: "Plan-only mock mode"},
	}, modes); diff != "" {
		t.Error(diff)
	}
	models, _ := a.Models(t.Context())
	if diff := cmp.Diff(agent.ModelList{Models: []schema.AgentModelInfo{{ID: "mock", Name: schema.Ptr("Mock")}},
		DefaultModel: schema.Ptr("mock")}, models); diff != "" {
		t.Error(diff)
	}
	if a.interval != DefaultInterval || New(Options{Interval: -1}).interval != 0 || New(Options{Interval: time.Second}).interval != time.Second {
		t.Error("interval defaults")
	}
}

func TestOpen(t *testing.T) {
	a := New(Options{Interval: -1})
	for _, mode := range []string{"", "build", "plan"} {
		rec := &recorder{}
		c, err := a.Open(t.Context(), agent.Spec{SessionID: "abc", AgentMode: mode}, rec)
		if err != nil {
			t.Fatalf("mode %q: %v", mode, err)
		}
		ds := rec.all()
		if len(ds) != 1 || ds[0].Type != schema.EventSessionStarted || ds[0].NativeSessionID != "mock-abc" || ds[0].Synthetic ||
			string(ds[0].Data.(*schema.SessionStartedData).Metadata) != `{"mock":true}` {
			t.Errorf("open drafts = %+v", ds)
		}
		if err := c.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{}
	_, err := a.Open(t.Context(), agent.Spec{SessionID: "abc", AgentMode: "code"}, rec)
	if !errors.Is(err, agent.ErrModeUnsupported) {
		t.Errorf("mode code: err = %v", err)
	}
	if len(rec.all()) != 0 {
		t.Error("refused open emitted drafts")
	}
}

func reply(kind agent.ReplyKind, id string) agent.Reply { return agent.Reply{Kind: kind, ID: id} }

func permReply(id string, r schema.PermissionReply) agent.Reply {
	x := reply(agent.ReplyPermission, id)
	x.Permission = r
	return x
}

func TestAnswerPermissionApproved(t *testing.T) {
	for _, r := range []schema.PermissionReply{schema.ReplyOnce, schema.ReplyAlways} {
		c, rec := session(t, -1)
		send(t, c, "Use the bash tool to run `ls` in the current directory. Do not answer without using the tool.")
		waitAwaiting(t, c)
		if err := c.Answer(t.Context(), permReply("mock_1_permission", r)); err != nil {
			t.Fatal(err)
		}
		ds := rec.turnsEnded(t, 1)
		rest := after(ds, "permission.requested mock_1_permission")
		if diff := cmp.Diff(seq(toolSigs, ended), sigs(rest)); diff != "" {
			t.Errorf("follow-up (-want +got):\n%s", diff)
		}
		call := item(t, ds, "item.completed mock_1_tool_call")
		if diff := cmp.Diff([]schema.ContentPart{schema.ToolCall("bash", `{"command":"ls"}`, "mock_1_call")}, call.Content); diff != "" {
			t.Error(diff)
		}
		res := item(t, ds, "item.completed mock_1_tool_result")
		if res.Status != schema.StatusCompleted || res.Content[0].Output != lsListing || res.Content[0].CallID != "mock_1_call" {
			t.Errorf("result = %+v", res)
		}
	}
}

func TestAnswerPermissionRejected(t *testing.T) {
	c, rec := session(t, -1)
	send(t, c, "List files in the current directory using available tools.")
	waitAwaiting(t, c)
	if err := c.Answer(t.Context(), permReply("mock_1_permission", schema.ReplyReject)); err != nil {
		t.Fatal(err)
	}
	ds := rec.turnsEnded(t, 1)
	if diff := cmp.Diff(seq(msg("mock_1_denied"), ended), sigs(after(ds, "permission.requested mock_1_permission"))); diff != "" {
		t.Error(diff)
	}
	if txt := item(t, ds, "item.completed mock_1_denied").Text(); txt != "Permission denied: `ls` was not run." {
		t.Errorf("denied text %q", txt)
	}
}

func TestAnswerPermissionsWaitsForAll(t *testing.T) {
	c, rec := session(t, -1)
	send(t, c, "permissions")
	waitAwaiting(t, c)
	if err := c.Answer(t.Context(), permReply("mock_1_permission_denied", schema.ReplyReject)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if n := len(after(rec.all(), "permission.requested mock_1_permission_denied")); n != 0 {
		t.Fatalf("turn went on after one of two answers (%d drafts)", n)
	}
	if err := c.Answer(t.Context(), permReply("mock_1_permission", schema.ReplyOnce)); err != nil {
		t.Fatal(err)
	}
	ds := rec.turnsEnded(t, 1)
	if diff := cmp.Diff(seq(msg("mock_1_permission_result"), ended), sigs(after(ds, "permission.requested mock_1_permission_denied"))); diff != "" {
		t.Error(diff)
	}
	want := "Run `echo mock`: allowed once\nWrite mock_1/deny.txt: rejected"
	if txt := item(t, ds, "item.completed mock_1_permission_result").Text(); txt != want {
		t.Errorf("result text %q, want %q", txt, want)
	}
}

func TestAnswerQuestions(t *testing.T) {
	c, rec := session(t, -1)
	send(t, c, "Call the AskUserQuestion tool with exactly one yes/no question and wait for a reply. Do not answer yourself.")
	waitAwaiting(t, c)
	q := rec.all()[3].Data.(*schema.QuestionEventData)
	if err := c.Answer(t.Context(), agent.Reply{Kind: agent.ReplyQuestion, ID: "mock_1_question", Answers: [][]string{{"Yes"}}, QuestionRequest: q}); err != nil {
		t.Fatal(err)
	}
	ds := rec.turnsEnded(t, 1)
	if diff := cmp.Diff(seq(msg("mock_1_answer"), ended), sigs(after(ds, "question.requested mock_1_question"))); diff != "" {
		t.Error(diff)
	}
	if txt := item(t, ds, "item.completed mock_1_answer").Text(); txt != "Proceed? You answered: Yes." {
		t.Errorf("answer text %q", txt)
	}

	c, rec = session(t, -1)
	send(t, c, "questions")
	waitAwaiting(t, c)
	_ = c.Answer(t.Context(), agent.Reply{Kind: agent.ReplyQuestion, ID: "mock_1_question", Answers: [][]string{{"Blue"}},
		QuestionRequest: &schema.QuestionEventData{Prompt: "Choose a color"}})
	_ = c.Answer(t.Context(), agent.Reply{Kind: agent.ReplyQuestion, ID: "mock_1_question_reject", Reject: true,
		QuestionRequest: &schema.QuestionEventData{Prompt: "Allow mock experiment?"}})
	ds = rec.turnsEnded(t, 1)
	want := "Choose a color You answered: Blue.\nAllow mock experiment? You rejected the question."
	if txt := item(t, ds, "item.completed mock_1_answer").Text(); txt != want {
		t.Errorf("answer text %q, want %q", txt, want)
	}
}

func TestAnswerUnknownIgnored(t *testing.T) {
	c, rec := session(t, -1)
	if err := c.Answer(t.Context(), permReply("nope", schema.ReplyOnce)); err != nil {
		t.Errorf("idle answer: %v", err)
	}
	send(t, c, "permission")
	waitAwaiting(t, c)
	if err := c.Answer(t.Context(), permReply("nope", schema.ReplyOnce)); err != nil {
		t.Errorf("unknown answer: %v", err)
	}
	time.Sleep(10 * time.Millisecond)
	if count(rec.all(), "turn.ended") != 0 {
		t.Error("unknown answer ended the turn")
	}
}

// TestDemoWaitsForAnswers (issue 8, bug 10): the demo stops at its
// permission requests and then at its questions, like a real agent; the
// turn ends only after every request was answered, and the answers count.
func TestDemoWaitsForAnswers(t *testing.T) {
	c, rec := session(t, -1)
	send(t, c, "demo")
	waitAwaiting(t, c)
	time.Sleep(10 * time.Millisecond)
	if ds := rec.all(); count(ds, "turn.ended") != 0 || count(ds, "question.requested mock_1_question") != 0 {
		t.Fatalf("the demo went on without answers:\n%s", sigs(ds))
	}
	for _, r := range []agent.Reply{permReply("mock_1_permission", schema.ReplyAlways), permReply("mock_1_permission_denied", schema.ReplyReject)} {
		if err := c.Answer(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	rec.waitFor(t, "the questions", func(ds []agent.Draft) bool { return count(ds, "question.requested mock_1_question_reject") == 1 })
	time.Sleep(10 * time.Millisecond)
	if count(rec.all(), "turn.ended") != 0 {
		t.Fatal("the demo ended its turn with questions pending")
	}
	q := reply(agent.ReplyQuestion, "mock_1_question")
	q.Answers = [][]string{{"Yes"}}
	rejected := reply(agent.ReplyQuestion, "mock_1_question_reject")
	rejected.Reject = true
	for _, r := range []agent.Reply{q, rejected} {
		if err := c.Answer(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	ds := rec.turnsEnded(t, 1)
	perms := item(t, ds, "item.completed mock_1_permission_result").Text()
	if !strings.Contains(perms, "`echo mock`: allowed for the session") || !strings.Contains(perms, "deny.txt: rejected") {
		t.Errorf("permission result = %q", perms)
	}
	if answers := item(t, ds, "item.completed mock_1_answer").Text(); !strings.Contains(answers, "You answered: Yes.") || !strings.Contains(answers, "You rejected the question.") {
		t.Errorf("answers = %q", answers)
	}
	rest := after(ds, "question.requested mock_1_question_reject")
	if count(rest, "error") != 1 || count(rest, "agent.unparsed") != 1 || sig(rest[len(rest)-1]) != "turn.ended" {
		t.Errorf("after the questions:\n%s", sigs(rest))
	}
}

func TestQueueAndCounter(t *testing.T) {
	c, rec := session(t, time.Millisecond)
	send(t, c, "Reply with exactly the word FIRST.")
	send(t, c, "Reply with exactly the word SECOND.")
	send(t, c, "end")
	send(t, c, "Reply with exactly the single word OK.")
	ds := rec.turnsEnded(t, 3)
	want := seq(
		[]string{"session.started"}, user, msg("mock_1_first"), ended,
		[]string{"item.started mock_2_user", "item.completed mock_2_user"}, msg("mock_2_second"), ended,
		[]string{"item.started mock_3_user", "item.completed mock_3_user", "session.ended"},
		[]string{"item.started mock_4_user", "item.completed mock_4_user"}, msg("mock_4_ok"), ended,
	)
	if diff := cmp.Diff(want, sigs(ds)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The counter is per session.
	c2, rec2 := session(t, -1)
	send(t, c2, "Reply with exactly the single word OK.")
	waitIdle(t, c2)
	if count(rec2.all(), "item.completed mock_1_ok") != 1 {
		t.Errorf("second session: %v", sigs(rec2.all()))
	}
}

// TestQueueWaitsForAnswers: a turn stopped on a request holds later
// messages until it is answered.
func TestQueueWaitsForAnswers(t *testing.T) {
	c, rec := session(t, -1)
	send(t, c, "List files in the current directory using available tools.")
	send(t, c, "Reply with exactly the single word OK.")
	waitAwaiting(t, c)
	time.Sleep(10 * time.Millisecond)
	if count(rec.all(), "item.started mock_2_user") != 0 {
		t.Fatal("queued message ran while the turn awaited an answer")
	}
	_ = c.Answer(t.Context(), permReply("mock_1_permission", schema.ReplyOnce))
	ds := rec.turnsEnded(t, 2)
	if diff := cmp.Diff(seq(toolSigs, ended, []string{"item.started mock_2_user", "item.completed mock_2_user"}, msg("mock_2_ok"), ended),
		sigs(after(ds, "permission.requested mock_1_permission"))); diff != "" {
		t.Error(diff)
	}
}

func TestInterruptRunning(t *testing.T) {
	c, rec := session(t, 50*time.Millisecond)
	send(t, c, "markdown")
	send(t, c, "Reply with exactly the single word OK.")
	rec.waitFor(t, "markdown started", func(ds []agent.Draft) bool { return count(ds, "item.started mock_1_markdown") == 1 })
	if err := c.Interrupt(t.Context()); err != nil {
		t.Fatal(err)
	}
	ds := rec.all()
	if count(ds, "turn.ended") != 1 {
		t.Fatalf("interrupt returned before turn.ended: %v", sigs(ds))
	}
	failed := item(t, ds, "item.completed mock_1_markdown")
	if failed.Status != schema.StatusFailed {
		t.Errorf("open item completed as %s, want failed", failed.Status)
	}
	// The queued message still runs; nothing more of the first turn.
	ds = rec.turnsEnded(t, 2)
	rest := after(ds, "item.completed mock_1_markdown")
	if diff := cmp.Diff(seq(ended, []string{"item.started mock_2_user", "item.completed mock_2_user"}, msg("mock_2_ok"), ended), sigs(rest)); diff != "" {
		t.Error(diff)
	}
	// Interrupting an idle session does nothing.
	waitIdle(t, c)
	n := len(rec.all())
	if err := c.Interrupt(t.Context()); err != nil || len(rec.all()) != n {
		t.Errorf("idle interrupt: %v, %d new drafts", err, len(rec.all())-n)
	}
}

func TestInterruptAwaiting(t *testing.T) {
	c, rec := session(t, -1)
	send(t, c, "questions")
	waitAwaiting(t, c)
	if err := c.Interrupt(t.Context()); err != nil {
		t.Fatal(err)
	}
	ds := rec.all()
	if diff := cmp.Diff(ended, sigs(after(ds, "question.requested mock_1_question_reject"))); diff != "" {
		t.Error(diff)
	}
	waitIdle(t, c)
	// A late answer is accepted and ignored; the session goes on.
	if err := c.Answer(t.Context(), agent.Reply{Kind: agent.ReplyQuestion, ID: "mock_1_question", Reject: true}); err != nil {
		t.Fatal(err)
	}
	send(t, c, "status")
	ds = rec.turnsEnded(t, 2)
	if count(ds, "item.completed mock_1_answer") != 0 || count(ds, "item.completed mock_2_status") != 1 {
		t.Errorf("drafts: %v", sigs(ds))
	}
}

func TestCloseStopsEverything(t *testing.T) {
	rec := &recorder{}
	c, err := New(Options{Interval: 5 * time.Millisecond}).Open(t.Context(), agent.Spec{SessionID: "s"}, rec)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Send(t.Context(), agent.Prompt{Text: "demo"})
	_ = c.Send(t.Context(), agent.Prompt{Text: "demo"})
	rec.waitFor(t, "some progress", func(ds []agent.Draft) bool { return len(ds) > 5 })
	if err := c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	n := len(rec.all())
	time.Sleep(30 * time.Millisecond)
	if len(rec.all()) != n {
		t.Error("drafts emitted after Close")
	}
	if err := c.Send(t.Context(), agent.Prompt{Text: "hi"}); err == nil {
		t.Error("send after close succeeded")
	}
	if err := c.Interrupt(t.Context()); err != nil {
		t.Errorf("interrupt after close: %v", err)
	}
	if err := c.Close(t.Context()); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestCloseWhileAwaiting(t *testing.T) {
	rec := &recorder{}
	cc, err := New(Options{Interval: -1}).Open(t.Context(), agent.Spec{SessionID: "s"}, rec)
	if err != nil {
		t.Fatal(err)
	}
	c := cc.(*conn)
	send(t, c, "permission")
	waitAwaiting(t, c)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if count(rec.all(), "turn.ended") != 0 {
		t.Error("close emitted turn.ended")
	}
}

func TestSendCanceledContext(t *testing.T) {
	c, _ := session(t, -1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := c.Send(ctx, agent.Prompt{Text: "hi"}); err == nil {
		t.Error("send with canceled context succeeded")
	}
}
