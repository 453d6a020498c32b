package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/invariants"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Bodies of the Claude Code rows registered in agent_claude_test.go: what
// issue 5 asks of the adapter beyond the shared table, proven on the real
// CLI.

// claudeProc returns the row's one claude process, failing when there is
// none or several.
func (r *Run) claudeProc() proc {
	r.T.Helper()
	procs := r.AgentProcs()
	if len(procs) != 1 {
		r.T.Fatalf("want exactly one claude process, found %v", procs)
	}
	return procs[0]
}

// sessionInfo returns what the server says of the row's session.
func (r *Run) sessionInfo() schema.SessionInfo {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	info, err := r.C.Session(ctx, r.SessionID)
	if err != nil {
		r.T.Fatalf("get session: %v", err)
	}
	return info
}

// nativeID returns the session's native (Claude) session id, which the
// server learned from the CLI.
func (r *Run) nativeID() string {
	r.T.Helper()
	info := r.sessionInfo()
	if info.NativeSessionID == nil || *info.NativeSessionID == "" {
		r.T.Fatalf("the session has no native session id yet")
	}
	return *info.NativeSessionID
}

// turnMeta returns the metadata of the turn.ended among evs.
func turnMeta(evs []schema.Event) map[string]any {
	var m map[string]any
	for _, ev := range evs {
		if d, ok := ev.Data.(*schema.TurnEventData); ok && ev.Type == schema.EventTurnEnded {
			m = map[string]any{}
			_ = json.Unmarshal(d.Metadata, &m)
		}
	}
	return m
}

// --- thinking

const (
	thoughtOne = "The user wants think.txt; a Write will do."
	thoughtTwo = "Second turn: nothing to run, just answer."
)

func claudeThinkingSteps(*Run) []fakellm.Step {
	return []fakellm.Step{
		fakellm.Write("think.txt", "thought through\n").WithThinking(thoughtOne).WithText("Writing think.txt."),
		fakellm.Text("Wrote think.txt."),
		fakellm.Thinking(thoughtTwo, "Nothing else to do."),
	}
}

// runClaudeThinking: thinking streamed before a tool call (whose permission
// is asked and granted), and again in a second turn of the same process.
// Each thinking block becomes its own reasoning item, parented to its
// message, streamed as item.delta events that add up to its text.
func runClaudeThinking(r *Run) {
	r.CreateSession()
	mark := r.Mark()
	r.Send("Think, then write think.txt.")
	p := permissionOf(r.Next("permission.requested", isType(schema.EventPermissionRequested)))
	r.replyPermission(p.PermissionID, schema.ReplyOnce)
	evs := r.turnEnded(mark)
	r.checkReasoning(evs, thoughtOne)
	if got, _ := r.fileContent("think.txt"); got != "thought through\n" {
		r.T.Errorf("think.txt is %q", got)
	}
	evs = r.turn("Anything else?")
	r.checkReasoning(evs, thoughtTwo)
	if !strings.Contains(assistantText(evs), "Nothing else to do.") {
		r.T.Errorf("second turn said %q", assistantText(evs))
	}
	// The CLI asks for thinking it can show (display "updates", not
	// "omitted"), at the session's effort, from the session's model.
	q := r.StepRequest(0)
	th, _ := q.JSON["thinking"].(map[string]any)
	if th == nil || th["type"] == "disabled" || th["display"] == "omitted" {
		r.T.Errorf("the model request does not ask for visible thinking: %v", q.JSON["thinking"])
	}
	if oc, _ := q.JSON["output_config"].(map[string]any); oc["effort"] != "low" {
		r.T.Errorf("the model request's effort is %v, want the session's variant low", q.JSON["output_config"])
	}
	if q.Model() != "claude-sonnet-4-6" {
		r.T.Errorf("the model request asks for %q, want the session's model claude-sonnet-4-6", q.Model())
	}
}

