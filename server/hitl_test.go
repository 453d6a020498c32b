package server_test

import (
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

func lastOf[T any](t *testing.T, evs []schema.Event, typ schema.EventType) (schema.Event, *T) {
	t.Helper()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			d, ok := any(evs[i].Data).(*T)
			if !ok {
				t.Fatalf("%s data is %T", typ, evs[i].Data)
			}
			return evs[i], d
		}
	}
	t.Fatalf("no %s in %v", typ, skeleton(evs))
	return schema.Event{}, nil
}

func TestPermissionFlow(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("p", schema.CreateSessionRequest{Agent: "mock", PermissionMode: schema.Ptr("plan")})
	e.send("p", "List files in the current directory using available tools.")
	evs := e.waitFor("p", 0, isType(schema.EventPermissionRequested))
	_, req := lastOf[schema.PermissionEventData](t, evs, schema.EventPermissionRequested)
	if req.Action != "command_execution" || req.Status != schema.PermissionRequested || req.PermissionID != "mock_1_permission" {
		t.Fatalf("request = %+v", req)
	}
	// Unknown ids are 400 problem documents, as the reference snapshots.
	err := e.c.ReplyPermission(ctxT(t), "p", "missing-permission", schema.ReplyOnce)
	if p := problemOf(t, err); p.Status != 400 || p.Detail != "invalid request: unknown permission id: missing-permission" {
		t.Fatalf("unknown permission: %+v", p)
	}
	if err := e.c.ReplyPermission(ctxT(t), "p", req.PermissionID, schema.ReplyOnce); err != nil {
		t.Fatal(err)
	}
	evs = e.waitFor("p", 0, isType(schema.EventPermissionResolved))
	ev, res := lastOf[schema.PermissionEventData](t, evs, schema.EventPermissionResolved)
	if !ev.Synthetic || res.Status != schema.PermissionAccept || res.PermissionID != req.PermissionID || res.Action != req.Action {
		t.Fatalf("resolved = %+v %+v", ev, res)
	}
	// A second reply to the same id is refused: it is no longer pending.
	if p := problemOf(t, e.c.ReplyPermission(ctxT(t), "p", req.PermissionID, schema.ReplyOnce)); p.Status != 400 {
		t.Fatalf("double reply: %+v", p)
	}
	// The approved turn continues and ends.
	e.waitFor("p", ev.Sequence, isType(schema.EventTurnEnded))
}

func TestPermissionAlwaysAutoApproves(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("a", schema.CreateSessionRequest{Agent: "mock"})
	const prompt = "List files in the current directory using available tools."
	e.send("a", prompt)
	evs := e.waitFor("a", 0, isType(schema.EventPermissionRequested))
	_, req := lastOf[schema.PermissionEventData](t, evs, schema.EventPermissionRequested)
	if err := e.c.ReplyPermission(ctxT(t), "a", req.PermissionID, schema.ReplyAlways); err != nil {
		t.Fatal(err)
	}
	evs = e.waitFor("a", 0, isType(schema.EventTurnEnded))
	if _, res := lastOf[schema.PermissionEventData](t, evs, schema.EventPermissionResolved); res.Status != schema.PermissionAcceptForSession {
		t.Fatalf("always → %q", res.Status)
	}
	last := evs[len(evs)-1].Sequence
	e.send("a", prompt)
	evs = e.waitFor("a", last, isType(schema.EventTurnEnded))
	_, req2 := lastOf[schema.PermissionEventData](t, evs, schema.EventPermissionRequested)
	ev, res := lastOf[schema.PermissionEventData](t, evs, schema.EventPermissionResolved)
	if res.PermissionID != req2.PermissionID || res.Status != schema.PermissionAcceptForSession || !ev.Synthetic {
		t.Fatalf("second permission not auto-approved: %+v", res)
	}
}

