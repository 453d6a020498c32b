package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// The scenario table: the same rows for every agent. The fake model's
// replies are portable steps (fakellm.Bash, Write, Edit, AskUserQuestion,
// ExitPlanMode) that fakellm resolves against the tools each agent offers,
// so one script fits all; an agent whose row needs another script says so
// in its Agent.Rows.
func init() {
	for _, s := range []Scenario{
		{ID: "text", Title: "text reply with streaming deltas", Run: runText,
			Steps: steps(fakellm.TextChunks("Hello", " from the e2e", " fake model."))},
		{ID: "tool", Title: "tool call and its result", Run: runTool, Session: permissionMode(schema.PermissionModeBypass),
			Steps: steps(fakellm.Bash("echo e2e-$((6*7))"), fakellm.Text("The command printed e2e-42."))},
		{ID: "permission-once", Title: "permission approved once", Run: runPermissionOnce,
			Steps: steps(fakellm.Bash("touch approved.txt && echo e2e-$((6*7))"), fakellm.Text("Created approved.txt."))},
		{ID: "permission-deny", Title: "permission denied", Run: runPermissionDeny,
			Steps: steps(fakellm.Bash("touch denied.txt && echo e2e-$((6*7))"), fakellm.Text("Understood, I will not."))},
		{ID: "permission-always", Title: "always, then the same call auto-approved", Run: runPermissionAlways,
			Steps: steps(fakellm.Bash(alwaysCmd), fakellm.Bash(alwaysCmd), fakellm.Text("Appended twice."))},
		{ID: "question-answer", Title: "question answered", Run: runQuestionAnswer, Steps: steps(askColor, fakellm.Text("Red it is."))},
		{ID: "question-reject", Title: "question rejected", Run: runQuestionReject, Steps: steps(askColor, fakellm.Text("No color then."))},
		{ID: "plan-accept", Title: "plan approval accepted", Run: runPlanAccept, Session: permissionMode(schema.PermissionModePlan),
			Steps: steps(fakellm.ExitPlanMode(planText), fakellm.Text("Plan approved; starting."))},
		{ID: "plan-reject", Title: "plan approval rejected", Run: runPlanReject, Session: permissionMode(schema.PermissionModePlan),
			Steps: steps(fakellm.ExitPlanMode(planText), fakellm.Text("Understood; I will revise the plan."))},
		{ID: "file-edit", Title: "file edit visible as a file change", Run: runFileEdit, Session: permissionMode(schema.PermissionModeBypass),
			Steps: steps(fakellm.Write("notes.txt", "hello e2e\n"), fakellm.Edit("notes.txt", "hello e2e", "goodbye e2e"), fakellm.Text("Edited notes.txt."))},
		{ID: "agent-error", Title: "model API error surfaced as an error event", Run: runAgentError,
			Steps: steps(fakellm.Repeat(10, failUntilRetry)...)},
		{ID: "multi-turn", Title: "multi-turn keeps context", Run: runMultiTurn,
			Steps: steps(fakellm.Text("Noted: the code word is PAPAYA."), fakellm.Text("The code word was PAPAYA."))},
		{ID: "terminate", Title: "terminate mid-turn ends the session and kills the process", Run: runTerminate,
			Steps: steps(fakellm.Text("This reply never arrives.").WithDelay(10 * time.Minute))},
		{ID: "crash", Title: "agent crash mid-turn: error with stderr; the session ends or recovers", Run: runCrash,
			Steps: steps(fakellm.Text("This reply never arrives.").WithDelay(10*time.Minute), fakellm.Text("Back after the crash."))},
	} {
		RegisterScenario(s)
	}
}

const (
	alwaysCmd   = "echo e2e-always >> always.txt"
	planText    = "1. Write plan.txt with the steps.\n2. Report back."
	errorMarker = "e2e-scripted-failure: the fake model refuses this request"
)

// failUntilRetry fails every model request of the first turn with a 500
// that asks not to be retried, and answers the second turn. A 500 because
// Claude Code answers a 400 by retrying up to five times with fewer beta
// features; answering by prompt rather than by step keeps the row right
// for an agent that retries anyway.
var failUntilRetry = fakellm.Func(func(q *fakellm.Request) fakellm.Step {
	if strings.Contains(q.LastUserText(), "Try again.") {
		return fakellm.Text("Recovered after the error.")
	}
	return fakellm.Step{Error: &fakellm.APIError{Status: 500, Message: errorMarker, NoRetry: true}}
})