// checkReasoning finds the reasoning item with thought among evs and
// checks its deltas and its parent.
func (r *Run) checkReasoning(evs []schema.Event, thought string) {
	r.T.Helper()
	var it *schema.Item
	for _, x := range completedItems(evs, schema.KindMessage, schema.RoleAssistant) {
		for _, p := range x.Content {
			if p.Type == schema.PartReasoning && p.Text == thought {
				it = &x
				if p.Visibility != schema.VisibilityPublic {
					r.T.Errorf("reasoning visibility %q, want public", p.Visibility)
				}
			}
		}
	}
	if it == nil {
		r.T.Fatalf("no completed reasoning item with %q:\n%s", thought, r.dumpFrom(0))
	}
	if it.Text() != "" {
		r.T.Errorf("the reasoning item also holds text %q (text belongs to the message)", it.Text())
	}
	if live := deltasOf(evs, it.ItemID, true); strings.Join(live, "") != thought {
		r.T.Errorf("the reasoning item's live deltas %q do not add up to %q", live, thought)
	}
	if it.ParentID == nil {
		r.T.Errorf("the reasoning item has no parent message")
		return
	}
	found := false
	for _, m := range completedItems(evs, schema.KindMessage, schema.RoleAssistant) {
		found = found || m.ItemID == *it.ParentID
	}
	if !found {
		r.T.Errorf("the reasoning item's parent %s is not an assistant message of the turn", *it.ParentID)
	}
}

// --- one process across turns

// runClaudeOneProcess: three turns are answered by the same claude process,
// started without --resume.
func runClaudeOneProcess(r *Run) {
	r.CreateSession()
	first := r.claudeProc()
	for i, msg := range []string{"Remember the code word PAPAYA.", "What was the code word?", "Thanks."} {
		mark := r.Mark()
		r.Send(msg)
		evs := r.turnEnded(mark)
		if len(ofType(evs, schema.EventError)) > 0 {
			r.T.Errorf("turn %d had an error: %s", i+1, r.dumpFrom(mark))
		}
		if p := r.claudeProc(); p.PID != first.PID {
			r.T.Fatalf("turn %d was answered by another process: %s, first %s", i+1, p, first)
		}
	}
	if strings.Contains(first.Cmd, "--resume") {
		r.T.Errorf("the session's first process resumes something: %s", first.Cmd)
	}
	if got := assistantText(r.Events()); !strings.Contains(got, "The code word was PAPAYA.") {
		r.T.Errorf("the second turn did not keep context: %q", got)
	}
	if n := len(ofType(r.Events(), schema.EventTurnEnded)); n != 3 {
		r.T.Errorf("%d turn.ended events, want 3", n)
	}
	// What the CLI said about itself at init is kept on the session.
	info := r.sessionInfo()
	var md struct {
		Model string   `json:"model"`
		Tools []string `json:"tools"`
	}
	if json.Unmarshal(info.AgentMetadata, &md) != nil || md.Model == "" || len(md.Tools) == 0 {
		r.T.Errorf("session agentMetadata lacks the CLI's model and tools: %s", info.AgentMetadata)
	}
}

// --- resume after the process died between turns

// runClaudeResume: after turn 1 the claude process is killed; the session
// says nothing (no turn is running), and turn 2 is answered by a new
// process started with --resume <native session id>, whose model request
// carries turn 1.
func runClaudeResume(r *Run) {
	r.CreateSession()
	r.turn("Remember the code word PAPAYA.")
	native := r.nativeID()
	victim := r.claudeProc()
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		r.T.Fatal(err)
	}
	if !gone(victim.PID, time.Now().Add(10*time.Second)) {
		r.T.Fatalf("%s survived SIGKILL", victim)
	}
	time.Sleep(300 * time.Millisecond) // let the adapter see the exit
	evs := r.turn("What was the code word?")
	for _, ev := range evs {
		switch ev.Type {
		case schema.EventError, schema.EventSessionEnded:
			r.T.Errorf("a process that died between turns was reported: %s", brief(ev))
		}
	}
	if !strings.Contains(assistantText(evs), "The code word was PAPAYA.") {
		r.T.Errorf("turn 2 said %q", assistantText(evs))
	}
	now := r.claudeProc()
	if now.PID == victim.PID {
		r.T.Fatalf("turn 2 was answered by the killed process %s", victim)
	}
	if !strings.Contains(now.Cmd, "--resume "+native) {
		r.T.Errorf("the new process does not resume %s: %s", native, now.Cmd)
	}
	for _, ev := range evs {
		if ev.Source == schema.SourceAgent && schema.Deref(ev.NativeSessionID) != native {
			r.T.Errorf("after the resume an event carries native session %s, want %s: %s", schema.Deref(ev.NativeSessionID), native, brief(ev))
			break
		}
	}
	r.checkHistory(r.StepRequest(1), "Remember the code word PAPAYA.", "Noted: the code word is PAPAYA.",
		"the resumed turn's model request lacks turn 1")
}

// --- attachments

