package opencode

import (
	"encoding/json"
	"fmt"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Permissions and questions. OpenCode asks on the bus (permission.asked,
// question.asked) and takes replies at POST /permission/{id}/reply and
// POST /question/{id}/reply|reject; it confirms every reply with a
// permission.replied / question.replied / question.rejected event. The
// session emits the resolved events for replies that came through us, so
// the converter only speaks for requests settled elsewhere.

func (c *Converter) permissionAsked(p permissionAsked, raw json.RawMessage) []agent.Draft {
	meta := map[string]any{}
	var native map[string]any
	if json.Unmarshal(p.Metadata, &native) == nil {
		for k, v := range native {
			meta[k] = v
		}
	}
	meta["permission"] = p.Permission
	meta["patterns"] = nonNil(p.Patterns)
	meta["always"] = nonNil(p.Always)
	if p.Tool != nil {
		meta["callId"] = p.Tool.CallID
		meta["messageId"] = p.Tool.MessageID
		for id, t := range c.tools {
			if t.callID == p.Tool.CallID {
				meta["toolItemNativeId"] = id
				meta["tool"] = t.name
				if len(t.input) > 0 {
					meta["input"] = t.input
				}
			}
		}
	}
	if p.SessionID != c.sessionID {
		meta["nativeSessionId"] = p.SessionID
	}
	b, _ := json.Marshal(meta)
	d := schema.PermissionEventData{PermissionID: p.ID, Action: p.Permission, Status: schema.PermissionRequested, Metadata: b}
	c.perms[p.ID] = &permReq{data: d}
	return []agent.Draft{{Type: schema.EventPermissionRequested, Data: &d, Raw: raw}}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func permissionStatus(reply string) schema.PermissionStatus {
	switch reply {
	case "once":
		return schema.PermissionAccept
	case "always":
		return schema.PermissionAcceptForSession
	}
	return schema.PermissionReject
}

func (c *Converter) permissionReplied(p replied, raw json.RawMessage) []agent.Draft {
	r := c.perms[p.RequestID]
	if r == nil {
		return nil // another session's, or already settled
	}
	delete(c.perms, p.RequestID)
	if r.answered {
		return nil
	}
	d := r.data
	d.Status = permissionStatus(p.Reply)
	return []agent.Draft{{Type: schema.EventPermissionResolved, Data: &d, Raw: raw}}
}

// AnswerPermission records that we reply to permission id and returns
// OpenCode's reply word.
func (c *Converter) AnswerPermission(id string, reply schema.PermissionReply) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.perms[id]
	if r == nil || r.answered {
		return "", agent.Errorf(agent.ErrInvalidRequest, "permission %s is not pending", id)
	}
	var word string
	switch reply {
	case schema.ReplyOnce:
		word = "once"
	case schema.ReplyAlways:
		word = "always"
	case schema.ReplyReject:
		word = "reject"
	default:
		return "", agent.Errorf(agent.ErrInvalidRequest, "unknown permission reply %q", reply)
	}
	r.answered = true
	return word, nil
}

// questionID names question i of a request; a request of one question
// keeps the request's own id.
func questionID(request string, i, n int) string {
	if n == 1 {
		return request
	}
	return fmt.Sprintf("%s.q%d", request, i)
}

func (c *Converter) questionAsked(p questionAsked, raw json.RawMessage) []agent.Draft {
	n := len(p.Questions)
	if n == 0 {
		return []agent.Draft{agent.Unparsed("opencode", "question.asked without questions", raw)}
	}
	r := &questionReq{id: p.ID, answers: make([][]string, n), got: make([]bool, n)}
	out := make([]agent.Draft, 0, n)
	for i, q := range p.Questions {
		opts := make([]string, 0, len(q.Options))
		descs := make([]string, 0, len(q.Options))
		for _, o := range q.Options {
			opts = append(opts, o.Label)
			descs = append(descs, o.Description)
		}
		meta := map[string]any{"header": q.Header, "multiSelect": q.Multiple, "optionDescriptions": descs,
			"requestId": p.ID, "index": i, "count": n, "custom": q.Custom == nil || *q.Custom}
		if p.Tool != nil {
			meta["callId"] = p.Tool.CallID
		}
		b, _ := json.Marshal(meta)
		d := schema.QuestionEventData{QuestionID: questionID(p.ID, i, n), Prompt: q.Question, Options: opts,
			Status: schema.QuestionRequested, Metadata: b}
		r.questions = append(r.questions, d)
		c.qids[d.QuestionID] = qref{request: p.ID, index: i}
		out = append(out, agent.Draft{Type: schema.EventQuestionRequested, Data: &d, Raw: raw})
	}
	c.qs[p.ID] = r
	return out
}

func (c *Converter) questionSettled(p replied, rejected bool, raw json.RawMessage) []agent.Draft {
	r := c.qs[p.RequestID]
	if r == nil {
		return nil
	}
	c.forgetQuestion(r)
	if r.answered {
		return nil
	}
	out := make([]agent.Draft, 0, len(r.questions))
	for i, q := range r.questions {
		d := q
		if rejected {
			d.Status = schema.QuestionRejected
		} else {
			d.Status = schema.QuestionAnswered
			if i < len(p.Answers) {
				b, _ := json.Marshal(p.Answers[i])
				d.Response = schema.Ptr(string(b))
			}
		}
		out = append(out, agent.Draft{Type: schema.EventQuestionResolved, Data: &d, Raw: raw})
	}
	return out
}

func (c *Converter) forgetQuestion(r *questionReq) {
	delete(c.qs, r.id)
	for _, q := range r.questions {
		delete(c.qids, q.QuestionID)
	}
}

// QuestionReply is what to send OpenCode for a question request.
type QuestionReply struct {
	RequestID string
	Reject    bool
	Answers   [][]string
}

// AnswerQuestion records the answer to (or rejection of) question id. It
// returns ok=false while other questions of the same request still wait
// for their answers: OpenCode takes all answers of a request at once. A
// rejection rejects the whole request.
func (c *Converter) AnswerQuestion(id string, answers []string, reject bool) (QuestionReply, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ref, ok := c.qids[id]
	r := c.qs[ref.request]
	if !ok || r == nil || r.answered || r.got[ref.index] {
		return QuestionReply{}, false, agent.Errorf(agent.ErrInvalidRequest, "question %s is not pending", id)
	}
	if reject {
		r.answered = true
		return QuestionReply{RequestID: r.id, Reject: true}, true, nil
	}
	r.got[ref.index] = true
	r.answers[ref.index] = nonNil(answers)
	for _, g := range r.got {
		if !g {
			return QuestionReply{}, false, nil
		}
	}
	r.answered = true
	return QuestionReply{RequestID: r.id, Answers: r.answers}, true, nil
}