var askColor = fakellm.AskUserQuestion(fakellm.NewQuestion("Color", "Which color should we use?", "Red", "Blue"))

func steps(s ...fakellm.Step) func(*Run) []fakellm.Step {
	return func(*Run) []fakellm.Step { return s }
}

func permissionMode(mode string) func(*schema.CreateSessionRequest) {
	return func(req *schema.CreateSessionRequest) { req.PermissionMode = &mode }
}

// turnEnded waits for the end of the current turn and returns the events
// since mark.
func (r *Run) turnEnded(mark int) []schema.Event {
	r.T.Helper()
	r.Next("turn.ended", isType(schema.EventTurnEnded))
	return r.Since(mark)
}

// turn sends text and returns the events of the turn it starts, once that
// turn has ended.
func (r *Run) turn(text string) []schema.Event {
	r.T.Helper()
	mark := r.Mark()
	r.Send(text)
	return r.turnEnded(mark)
}

// checkHistory fails the row unless the model request req carries an
// earlier turn: the user's text and the model's reply.
func (r *Run) checkHistory(req fakellm.Request, user, reply, what string) {
	r.T.Helper()
	var sawUser, sawReply bool
	for _, m := range req.Messages() {
		sawUser = sawUser || (m.Role == "user" && strings.Contains(m.Text, user))
		sawReply = sawReply || (m.Role == "assistant" && strings.Contains(m.Text, reply))
	}
	if !sawUser || !sawReply {
		b, _ := json.Marshal(req.Messages())
		r.T.Errorf("%s (user %v, reply %v): %s", what, sawUser, sawReply, b)
	}
}

// gone waits until pid has exited or the deadline has passed, and reports
// whether it has exited.
func gone(pid int, deadline time.Time) bool {
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return !alive(pid)
}

// StepRequest waits for the model request that consumed script step n.
func (r *Run) StepRequest(n int) fakellm.Request {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	req, err := r.LLM.WaitFor(ctx, func(q fakellm.Request) bool { return q.Served == fakellm.ServedStep && q.Step == n })
	if err != nil {
		r.T.Fatalf("the agent never asked the model for step %d: %v", n, err)
	}
	return req
}

// stepRequest returns the request for step n if it came, without waiting.
func (r *Run) stepRequest(n int) (fakellm.Request, bool) {
	for _, q := range r.LLM.Requests() {
		if q.Served == fakellm.ServedStep && q.Step == n {
			return q, true
		}
	}
	return fakellm.Request{}, false
}

func joinResults(rs []fakellm.ToolResult) string {
	var b strings.Builder
	for _, x := range rs {
		fmt.Fprintf(&b, "%s (error=%v)\n", x.Output, x.IsError)
	}
	return b.String()
}

func (r *Run) fileContent(name string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(r.Work, name))
	return string(b), err == nil
}

func (r *Run) replyPermission(id string, reply schema.PermissionReply) {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	if err := r.C.ReplyPermission(ctx, r.SessionID, id, reply); err != nil {
		r.T.Fatalf("reply %s to permission %s: %v", reply, id, err)
	}
}

func (r *Run) replyQuestion(id string, answers [][]string) {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	if err := r.C.ReplyQuestion(ctx, r.SessionID, id, answers); err != nil {
		r.T.Fatalf("answer question %s with %v: %v", id, answers, err)
	}
}

func (r *Run) rejectQuestion(id string) {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	if err := r.C.RejectQuestion(ctx, r.SessionID, id); err != nil {
		r.T.Fatalf("reject question %s: %v", id, err)
	}
}

func resolvedPermission(id string) func(schema.Event) bool {
	return func(ev schema.Event) bool {
		return ev.Type == schema.EventPermissionResolved && permissionOf(ev).PermissionID == id
	}
}

func resolvedQuestion(id string) func(schema.Event) bool {
	return func(ev schema.Event) bool {
		return ev.Type == schema.EventQuestionResolved && questionOf(ev).QuestionID == id
	}
}