// runClaudeAttachments: an image as a data URL, an image file and a text
// file (paths relative to the session directory) and an image URL reach
// the model as image and document content blocks of the user's message.
func runClaudeAttachments(r *Run) {
	evs := r.sendAttachments(schema.MessageAttachment{Path: r.LLM.URL() + "/e2e/remote.png"})
	// The user's item shows the attachments.
	var user *schema.Item
	for _, it := range completedItems(evs, schema.KindMessage, schema.RoleUser) {
		user = &it
	}
	if user == nil {
		r.T.Fatalf("no user message item")
	}
	var images, files int
	for _, p := range user.Content {
		switch p.Type {
		case schema.PartImage:
			images++
		case schema.PartFileRef:
			files++
		}
	}
	if images != 3 || files != 1 {
		r.T.Errorf("user item has %d image and %d file parts, want 3 and 1: %+v", images, files, user.Content)
	}
	// The model got them as content blocks of the newest user message.
	blocks := lastUserBlocks(r.StepRequest(0))
	var gotImages []string
	var gotDoc, gotText, gotURL bool
	for _, b := range blocks {
		src, _ := b["source"].(map[string]any)
		switch b["type"] {
		case "image":
			if src["type"] == "base64" && src["media_type"] == "image/png" {
				gotImages = append(gotImages, src["data"].(string))
			}
			gotURL = gotURL || (src["type"] == "url" && src["url"] == r.LLM.URL()+"/e2e/remote.png")
		case "document":
			data, _ := src["data"].(string)
			gotDoc = gotDoc || (b["title"] == "notes.txt" && data == attachedText)
		case "text":
			t, _ := b["text"].(string)
			gotText = gotText || t == "Describe the attachments."
		}
	}
	want := base64.StdEncoding.EncodeToString(pixelPNG)
	if len(gotImages) != 2 || gotImages[0] != want || gotImages[1] != want {
		r.T.Errorf("the model got %d PNG image blocks, want 2 with the pixel: %s", len(gotImages), blocksBrief(blocks))
	}
	if !gotDoc {
		r.T.Errorf("the model did not get the text file as a document block: %s", blocksBrief(blocks))
	}
	if !gotURL {
		r.T.Errorf("the model did not get the image URL as a url image block: %s", blocksBrief(blocks))
	}
	if !gotText {
		r.T.Errorf("the model did not get the message text: %s", blocksBrief(blocks))
	}

}

// lastUserBlocks returns the content blocks of the newest user message of
// an Anthropic request.
func lastUserBlocks(q fakellm.Request) []map[string]any {
	msgs, _ := q.JSON["messages"].([]any)
	for i := len(msgs) - 1; i >= 0; i-- {
		m, _ := msgs[i].(map[string]any)
		if m["role"] != "user" {
			continue
		}
		var out []map[string]any
		switch c := m["content"].(type) {
		case string:
			out = append(out, map[string]any{"type": "text", "text": c})
		case []any:
			for _, b := range c {
				if bm, ok := b.(map[string]any); ok {
					out = append(out, bm)
				}
			}
		}
		return out
	}
	return nil
}

func blocksBrief(blocks []map[string]any) string {
	var out []string
	for _, b := range blocks {
		j, _ := json.Marshal(b)
		out = append(out, trunc(string(j), 200))
	}
	return strings.Join(out, "\n  ")
}

// --- models

func runClaudeModels(r *Run) {
	ml, ids := r.models()
	for _, want := range fakellm.DefaultModels {
		if !containsAll(ids, want) {
			r.T.Errorf("models %q lack the endpoint's %q", ids, want)
		}
	}
	if containsAll(ids, "sonnet") || containsAll(ids, "default") {
		r.T.Errorf("models %q hold the fallback aliases although the endpoint answered", ids)
	}
	if ml.DefaultModel == nil || !containsAll(ids, *ml.DefaultModel) {
		r.T.Errorf("default model %v is not one of %q", ml.DefaultModel, ids)
	}
	var asked bool
	for _, q := range r.LLM.Requests() {
		if q.Endpoint == "models" && q.API == fakellm.APIAnthropic && q.Header.Get("x-api-key") == "test" {
			asked = true
		}
	}
	if !asked {
		r.T.Errorf("the adapter did not list models at ANTHROPIC_BASE_URL with the API key")
	}
}

