package codex

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// hitl answers a server request at once when the session's permission
// mode already decided it (auto), or turns it into a permission or
// question draft kept pending until Answer. Called with c.events held.
func (c *conn) hitl(in *rpc, id json.RawMessage, method string, params, raw json.RawMessage) ([]agent.Draft, any, error) {
	if method == reqFileApproval && c.pol.autoEdits {
		return nil, decisionResponse{Decision: "acceptForSession"}, nil
	}
	r, err := c.conv.Request(id, method, params, raw)
	if err != nil {
		return nil, nil, err
	}
	c.hold(r.ID, pendingReq{rpc: in, id: id, method: method, qids: r.QuestionIDs})
	return r.Drafts, nil, nil
}

// HeldRequest is what Converter.Request makes of a server request.
type HeldRequest struct {
	// ID is the permission or question id the user answers.
	ID string
	// QuestionIDs are the CLI's question ids, in the order of the answers.
	QuestionIDs []string
	Drafts      []agent.Draft
}

// Request converts a server request (approval, user input) into a
// permission.requested or question.requested draft.
func (c *Converter) Request(id json.RawMessage, method string, params, raw json.RawMessage) (HeldRequest, error) {
	out, err := c.request(id, method, params, raw)
	for i := range out.Drafts {
		out.Drafts[i].NativeSessionID = c.threadID
	}
	return out, err
}

func (c *Converter) request(id json.RawMessage, method string, params, raw json.RawMessage) (HeldRequest, error) {
	switch method {
	case reqCommandApproval:
		var r commandApproval
		if err := json.Unmarshal(params, &r); err != nil {
			return HeldRequest{}, err
		}
		pid := requestID(r.ItemID, id)
		md := approvalMeta("commandExecution", id, r.approvalRef, r.Reason)
		if r.Command != nil {
			md["command"] = *r.Command
		}
		if r.Cwd != nil {
			md["cwd"] = *r.Cwd
		}
		if len(r.Actions) > 0 {
			md["commandActions"] = r.Actions
		}
		return HeldRequest{ID: pid, Drafts: []agent.Draft{permissionDraft(pid, "commandExecution", md, raw)}}, nil
	case reqFileApproval:
		var r fileApproval
		if err := json.Unmarshal(params, &r); err != nil {
			return HeldRequest{}, err
		}
		pid := requestID(r.ItemID, id)
		md := approvalMeta("fileChange", id, r.approvalRef, r.Reason)
		if r.GrantRoot != nil {
			md["grantRoot"] = *r.GrantRoot
		}
		if paths := c.changePaths(r.ItemID); len(paths) > 0 {
			md["paths"] = paths
		}
		return HeldRequest{ID: pid, Drafts: []agent.Draft{permissionDraft(pid, "fileChange", md, raw)}}, nil
	case reqUserInput:
		var r userInputRequest
		if err := json.Unmarshal(params, &r); err != nil {
			return HeldRequest{}, err
		}
		if len(r.Questions) == 0 {
			return HeldRequest{}, fmt.Errorf("requestUserInput without questions")
		}
		qid := requestID(r.ItemID, id)
		var prompts, options, ids []string
		for _, q := range r.Questions {
			prompts = append(prompts, q.Question)
			ids = append(ids, q.ID)
		}
		// The options shown are the first question's; every question with
		// its own options is in the metadata.
		for _, o := range r.Questions[0].Options {
			options = append(options, o.Label)
		}
		md := map[string]any{
			"codexRequestId": id, "threadId": r.ThreadID, "turnId": r.TurnID, "itemId": r.ItemID,
			"header": r.Questions[0].Header, "questions": r.Questions,
		}
		q := schema.QuestionEventData{
			QuestionID: qid, Prompt: strings.Join(prompts, "\n"), Options: options,
			Status: schema.QuestionRequested, Metadata: mustJSON(md),
		}
		return HeldRequest{ID: qid, QuestionIDs: ids, Drafts: []agent.Draft{{Type: schema.EventQuestionRequested, Data: &q, Raw: raw}}}, nil
	}
	return HeldRequest{}, fmt.Errorf("unsupported server request %q", method)
}

// approvalMeta is the metadata every approval carries (the keys the
// reference used: codexRequestKind also keys the session's "always" cache).
func approvalMeta(kind string, id json.RawMessage, ref approvalRef, reason *string) map[string]any {
	md := map[string]any{
		"codexRequestKind": kind, "codexRequestId": id,
		"threadId": ref.ThreadID, "turnId": ref.TurnID, "itemId": ref.ItemID,
	}
	if reason != nil {
		md["reason"] = *reason
	}
	return md
}

// requestID is the permission or question id of a request: the item it is
// about (unique per call), else the JSON-RPC id.
func requestID(itemID string, id json.RawMessage) string {
	if itemID != "" {
		return itemID
	}
	return strings.Trim(string(id), `"`)
}

func permissionDraft(id, action string, md map[string]any, raw json.RawMessage) agent.Draft {
	return agent.Draft{Type: schema.EventPermissionRequested, Raw: raw, Data: &schema.PermissionEventData{
		PermissionID: id, Action: action, Status: schema.PermissionRequested, Metadata: mustJSON(md),
	}}
}

func (c *conn) hold(id string, p pendingReq) {
	c.mu.Lock()
	c.pending[id] = p
	c.mu.Unlock()
}

// withdrawAll forgets the requests of a turn that ended; the session
// resolves whatever is still pending as rejected.
func (c *conn) withdrawAll(json.RawMessage) {
	c.mu.Lock()
	clear(c.pending)
	c.mu.Unlock()
}

// Answer sends a permission decision or the answers to a question back in
// the CLI's shape.
func (c *conn) Answer(ctx context.Context, r agent.Reply) error {
	if r.Kind == agent.ReplyQuestion {
		if ok, err := c.answerPlan(r); ok {
			return err
		}
	}
	c.mu.Lock()
	p, ok := c.pending[r.ID]
	c.mu.Unlock()
	if !ok {
		return agent.Errorf(agent.ErrInvalidRequest, "no pending codex request %q", r.ID)
	}
	var result any
	switch r.Kind {
	case agent.ReplyPermission:
		if p.method == reqUserInput {
			return agent.Errorf(agent.ErrInvalidRequest, "%s is a question, not a permission", r.ID)
		}
		d := "decline"
		switch r.Permission {
		case schema.ReplyOnce:
			d = "accept"
		case schema.ReplyAlways:
			d = "acceptForSession"
		}
		result = decisionResponse{Decision: d}
	case agent.ReplyQuestion:
		if p.method != reqUserInput {
			return agent.Errorf(agent.ErrInvalidRequest, "%s is a permission, not a question", r.ID)
		}
		res := userInputResponse{Answers: map[string]userInputAnswer{}}
		if !r.Reject {
			for i, qid := range p.qids {
				if i < len(r.Answers) {
					res.Answers[qid] = userInputAnswer{Answers: append([]string{}, r.Answers[i]...)}
				}
			}
		}
		result = res
	default:
		return agent.Errorf(agent.ErrInvalidRequest, "unknown reply kind")
	}
	if err := p.rpc.Reply(p.id, result); err != nil {
		return agent.Errorf(agent.ErrStream, "answer %s: %v", r.ID, err)
	}
	c.mu.Lock()
	delete(c.pending, r.ID)
	c.mu.Unlock()
	return nil
}