func runText(r *Run) {
	const want = "Hello from the e2e fake model."
	r.CreateSession()
	evs := r.turn("Say hello.")
	var msg *schema.Item
	for _, it := range completedItems(evs, schema.KindMessage, schema.RoleAssistant) {
		if strings.Contains(it.Text(), want) {
			msg = &it
		}
	}
	if msg == nil {
		r.T.Fatalf("no completed assistant message with %q; got %q", want, assistantText(evs))
	}
	if live := deltasOf(evs, msg.ItemID, true); len(live) < 2 {
		r.T.Errorf("want the reply streamed as several item.delta events (the model sent 3 chunks), got %d: %q", len(live), live)
	}
	if got := strings.Join(deltasOf(evs, msg.ItemID, false), ""); got != msg.Text() {
		r.T.Errorf("deltas join to %q, the completed message says %q", got, msg.Text())
	}
}

func runTool(r *Run) {
	r.CreateSession()
	evs := r.turn("Run the command.")
	if len(parts(evs, schema.PartToolCall)) == 0 {
		r.T.Errorf("no tool_call part in the turn")
	}
	if out := toolOutputs(evs); !strings.Contains(out, "e2e-42") {
		r.T.Errorf("no tool_result with the command's output e2e-42; tool outputs: %q", out)
	}
	if got := joinResults(r.StepRequest(1).LatestToolResults()); !strings.Contains(got, "e2e-42") {
		r.T.Errorf("the model did not get the command's output; tool results sent: %q", got)
	}
	if !strings.Contains(assistantText(evs), "The command printed e2e-42.") {
		r.T.Errorf("final text missing; assistant said %q", assistantText(evs))
	}
}

func runPermissionOnce(r *Run) {
	r.CreateSession()
	mark := r.Mark()
	r.Send("Create approved.txt.")
	p := permissionOf(r.Next("permission.requested", isType(schema.EventPermissionRequested)))
	if p.PermissionID == "" || p.Action == "" {
		r.T.Errorf("permission.requested without id or action: %+v", p)
	}
	r.replyPermission(p.PermissionID, schema.ReplyOnce)
	if st := permissionOf(r.Next("permission.resolved", resolvedPermission(p.PermissionID))).Status; st != schema.PermissionAccept {
		r.T.Errorf("permission resolved as %q, want accept", st)
	}
	evs := r.turnEnded(mark)
	if _, ok := r.fileContent("approved.txt"); !ok {
		r.T.Errorf("the approved command did not run: approved.txt is missing")
	}
	if out := toolOutputs(evs); !strings.Contains(out, "e2e-42") {
		r.T.Errorf("no tool_result with e2e-42 after approval; tool outputs: %q", out)
	}
}

func runPermissionDeny(r *Run) {
	r.CreateSession()
	mark := r.Mark()
	r.Send("Create denied.txt.")
	p := permissionOf(r.Next("permission.requested", isType(schema.EventPermissionRequested)))
	r.replyPermission(p.PermissionID, schema.ReplyReject)
	if st := permissionOf(r.Next("permission.resolved", resolvedPermission(p.PermissionID))).Status; st != schema.PermissionReject {
		r.T.Errorf("permission resolved as %q, want reject", st)
	}
	evs := r.turnEnded(mark)
	if _, ok := r.fileContent("denied.txt"); ok {
		r.T.Errorf("the denied command ran: denied.txt exists")
	}
	if out := toolOutputs(evs); strings.Contains(out, "e2e-42") {
		r.T.Errorf("a tool_result carries the denied command's output: %q", out)
	}
	if q, ok := r.stepRequest(1); ok {
		for _, x := range q.LatestToolResults() {
			if strings.Contains(x.Output, "e2e-42") {
				r.T.Errorf("the model got the denied command's output: %q", x.Output)
			}
		}
	}
}