func runClaudeModelsFallback(r *Run) {
	ml, ids := r.models()
	if strings.Join(ids, ",") != "default,sonnet,opus,haiku" {
		r.T.Errorf("models %q, want the reference's fallback default,sonnet,opus,haiku", ids)
	}
	if ml.DefaultModel == nil || *ml.DefaultModel != "default" {
		r.T.Errorf("default model %v, want default", ml.DefaultModel)
	}
	// A session still starts (the CLI gets no --model from the fallback).
	r.CreateSession()
	if p := r.claudeProc(); strings.Contains(p.Cmd, "--model") {
		r.T.Errorf("the fallback's default model was passed on: %s", p.Cmd)
	}
}

// --- permission modes

// unaskedTurn creates the session, checks that claude runs with flag (the
// permission mode's), and runs a turn with text that must not ask for any
// permission; it returns the turn's events.
func (r *Run) unaskedTurn(mode, flag, text string) []schema.Event {
	r.T.Helper()
	r.CreateSession()
	if p := r.claudeProc(); !strings.Contains(p.Cmd, flag) {
		r.T.Errorf("claude does not run in %s mode: %s", mode, p.Cmd)
	}
	evs := r.turn(text)
	if n := len(ofType(evs, schema.EventPermissionRequested)); n != 0 {
		r.T.Errorf("%s asked %d permissions for %q", mode, n, text)
	}
	return evs
}

func runClaudeAcceptEdits(r *Run) {
	r.unaskedTurn("acceptEdits", "--permission-mode acceptEdits", "Write accepted.txt.")
	if got, _ := r.fileContent("accepted.txt"); got != "accept-edits e2e\n" {
		r.T.Errorf("accepted.txt is %q", got)
	}
	// A command that is not a file edit still asks.
	mark := r.Mark()
	r.Send("Now run the script.")
	p := permissionOf(r.Next("permission.requested for a non-edit command", isType(schema.EventPermissionRequested)))
	r.replyPermission(p.PermissionID, schema.ReplyReject)
	r.turnEnded(mark)
}

func runClaudeBypass(r *Run) {
	evs := r.unaskedTurn("bypass", "--dangerously-skip-permissions", "Write and run.")
	if got, _ := r.fileContent("bypass.txt"); got != "bypass e2e\n" {
		r.T.Errorf("bypass.txt is %q", got)
	}
	if _, ok := r.fileContent("bypass-ran.txt"); !ok {
		r.T.Errorf("the command did not run: bypass-ran.txt is missing")
	}
	if out := toolOutputs(evs); !strings.Contains(out, "e2e-bypass-42") {
		r.T.Errorf("the command did not run: tool outputs %q", out)
	}
}

// --- interrupt

// runClaudeInterrupt: an interrupt while the answer streams ends the turn
// (interrupted, no error event, the cut message failed) and the session
// answers the next message; an interrupt while a permission is asked ends
// the turn too, the CLI withdraws the request and the command never runs.
func runClaudeInterrupt(r *Run) {
	r.CreateSession()
	before := r.claudeProc()
	mark := r.Mark()
	r.Send("Tell me a long story.")
	r.Next("the first streamed delta", func(ev schema.Event) bool { return ev.Type == schema.EventItemDelta && !ev.Synthetic })
	t0 := time.Now()
	r.interrupt()
	evs := r.turnEnded(mark)
	took := time.Since(t0)
	if m := turnMeta(evs); m["interrupted"] != true {
		r.T.Errorf("turn.ended metadata %v, want interrupted", m)
	}
	for _, ev := range ofType(evs, schema.EventError) {
		r.T.Errorf("an interrupt is not an error: %s", brief(ev))
	}
	var cut bool
	for _, it := range completedItems(evs, schema.KindMessage, schema.RoleAssistant) {
		cut = cut || (it.Status == schema.StatusFailed && strings.HasPrefix(it.Text(), "Once upon"))
	}
	if !cut {
		r.T.Errorf("the cut-off message did not complete as failed: %s", r.dumpFrom(mark))
	}
	r.T.Logf("the interrupted turn ended %v after the interrupt request", took.Round(time.Millisecond))
	if got := assistantText(r.turn("Are you still there?")); !strings.Contains(got, "Still here.") {
		r.T.Errorf("the turn after the interrupt said %q", got)
	}
	// An interrupt while a permission is asked: the turn ends, the request
	// is settled (nobody can approve it any more), the command never runs.
	mark = r.Mark()
	r.Send("Touch the file.")
	p := permissionOf(r.Next("permission.requested", isType(schema.EventPermissionRequested)))
	r.interrupt()
	evs = r.turnEnded(mark)
	var resolved []schema.Event
	for _, ev := range evs {
		if resolvedPermission(p.PermissionID)(ev) {
			resolved = append(resolved, ev)
		}
	}
	switch {
	case len(resolved) != 1:
		r.T.Errorf("the interrupted permission resolved %d times, want once: %s", len(resolved), r.dumpFrom(mark))
	case permissionOf(resolved[0]).Status != schema.PermissionReject:
		r.T.Errorf("the interrupted permission resolved as %q, want reject", permissionOf(resolved[0]).Status)
	case resolved[0].Synthetic:
		// The CLI withdrew it (control_cancel_request): the adapter says
		// so, rather than leaving it to the session's end-of-turn sweep.
		r.T.Errorf("the withdrawn permission was resolved by the session, not the adapter: %s", brief(resolved[0]))
	}
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	if err := r.C.ReplyPermission(ctx, r.SessionID, p.PermissionID, schema.ReplyOnce); err == nil {
		r.T.Errorf("a permission of an interrupted turn could still be approved")
	}
	cancel()
	time.Sleep(300 * time.Millisecond)
	if _, ok := r.fileContent("interrupted.txt"); ok {
		r.T.Errorf("the command of the interrupted turn ran")
	}
	if got := assistantText(r.turn("Still with me?")); !strings.Contains(got, "Yes.") {
		r.T.Errorf("the turn after the second interrupt said %q", got)
	}
	// The CLI stopped both turns on the control protocol's interrupt; the
	// adapter did not have to kill it.
	if p := r.claudeProc(); p.PID != before.PID {
		r.T.Errorf("the interrupt cost the process: %s before, %s after", before, p)
	}
}