func TestQuestionFlow(t *testing.T) {
	e := startAPI(t, apiOpts{})
	const prompt = "Use the AskUserQuestion tool to ask exactly one yes/no question, then wait for a reply. Do not answer yourself."
	e.create("q", schema.CreateSessionRequest{Agent: "mock", PermissionMode: schema.Ptr("plan"), AgentMode: schema.Ptr("plan")})
	e.send("q", prompt)
	evs := e.waitFor("q", 0, isType(schema.EventQuestionRequested))
	_, q := lastOf[schema.QuestionEventData](t, evs, schema.EventQuestionRequested)
	if len(q.Options) != 2 || q.Status != schema.QuestionRequested {
		t.Fatalf("question = %+v", q)
	}
	for _, err := range []error{
		e.c.ReplyQuestion(ctxT(t), "q", "missing-question", [][]string{{"Yes"}}),
		e.c.RejectQuestion(ctxT(t), "q", "missing-question"),
	} {
		if p := problemOf(t, err); p.Status != 400 || p.Detail != "invalid request: unknown question id: missing-question" {
			t.Fatalf("unknown question: %+v", p)
		}
	}
	if err := e.c.ReplyQuestion(ctxT(t), "q", q.QuestionID, [][]string{{q.Options[0]}}); err != nil {
		t.Fatal(err)
	}
	evs = e.waitFor("q", 0, isType(schema.EventQuestionResolved))
	ev, res := lastOf[schema.QuestionEventData](t, evs, schema.EventQuestionResolved)
	if !ev.Synthetic || res.Status != schema.QuestionAnswered || schema.Deref(res.Response) != q.Options[0] || res.Prompt != q.Prompt {
		t.Fatalf("resolved = %+v", res)
	}

	e.create("q2", schema.CreateSessionRequest{Agent: "mock", PermissionMode: schema.Ptr("plan")})
	e.send("q2", prompt)
	evs = e.waitFor("q2", 0, isType(schema.EventQuestionRequested))
	_, q = lastOf[schema.QuestionEventData](t, evs, schema.EventQuestionRequested)
	if err := e.c.RejectQuestion(ctxT(t), "q2", q.QuestionID); err != nil {
		t.Fatal(err)
	}
	evs = e.waitFor("q2", 0, isType(schema.EventQuestionResolved))
	if _, res := lastOf[schema.QuestionEventData](t, evs, schema.EventQuestionResolved); res.Status != schema.QuestionRejected || res.Response != nil {
		t.Fatalf("rejected = %+v", res)
	}
}

func TestTerminate(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("t", schema.CreateSessionRequest{Agent: "mock"})
	if err := e.c.Terminate(ctxT(t), "t"); err != nil {
		t.Fatal(err)
	}
	evs := e.waitFor("t", 0, isType(schema.EventSessionEnded))
	ev, d := lastOf[schema.SessionEndedData](t, evs, schema.EventSessionEnded)
	if d.Reason != schema.EndTerminated || d.TerminatedBy != schema.ByDaemon || !ev.Synthetic {
		t.Fatalf("ended = %+v", d)
	}
	err := e.c.SendMessage(ctxT(t), "t", schema.MessageRequest{Message: "hi"})
	if p := problemOf(t, err); p.Status != 400 || p.Detail != "invalid request: session terminated" {
		t.Fatalf("send after terminate: %+v", p)
	}
	if err := e.c.Terminate(ctxT(t), "t"); err != nil {
		t.Fatalf("second terminate: %v", err)
	}
	info, _ := e.c.Session(ctxT(t), "t")
	if !info.Ended || info.EventCount != uint64(len(evs)) {
		t.Fatalf("info after terminate = %+v (events %d)", info, len(evs))
	}
}

func TestMockEndEndsSession(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("end", schema.CreateSessionRequest{Agent: "mock"})
	e.send("end", "end")
	evs := e.waitFor("end", 0, isType(schema.EventSessionEnded))
	if _, d := lastOf[schema.SessionEndedData](t, evs, schema.EventSessionEnded); d.Reason != schema.EndCompleted || d.TerminatedBy != schema.ByAgent {
		t.Fatalf("ended = %+v", d)
	}
	if evs[len(evs)-2].Type != schema.EventTurnEnded {
		t.Fatalf("turn not closed before session.ended: %v", skeleton(evs))
	}
	if p := problemOf(t, e.c.SendMessage(ctxT(t), "end", schema.MessageRequest{Message: "again"})); p.Status != 400 {
		t.Fatalf("send after end: %+v", p)
	}
}