func runPermissionAlways(r *Run) {
	r.CreateSession()
	r.Send("Append to always.txt twice.")
	first := permissionOf(r.Next("permission.requested", isType(schema.EventPermissionRequested)))
	r.replyPermission(first.PermissionID, schema.ReplyAlways)
	if st := permissionOf(r.Next("permission.resolved", resolvedPermission(first.PermissionID))).Status; st != schema.PermissionAcceptForSession {
		r.T.Errorf("permission resolved as %q, want accept_for_session", st)
	}
	// The second, identical call must not wait for us: either the agent
	// does not ask, or the session answers for us.
	for {
		ev := r.Next("turn.ended or another permission.requested", isType(schema.EventTurnEnded, schema.EventPermissionRequested))
		if ev.Type == schema.EventTurnEnded {
			break
		}
		id := permissionOf(ev).PermissionID
		save := r.Mark()
		res, ok := r.next(resolvedPermission(id), 15*time.Second)
		if !ok {
			r.T.Fatalf("the repeated call asked again (%s) and nobody approved it within 15s", brief(ev))
		}
		if st := permissionOf(res).Status; st != schema.PermissionAcceptForSession {
			r.T.Errorf("repeated call resolved as %q, want accept_for_session", st)
		}
		r.mu.Lock()
		r.cursor = save
		r.mu.Unlock()
	}
	got, _ := r.fileContent("always.txt")
	if n := strings.Count(got, "e2e-always"); n != 2 {
		r.T.Errorf("always.txt has %d lines of e2e-always, want 2 (content %q)", n, got)
	}
}

func runQuestionAnswer(r *Run) {
	r.CreateSession()
	mark := r.Mark()
	r.Send("Ask me which color to use.")
	q := questionOf(r.Next("question.requested", isType(schema.EventQuestionRequested)))
	if !strings.Contains(q.Prompt, "Which color should we use?") {
		r.T.Errorf("question prompt %q does not carry the question", q.Prompt)
	}
	if !containsAll(q.Options, "Red", "Blue") {
		r.T.Errorf("question options %q, want Red and Blue", q.Options)
	}
	r.replyQuestion(q.QuestionID, [][]string{{"Red"}})
	if st := questionOf(r.Next("question.resolved", resolvedQuestion(q.QuestionID))).Status; st != schema.QuestionAnswered {
		r.T.Errorf("question resolved as %q, want answered", st)
	}
	r.turnEnded(mark)
	if got := joinResults(r.StepRequest(1).LatestToolResults()); !strings.Contains(got, "Red") {
		r.T.Errorf("the model did not get the answer Red; tool results sent: %q", got)
	}
}

func runQuestionReject(r *Run) {
	r.CreateSession()
	mark := r.Mark()
	r.Send("Ask me which color to use.")
	q := questionOf(r.Next("question.requested", isType(schema.EventQuestionRequested)))
	r.rejectQuestion(q.QuestionID)
	if st := questionOf(r.Next("question.resolved", resolvedQuestion(q.QuestionID))).Status; st != schema.QuestionRejected {
		r.T.Errorf("question resolved as %q, want rejected", st)
	}
	r.turnEnded(mark)
	if req, ok := r.stepRequest(1); ok {
		if got := joinResults(req.LatestToolResults()); strings.Contains(got, `="Red"`) || strings.Contains(got, `="Blue"`) {
			r.T.Errorf("the model was told an answer although the question was rejected: %q", got)
		}
	}
}

var (
	approveRE = regexp.MustCompile(`(?i)^(approve|accept|yes|proceed|allow)`)
	rejectRE  = regexp.MustCompile(`(?i)^(reject|deny|decline|no\b)`)
)

// planRequest waits for the plan approval, which an agent may ask as a
// question (with approve/reject options) or as a permission, and checks
// that it shows the plan.
func (r *Run) planRequest() schema.Event {
	r.T.Helper()
	ev := r.Next("plan approval (question.requested or permission.requested)", isType(schema.EventQuestionRequested, schema.EventPermissionRequested))
	shown := questionOf(ev).Prompt + string(permissionOf(ev).Metadata)
	if !strings.Contains(shown, "Write plan.txt") {
		r.T.Errorf("the plan approval does not show the plan: %s", brief(ev))
	}
	return ev
}