// --- sub-agents

// The CLI (2.1.332) offers sub-agents as the Agent tool. A sub-agent makes
// its own model requests, marked in the system prompt
// (cc_is_subagent=true); routeSteps hands the main agent and the
// sub-agent their own next step, so a script does not depend on how their
// requests interleave.
func routeSteps(main, sub []fakellm.Step) []fakellm.Step {
	var mu sync.Mutex
	return fakellm.Repeat(len(main)+len(sub), fakellm.Func(func(q *fakellm.Request) fakellm.Step {
		mu.Lock()
		defer mu.Unlock()
		queue := &main
		if strings.Contains(q.SystemText(), "cc_is_subagent=true") {
			queue = &sub
		}
		if len(*queue) == 0 {
			return fakellm.Text(fakellm.DefaultText)
		}
		s := (*queue)[0]
		*queue = (*queue)[1:]
		return s
	}))
}

func agentCall(background bool) fakellm.Step {
	return fakellm.Tool("Agent", map[string]any{"description": "Check e2e", "prompt": "Run echo sub-e2e and report.",
		"subagent_type": "general-purpose", "run_in_background": background})
}

// subagentSteps: a command that prints and fails, a Write, the report.
var subagentSteps = []fakellm.Step{
	fakellm.Bash("echo sub-e2e-$((6*7)); exit 2").WithText("Running it."),
	fakellm.Write("sub.txt", "from the sub-agent\n"),
	fakellm.Text("Sub-agent: the command printed sub-e2e-42."),
}

func claudeSubagentSteps(*Run) []fakellm.Step {
	return routeSteps([]fakellm.Step{agentCall(false), fakellm.Text("The sub-agent reported sub-e2e-42.")}, subagentSteps)
}

// claudeSubagentBackgroundSteps hold the sub-agent's first reply back a
// little, so that it finishes after the main agent's turn (which is the
// case this row is about: a sub-agent that outlives the turn).
func claudeSubagentBackgroundSteps(*Run) []fakellm.Step {
	sub := append([]fakellm.Step{subagentSteps[0].WithDelay(time.Second)}, subagentSteps[1:]...)
	return routeSteps([]fakellm.Step{agentCall(true), fakellm.Text("Started it in the background."),
		fakellm.Text("The sub-agent reported sub-e2e-42."), fakellm.Text("Nothing else.")}, sub)
}

// subagentCall returns the Agent tool_call item among evs.
func (r *Run) subagentCall(evs []schema.Event) schema.Item {
	r.T.Helper()
	for _, it := range completedItems(evs, schema.KindToolCall, "") {
		for _, p := range it.Content {
			if p.Type == schema.PartToolCall && p.Name == "Agent" {
				return it
			}
		}
	}
	r.T.Fatalf("no Agent tool_call item: %s", toolCallsOf(evs))
	return schema.Item{}
}

// checkSubagentItems checks that the sub-agent's work hangs under the
// Agent call: its Bash and Write calls through the sub-agent's messages,
// their results directly; the failed command is a failed result that
// still tells the command, its exit code and output.
func (r *Run) checkSubagentItems(evs []schema.Event, call schema.Item) {
	r.T.Helper()
	byID := map[string]schema.Item{}
	for _, it := range completedItems(evs, "", "") {
		byID[it.ItemID] = it
	}
	underCall := func(it schema.Item) bool {
		for p := it.ParentID; p != nil; {
			if *p == call.ItemID {
				return true
			}
			parent, ok := byID[*p]
			if !ok {
				return false
			}
			p = parent.ParentID
		}
		return false
	}
	var bash, write, result bool
	for _, it := range byID {
		for _, p := range it.Content {
			switch {
			case p.Type == schema.PartToolCall && p.Name == "Bash" && strings.Contains(p.Arguments, "sub-e2e"):
				bash = true
				if !underCall(it) {
					r.T.Errorf("the sub-agent's Bash call %s is not under the Agent call %s", it.ItemID, call.ItemID)
				}
			case p.Type == schema.PartFileRef && strings.HasSuffix(p.Path, "sub.txt") && p.Action == schema.FileWrite:
				write = true
				if !underCall(it) {
					r.T.Errorf("the sub-agent's Write call %s is not under the Agent call %s", it.ItemID, call.ItemID)
				}
			case p.Type == schema.PartToolResult && strings.Contains(p.Output, "sub-e2e-42") && p.CallID != schema.Deref(call.NativeItemID):
				result = true
				if schema.Deref(it.ParentID) != call.ItemID {
					r.T.Errorf("the sub-agent's tool result %s has parent %v, want the Agent call %s", it.ItemID, schema.Deref(it.ParentID), call.ItemID)
				}
				if it.Status != schema.StatusFailed {
					r.T.Errorf("the failed command's result is %s, want failed", it.Status)
				}
				var cmd struct {
					Command  string `json:"command"`
					ExitCode *int   `json:"exitCode"`
				}
				for _, q := range it.Content {
					if q.Type == schema.PartJSON {
						_ = json.Unmarshal(q.JSON, &cmd)
					}
				}
				if !strings.Contains(cmd.Command, "sub-e2e") || cmd.ExitCode == nil || *cmd.ExitCode != 2 {
					r.T.Errorf("the sub-agent's command result does not tell the command and exit code 2: %+v", it.Content)
				}
			}
		}
	}
	if !bash || !write || !result {
		r.T.Errorf("the sub-agent's Bash call (%v), Write call (%v) or command result (%v) is missing:\n%s", bash, write, result, r.dumpFrom(0))
	}
	if got, _ := r.fileContent("sub.txt"); got != "from the sub-agent\n" {
		r.T.Errorf("sub.txt is %q", got)
	}
}

// runClaudeSubagent: a foreground sub-agent. Its tool call and result are
// parented to the Agent call, the model runs its requests separately, and
// the Agent call's result carries the sub-agent's report.
func runClaudeSubagent(r *Run) {
	r.CreateSession()
	evs := r.turn("Delegate the check to a sub-agent.")
	call := r.subagentCall(evs)
	r.checkSubagentItems(evs, call)
	var report string
	for _, it := range completedItems(evs, schema.KindToolResult, "") {
		for _, p := range it.Content {
			if p.Type == schema.PartToolResult && p.CallID == schema.Deref(call.NativeItemID) {
				report = p.Output
				if it.ParentID != nil {
					r.T.Errorf("the Agent call's result is parented to %s; it belongs to the main agent", *it.ParentID)
				}
			}
		}
	}
	if !strings.Contains(report, "Sub-agent: the command printed sub-e2e-42.") {
		r.T.Errorf("the Agent call's result lacks the sub-agent's report: %q", report)
	}
	if !strings.Contains(assistantText(evs), "The sub-agent reported sub-e2e-42.") {
		r.T.Errorf("final text missing: %q", assistantText(evs))
	}
	var subReqs int
	for _, q := range r.LLM.ModelRequests() {
		if strings.Contains(q.SystemText(), "cc_is_subagent=true") {
			subReqs++
			if !strings.Contains(q.LastUserText(), "Run echo sub-e2e and report.") {
				r.T.Errorf("a sub-agent request lacks the sub-agent's prompt: %q", trunc(q.LastUserText(), 300))
			}
		}
	}
	if subReqs != 3 {
		r.T.Errorf("%d sub-agent model requests, want 3", subReqs)
	}
}