func runPlanAccept(r *Run) {
	r.CreateSession()
	mark := r.Mark()
	r.Send("Plan the work first.")
	ev := r.planRequest()
	if ev.Type == schema.EventQuestionRequested {
		q := questionOf(ev)
		choice := pickOption(q.Options, approveRE)
		r.replyQuestion(q.QuestionID, [][]string{{choice}})
		if st := questionOf(r.Next("question.resolved", resolvedQuestion(q.QuestionID))).Status; st != schema.QuestionAnswered {
			r.T.Errorf("plan question resolved as %q, want answered", st)
		}
	} else {
		p := permissionOf(ev)
		r.replyPermission(p.PermissionID, schema.ReplyOnce)
		r.Next("permission.resolved", resolvedPermission(p.PermissionID))
	}
	r.turnEnded(mark)
	for _, x := range r.StepRequest(1).LatestToolResults() {
		if x.IsError {
			r.T.Errorf("the model was told the approved plan failed: %q", x.Output)
		}
	}
}

func runPlanReject(r *Run) {
	r.CreateSession()
	mark := r.Mark()
	r.Send("Plan the work first.")
	ev := r.planRequest()
	if ev.Type == schema.EventQuestionRequested {
		q := questionOf(ev)
		if choice := pickOption(q.Options, rejectRE); choice != "" && rejectRE.MatchString(choice) {
			r.replyQuestion(q.QuestionID, [][]string{{choice}})
		} else {
			r.rejectQuestion(q.QuestionID)
		}
		r.Next("question.resolved", resolvedQuestion(q.QuestionID))
	} else {
		p := permissionOf(ev)
		r.replyPermission(p.PermissionID, schema.ReplyReject)
		r.Next("permission.resolved", resolvedPermission(p.PermissionID))
	}
	r.turnEnded(mark)
	if req, ok := r.stepRequest(1); ok {
		res := req.LatestToolResults()
		rejected := len(res) > 0
		for _, x := range res {
			if !x.IsError && !strings.Contains(strings.ToLower(x.Output), "reject") {
				rejected = false
			}
		}
		if !rejected {
			r.T.Errorf("the model was not told the plan was rejected: %q", joinResults(res))
		}
	}
}

// pickOption returns the first option matching re, else the first option.
func pickOption(opts []string, re *regexp.Regexp) string {
	for _, o := range opts {
		if re.MatchString(strings.TrimSpace(o)) {
			return o
		}
	}
	if len(opts) > 0 {
		return opts[0]
	}
	return ""
}

func runFileEdit(r *Run) {
	r.CreateSession()
	evs := r.turn("Write notes.txt, then edit it.")
	if got, _ := r.fileContent("notes.txt"); got != "goodbye e2e\n" {
		r.T.Errorf("notes.txt is %q, want %q", got, "goodbye e2e\n")
	}
	var refs []string
	for _, p := range parts(evs, schema.PartFileRef) {
		if strings.HasSuffix(p.Path, "notes.txt") && (p.Action == schema.FileWrite || p.Action == schema.FilePatch) {
			refs = append(refs, string(p.Action))
		}
	}
	if len(refs) == 0 {
		r.T.Errorf("no file_ref part (write or patch) for notes.txt in the turn; tool calls: %s", toolCallsOf(evs))
	}
}

func toolCallsOf(evs []schema.Event) string {
	var out []string
	for _, p := range parts(evs, schema.PartToolCall) {
		out = append(out, p.Name+" "+p.Arguments)
	}
	return strings.Join(out, "; ")
}

func runAgentError(r *Run) { agentErrorRow(0)(r) }

// agentErrorRow is the agent-error row, waiting settle after the failed
// turn before the next message (for an agent that needs a moment after a
// failed turn; see its Rows).
func agentErrorRow(settle time.Duration) func(r *Run) {
	return func(r *Run) { runAgentErrorSettled(r, settle) }
}

func runAgentErrorSettled(r *Run, settle time.Duration) {
	r.CreateSession()
	mark := r.Mark()
	r.Send("This request fails.")
	ev := r.Next("error event", isType(schema.EventError))
	e := errorOf(ev)
	if !strings.Contains(e.Message+string(e.Details), "e2e-scripted-failure") {
		r.T.Errorf("error event does not carry the model's error message: %s", brief(ev))
	}
	r.turnEnded(mark)
	time.Sleep(settle)
	// The session survives a failed turn.
	if got := assistantText(r.turn("Try again.")); !strings.Contains(got, "Recovered after the error.") {
		r.T.Errorf("the turn after the error said %q", got)
	}
}

func runMultiTurn(r *Run) {
	r.CreateSession()
	r.turn("Remember the code word PAPAYA.")
	if got := assistantText(r.turn("What was the code word?")); !strings.Contains(got, "The code word was PAPAYA.") {
		r.T.Errorf("second turn said %q", got)
	}
	r.checkHistory(r.StepRequest(1), "Remember the code word PAPAYA.", "Noted: the code word is PAPAYA.",
		"the second turn's model request lacks the first turn")
}

// midTurn sends a message whose model reply never comes, and returns the
// agent processes once the agent is waiting on the model.
func (r *Run) midTurn() []proc {
	r.T.Helper()
	r.CreateSession()
	r.Send("Take your time.")
	r.StepRequest(0)
	procs := r.AgentProcs()
	if len(procs) == 0 {
		r.T.Fatalf("no %s process found under the server (install dir %s); run's processes: %v", r.Agent.Name, r.InstallDir, markedProcs(r.ID))
	}
	return procs
}

func runTerminate(r *Run) {
	procs := r.midTurn()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	if err := r.C.Terminate(ctx, r.SessionID); err != nil {
		r.T.Fatalf("terminate: %v", err)
	}
	d := endedOf(r.Next("session.ended", isType(schema.EventSessionEnded)))
	if d.Reason != schema.EndTerminated {
		r.T.Errorf("session.ended reason %q, want terminated", d.Reason)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range procs {
		if !gone(p.PID, deadline) {
			r.T.Errorf("%s still runs 10s after terminate", p)
		}
	}
}

func runCrash(r *Run) {
	procs := r.midTurn()
	victim := procs[0]
	for _, p := range procs {
		if p.PPID == r.srv.Process.Pid {
			victim = p
			break
		}
	}
	marker := "e2e: simulated agent crash " + r.ID
	if err := crashProcess(victim.PID, marker); err != nil {
		r.T.Fatalf("crashing %s: %v", victim, err)
	}
	// The crash is seen at once (the process's pipes close). An agent either
	// ends the session (reason error, with the agent's stderr), or, when it
	// can resume its native session, ends the turn with an error event that
	// carries the stderr and serves the next message from a new process.
	mark := r.Mark()
	ev := r.NextWithin(20*time.Second, "session.ended or turn.ended", func(ev schema.Event) bool {
		return ev.Type == schema.EventSessionEnded || ev.Type == schema.EventTurnEnded
	})
	if ev.Type == schema.EventSessionEnded {
		d := endedOf(ev)
		if d.Reason != schema.EndError {
			r.T.Errorf("session.ended reason %q, want error: %s", d.Reason, brief(ev))
		}
		var stderr string
		if d.Stderr != nil {
			stderr = schema.Deref(d.Stderr.Head) + schema.Deref(d.Stderr.Tail)
		}
		if !strings.Contains(stderr, marker) {
			r.T.Errorf("session.ended stderr does not hold the agent's last stderr line %q: %s", marker, brief(ev))
		}
		return
	}
	var errEv *schema.ErrorData
	for _, e := range r.Since(mark) {
		if d, ok := e.Data.(*schema.ErrorData); ok {
			errEv = d
		}
	}
	if errEv == nil {
		r.T.Fatalf("the turn ended without an error event after the crash: %s", r.dumpFrom(mark))
	}
	if !strings.Contains(string(errEv.Details), marker) {
		r.T.Errorf("the crash's error event does not carry the agent's stderr line %q: %s / %s", marker, errEv.Message, errEv.Details)
	}
	// The session recovers: the next message is answered by a new process.
	mark = r.Mark()
	r.Send("Are you back?")
	evs := r.turnEnded(mark)
	if !strings.Contains(assistantText(evs), "Back after the crash.") {
		r.T.Errorf("no reply after recovering from the crash: %s", r.dumpFrom(mark))
	}
	for _, p := range r.AgentProcs() {
		if p.PID == victim.PID {
			r.T.Errorf("the crashed process %s is still there", victim)
		}
	}
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if strings.TrimSpace(h) == w {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