// runClaudeSubagentBackground: the default in 2.1.332. The Agent call
// returns at once and the turn ends; the sub-agent's items still hang
// under the Agent call; when it finishes the CLI starts a turn of its own
// to tell the model, which becomes a balanced turn.started … turn.ended;
// then the session takes the next message.
func runClaudeSubagentBackground(r *Run) {
	r.CreateSession()
	mark := r.Mark()
	r.Send("Delegate the check to a background sub-agent.")
	first := r.turnEnded(mark)
	call := r.subagentCall(first)
	if !strings.Contains(assistantText(first), "Started it in the background.") {
		r.T.Errorf("first turn said %q", assistantText(first))
	}
	r.Next("the CLI's own turn.started", isType(schema.EventTurnStarted))
	evs := r.turnEnded(mark)
	if !strings.Contains(assistantText(evs), "The sub-agent reported sub-e2e-42.") {
		r.T.Errorf("the CLI's own turn did not carry the report: %q", assistantText(evs))
	}
	r.checkSubagentItems(evs, call)
	// Every item is over by the end of the CLI's turn, and every turn is
	// balanced.
	open := map[string]bool{}
	for _, ev := range evs {
		if it, ok := itemOf(ev); ok {
			open[it.ItemID] = ev.Type == schema.EventItemStarted
		}
	}
	for id, o := range open {
		if o {
			r.T.Errorf("item %s is still open after the CLI's turn", id)
		}
	}
	if got := assistantText(r.turn("Anything else?")); !strings.Contains(got, "Nothing else.") {
		r.T.Errorf("the turn after the background agent said %q", got)
	}
	all := r.Events()
	started, ended := len(ofType(all, schema.EventTurnStarted)), len(ofType(all, schema.EventTurnEnded))
	if started != 3 || ended != 3 {
		r.T.Errorf("%d turn.started and %d turn.ended, want 3 of each (two sent, one the CLI's own):\n%s", started, ended, r.dumpFrom(0))
	}
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// --- several questions, then a denied write

var claudeQuestions = fakellm.AskUserQuestion(
	fakellm.NewQuestion("Color", "Which color should we use?", "Red", "Blue"),
	fakellm.Question{Header: "Sizes", Question: "Which sizes should we make?", MultiSelect: true,
		Options: []fakellm.Choice{{Label: "S", Description: "small"}, {Label: "M", Description: "medium"}, {Label: "L", Description: "large"}}},
)

// runClaudeQuestions: one AskUserQuestion call with two questions (the
// second multi-select) becomes two question.requested events whose
// metadata tells them apart; the model gets both answers keyed by question
// text. Then a Write the user denies: the file is not written and the
// model is told.
func runClaudeQuestions(r *Run) {
	r.CreateSession()
	mark := r.Mark()
	r.Send("Ask me about color and sizes, then write sizes.txt.")
	evs := []*schema.QuestionEventData{
		questionOf(r.Next("question 1", isType(schema.EventQuestionRequested))),
		questionOf(r.Next("question 2", isType(schema.EventQuestionRequested))),
	}
	type meta struct {
		Header             string            `json:"header"`
		MultiSelect        bool              `json:"multiSelect"`
		QuestionIndex      int               `json:"questionIndex"`
		QuestionCount      int               `json:"questionCount"`
		OptionDescriptions map[string]string `json:"optionDescriptions"`
	}
	var ms [2]meta
	for i, q := range evs {
		if err := json.Unmarshal(q.Metadata, &ms[i]); err != nil {
			r.T.Fatalf("question %d metadata %s: %v", i+1, q.Metadata, err)
		}
	}
	if ms[0].MultiSelect || !ms[1].MultiSelect || ms[0].Header != "Color" || ms[1].Header != "Sizes" ||
		ms[1].QuestionIndex != 1 || ms[1].QuestionCount != 2 || ms[1].OptionDescriptions["M"] != "medium" {
		r.T.Errorf("question metadata %s / %s does not describe the questions", evs[0].Metadata, evs[1].Metadata)
	}
	if !containsAll(evs[1].Options, "S", "M", "L") {
		r.T.Errorf("second question's options %q", evs[1].Options)
	}
	r.replyQuestion(evs[0].QuestionID, [][]string{{"Red"}})
	r.replyQuestion(evs[1].QuestionID, [][]string{{"S", "M"}})
	p := permissionOf(r.Next("permission.requested for the Write", isType(schema.EventPermissionRequested)))
	if p.Action != "Write" {
		r.T.Errorf("permission for %q, want Write", p.Action)
	}
	r.replyPermission(p.PermissionID, schema.ReplyReject)
	r.turnEnded(mark)
	got := joinResults(r.StepRequest(1).LatestToolResults())
	if !strings.Contains(got, `"Which color should we use?"="Red"`) || !strings.Contains(got, `"Which sizes should we make?"="S, M"`) {
		r.T.Errorf("the model did not get both answers: %q", got)
	}
	if _, ok := r.fileContent("sizes.txt"); ok {
		r.T.Errorf("the denied Write ran")
	}
	res := r.StepRequest(2).LatestToolResults()
	if len(res) != 1 || !res[0].IsError || !strings.Contains(res[0].Output, "Permission denied by the user.") {
		r.T.Errorf("the model was not told the Write was denied: %q", joinResults(res))
	}
}

// --- API errors

// claudeFailures: the CLI names the API's errors by kind.
var claudeFailures = []apiFailure{
	{fakellm.APIError{Status: 401, Message: "invalid x-api-key", NoRetry: true}, "authentication_failed", ""},
	{fakellm.APIError{Status: 429, Message: "e2e: rate limited", NoRetry: true}, "rate_limit", ""},
	{fakellm.APIError{Status: 529, Message: "Overloaded", NoRetry: true}, "overloaded", ""},
}

var claudeAPIErrors = apiFailures(claudeFailures...)

func runClaudeAPIErrors(r *Run) { r.checkAPIFailures(claudeFailures...) }

// --- server restart with a durable store (issue 16)

func runClaudeServerRestart(r *Run) {
	r.CreateSession()
	r.turn("Remember the code word PAPAYA.")
	native := r.nativeID()
	r.Send("Take your time.")
	r.StepRequest(1) // the CLI is mid-turn, waiting for the model
	seen := r.Events()
	if err := r.srv.Process.Kill(); err != nil {
		r.T.Fatal(err)
	}
	<-r.srvDone
	r.srvLog.Close()
	r.startServer()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	info, err := r.C.Session(ctx, r.SessionID)
	if err != nil {
		r.T.Fatalf("session after the restart: %v\n%s", err, r.serverLogTail())
	}
	if !info.Detached || info.Ended {
		r.T.Fatalf("after the restart: detached %v, ended %v", info.Detached, info.Ended)
	}
	page, err := r.C.Events(ctx, r.SessionID, client.EventsQuery{IncludeRaw: true})
	if err != nil {
		r.T.Fatal(err)
	}
	if len(page.Events) < len(seen) {
		r.T.Fatalf("the client had %d events, the restarted server has %d", len(seen), len(page.Events))
	}
	for i := range seen {
		a, _ := json.Marshal(seen[i])
		b, _ := json.Marshal(page.Events[i])
		if string(a) != string(b) {
			r.T.Fatalf("event %d changed across the restart:\n%s\n%s", i, a, b)
		}
	}
	r.Send("What was the code word?")
	var evs []schema.Event
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(100 * time.Millisecond) {
		page, err = r.C.Events(ctx, r.SessionID, client.EventsQuery{})
		if err != nil {
			r.T.Fatal(err)
		}
		evs = page.Events
		if n := len(evs); n > 0 && evs[n-1].Type == schema.EventTurnEnded && strings.Contains(assistantText(evs), "The code word was PAPAYA.") {
			break
		}
		if time.Now().After(deadline) {
			r.T.Fatalf("the resumed turn did not end with the answer: %s", r.serverLogTail())
		}
	}
	restarted := false
	for _, ev := range evs {
		if d, ok := ev.Data.(*schema.ErrorData); ok && schema.Deref(d.Code) == "agent_restarted" {
			restarted = true
		}
	}
	if !restarted {
		r.T.Error("the turn cut by the restart did not end with an agent_restarted error")
	}
	for _, err := range invariants.Check(evs, invariants.Idle) {
		r.T.Errorf("lifecycle invariant after the restart: %v", err)
	}
	if now := r.claudeProc(); !strings.Contains(now.Cmd, "--resume "+native) {
		r.T.Errorf("the new process does not resume %s: %s", native, now.Cmd)
	}
	r.checkHistory(r.StepRequest(2), "Remember the code word PAPAYA.", "Noted: the code word is PAPAYA.",
		"the resumed session's model request lacks turn 1")
}
