package claude

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/streamjson"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Human in the loop. With --permission-prompt-tool stdio the CLI asks
// before every tool call that needs approval with a can_use_tool control
// request, and waits for our control_response.
//
//   - Ordinary tools → permission.requested: permission_id = the request
//     id, action = the tool name, metadata {toolName, input,
//     permissionSuggestions, blockedPath, toolUseId, description,
//     displayName?, decisionReason?}.
//   - AskUserQuestion → one question.requested per question, no
//     permission.requested: the tool's approval is the answer. Metadata:
//     {toolName, toolUseId, questionIndex, questionCount, multiSelect,
//     header?, optionDescriptions?}. The CLI expects allow with
//     updatedInput = input + {"answers": {<question text>: <label>}}
//     (several labels of a multi-select question joined with ", "). The
//     control_response goes out once every question of the request is
//     answered; rejecting any of them denies the tool.
//   - ExitPlanMode → one question.requested "approve"/"reject" whose prompt
//     carries the plan (metadata {toolName, toolUseId, questionIndex,
//     questionCount, plan}). approve → allow, plus a setMode update that
//     leaves plan mode (PlanExitMode); reject → deny, so the agent stays in
//     plan mode; any other answer → deny with that answer as feedback.
//
// A request the CLI withdraws (control_cancel_request, as 2.1.332 does on
// an interrupt while it waits) resolves as rejected: permission.resolved,
// or question.resolved for each question not answered yet.
//
// Question ids are "<request id>.q<index>" (index from 0 in the order of
// input.questions); ExitPlanMode's only question is "<request id>.q0".

// RequestKind says what a can_use_tool request became.
type RequestKind int

// Request kinds.
const (
	KindPermission RequestKind = iota + 1
	KindAskUser
	KindPlan
)

// Request is a pending can_use_tool request.
type Request struct {
	ID          string
	Kind        RequestKind
	ToolName    string
	ToolUseID   string
	Input       json.RawMessage
	Suggestions json.RawMessage
	Questions   []Question

	answers [][]string      // per question; nil until answered
	meta    json.RawMessage // permission.requested metadata
	plan    string          // ExitPlanMode's plan
}

// Question is one question of an AskUserQuestion or ExitPlanMode request.
type Question struct {
	ID          string
	Prompt      string
	Header      string
	Options     []string
	MultiSelect bool
	// Descriptions are the options' descriptions by label, when any.
	Descriptions map[string]string

	meta json.RawMessage // question.requested (and resolved) metadata
}

type questionRef struct {
	request string
	index   int
}

// QuestionID is the question id of question i of request requestID.
func QuestionID(requestID string, i int) string {
	return fmt.Sprintf("%s.q%d", requestID, i)
}

func (c *Converter) controlRequest(l controlRequestLine, raw json.RawMessage) ([]agent.Draft, error) {
	var req canUseTool
	if err := json.Unmarshal(l.Request, &req); err != nil {
		return nil, err
	}
	if req.Subtype != "can_use_tool" {
		c.unanswered = append(c.unanswered, l.RequestID)
		return nil, fmt.Errorf("unsupported subtype %q", req.Subtype)
	}
	if l.RequestID == "" {
		return nil, fmt.Errorf("no request_id")
	}
	r := &Request{
		ID:          l.RequestID,
		ToolName:    req.ToolName,
		ToolUseID:   req.ToolUseID,
		Input:       streamjson.CompactJSON(req.Input),
		Suggestions: req.PermissionSuggestions,
	}
	c.reqs[r.ID] = r
	switch req.ToolName {
	case "AskUserQuestion":
		r.Kind = KindAskUser
		r.Questions = askQuestions(r.ID, r.Input)
	case "ExitPlanMode":
		r.Kind = KindPlan
		var in struct {
			Plan string `json:"plan"`
		}
		_ = json.Unmarshal(r.Input, &in)
		r.plan = in.Plan
		prompt := "Approve the plan and leave plan mode?"
		if strings.TrimSpace(in.Plan) != "" {
			prompt = "Approve this plan and leave plan mode?\n\n" + in.Plan
		}
		r.Questions = []Question{{ID: QuestionID(r.ID, 0), Prompt: prompt, Options: []string{"approve", "reject"}}}
	default:
		r.Kind = KindPermission
		meta := map[string]any{
			"toolName":              req.ToolName,
			"input":                 r.Input,
			"permissionSuggestions": streamjson.RawOr(req.PermissionSuggestions, "[]"),
			"blockedPath":           req.BlockedPath,
			"toolUseId":             req.ToolUseID,
			"description":           req.Description,
		}
		if req.DisplayName != "" && req.DisplayName != req.ToolName {
			meta["displayName"] = req.DisplayName
		}
		if len(req.DecisionReason) > 0 {
			meta["decisionReason"] = req.DecisionReason
		}
		r.meta = streamjson.MustJSON(meta)
		return []agent.Draft{{
			Type: schema.EventPermissionRequested,
			Data: &schema.PermissionEventData{
				PermissionID: r.ID,
				Action:       req.ToolName,
				Status:       schema.PermissionRequested,
				Metadata:     r.meta,
			},
			Raw: raw,
		}}, nil
	}
	r.answers = make([][]string, len(r.Questions))
	out := make([]agent.Draft, 0, len(r.Questions))
	for i := range r.Questions {
		q := &r.Questions[i]
		q.meta = questionMeta(r, i)
		c.qs[q.ID] = questionRef{request: r.ID, index: i}
		out = append(out, agent.Draft{
			Type: schema.EventQuestionRequested,
			Data: &schema.QuestionEventData{
				QuestionID: q.ID,
				Prompt:     q.Prompt,
				Options:    q.Options,
				Status:     schema.QuestionRequested,
				Metadata:   q.meta,
			},
			Raw: raw,
		})
	}
	return out, nil
}

// questionMeta is the metadata of question i of r: what a client needs
// to ask it the way the agent meant (header, multi-select, option
// descriptions), and which of the request's questions it is; for a plan
// approval, the plan.
func questionMeta(r *Request, i int) json.RawMessage {
	q := r.Questions[i]
	meta := map[string]any{
		"toolName":      r.ToolName,
		"toolUseId":     r.ToolUseID,
		"questionIndex": i,
		"questionCount": len(r.Questions),
	}
	switch r.Kind {
	case KindPlan:
		meta["plan"] = r.plan
	default:
		meta["multiSelect"] = q.MultiSelect
		if q.Header != "" {
			meta["header"] = q.Header
		}
		if len(q.Descriptions) > 0 {
			meta["optionDescriptions"] = q.Descriptions
		}
	}
	return streamjson.MustJSON(meta)
}

// askQuestions reads AskUserQuestion's input; a malformed input still
// gives one question, so the request can be answered or rejected.
func askQuestions(requestID string, input json.RawMessage) []Question {
	var in askInput
	_ = json.Unmarshal(input, &in)
	var qs []Question
	for i, q := range in.Questions {
		opts := make([]string, 0, len(q.Options))
		var desc map[string]string
		for _, o := range q.Options {
			opts = append(opts, o.Label)
			if o.Description != "" {
				if desc == nil {
					desc = map[string]string{}
				}
				desc[o.Label] = o.Description
			}
		}
		qs = append(qs, Question{ID: QuestionID(requestID, i), Prompt: q.Question, Header: q.Header, Options: opts,
			MultiSelect: q.MultiSelect, Descriptions: desc})
	}
	if len(qs) == 0 {
		prompt := in.Question
		if prompt == "" {
			prompt = "The agent asks for your input."
		}
		qs = []Question{{ID: QuestionID(requestID, 0), Prompt: prompt, Options: in.Options}}
	}
	return qs
}

// withdrawn settles a request the CLI took back (control_cancel_request,
// e.g. on an interrupt while it waits for an answer): nobody can answer it
// any more, so it resolves as rejected.
func (c *Converter) withdrawn(id string, raw json.RawMessage) []agent.Draft {
	r := c.reqs[id]
	if r == nil {
		return nil
	}
	c.cancelRequest(id)
	if r.Kind == KindPermission {
		return []agent.Draft{{Type: schema.EventPermissionResolved, Raw: raw, Data: &schema.PermissionEventData{
			PermissionID: r.ID, Action: r.ToolName, Status: schema.PermissionReject, Metadata: r.meta}}}
	}
	var out []agent.Draft
	for i, q := range r.Questions {
		if r.answers[i] != nil {
			continue // already answered (and resolved) on our side
		}
		out = append(out, agent.Draft{Type: schema.EventQuestionResolved, Raw: raw, Data: &schema.QuestionEventData{
			QuestionID: q.ID, Prompt: q.Prompt, Options: q.Options, Status: schema.QuestionRejected, Metadata: q.meta}})
	}
	return out
}

func (c *Converter) cancelRequest(id string) {
	if r := c.reqs[id]; r != nil {
		for _, q := range r.Questions {
			delete(c.qs, q.ID)
		}
		delete(c.reqs, id)
	}
}

// Unanswered returns, once, the ids of control requests the converter
// could not handle (reported as agent.unparsed); the adapter refuses them
// with ErrorResponseLine so the CLI does not wait.
func (c *Converter) Unanswered() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := c.unanswered
	c.unanswered = nil
	return ids
}

// Pending returns a copy of the pending request with the given id.
func (c *Converter) Pending(id string) (Request, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reqs[id]
	if r == nil {
		return Request{}, false
	}
	return *r, true
}

// errGone reports a reply to a request the CLI no longer waits for.
func errGone(id string) error {
	return agent.Errorf(agent.ErrInvalidRequest, "claude is not waiting for request %q", id)
}

// AnswerPermission returns the control_response line for a permission
// reply: once → allow; always → allow with the CLI's suggested rules
// (addRules, addDirectories) scoped to the session, so it stops asking;
// reject → deny.
func (c *Converter) AnswerPermission(id string, reply schema.PermissionReply) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reqs[id]
	if r == nil || r.Kind != KindPermission {
		return nil, errGone(id)
	}
	var line []byte
	switch reply {
	case schema.ReplyOnce:
		line = allowLine(id, r.Input, nil)
	case schema.ReplyAlways:
		line = allowLine(id, r.Input, sessionRules(r.ToolName, r.Suggestions))
	case schema.ReplyReject:
		line = denyLine(id, "Permission denied by the user.")
	default:
		return nil, agent.Errorf(agent.ErrInvalidRequest, "unknown permission reply %q", reply)
	}
	delete(c.reqs, id)
	return line, nil
}

// sessionRules turns the CLI's permission suggestions into updates for the
// rest of the session: rules and directories, never a mode change, never
// written to the project's settings files.
func sessionRules(tool string, suggestions json.RawMessage) []json.RawMessage {
	var all []map[string]json.RawMessage
	_ = json.Unmarshal(suggestions, &all)
	var out []json.RawMessage
	for _, s := range all {
		var t string
		_ = json.Unmarshal(s["type"], &t)
		switch t {
		case "addRules", "replaceRules", "addDirectories":
			s["destination"] = json.RawMessage(`"session"`)
			out = append(out, streamjson.MustJSON(s))
		}
	}
	if len(out) == 0 {
		out = append(out, streamjson.MustJSON(map[string]any{
			"type":        "addRules",
			"rules":       []map[string]string{{"toolName": tool}},
			"behavior":    "allow",
			"destination": "session",
		}))
	}
	return out
}

// AnswerQuestion records the answer to (or rejection of) one question. It
// returns the control_response line once the request is settled: at the
// first rejection, or when every question of it has an answer; until then
// it returns nil.
func (c *Converter) AnswerQuestion(questionID string, answer []string, reject bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ref, ok := c.qs[questionID]
	r := c.reqs[ref.request]
	if !ok || r == nil {
		return nil, errGone(questionID)
	}
	if !reject && len(answer) == 0 {
		return nil, agent.Errorf(agent.ErrInvalidRequest, "question %q: an answer needs at least one option", questionID)
	}
	var line []byte
	switch {
	case r.Kind == KindPlan:
		line = c.planLine(r, answer, reject)
	case reject:
		line = denyLine(r.ID, "The user declined to answer the question.")
	default:
		r.answers[ref.index] = answer
		for _, a := range r.answers {
			if a == nil {
				return nil, nil
			}
		}
		answers := map[string]string{}
		for i, q := range r.Questions {
			answers[q.Prompt] = strings.Join(r.answers[i], ", ")
		}
		line = allowLine(r.ID, withField(r.Input, "answers", answers), nil)
	}
	c.cancelRequest(r.ID)
	return line, nil
}

func (c *Converter) planLine(r *Request, answer []string, reject bool) []byte {
	choice := ""
	if len(answer) > 0 {
		choice = strings.TrimSpace(strings.Join(answer, ", "))
	}
	switch strings.ToLower(choice) {
	case "approve", "approved", "yes", "accept", "ok":
		if !reject {
			mode := c.PlanExitMode
			if mode == "" {
				mode = "default"
			}
			update := streamjson.MustJSON(map[string]string{"type": "setMode", "mode": mode, "destination": "session"})
			return allowLine(r.ID, r.Input, []json.RawMessage{update})
		}
	case "", "reject", "rejected", "no", "deny":
	default:
		if !reject {
			return denyLine(r.ID, "The user rejected the plan: "+choice)
		}
	}
	return denyLine(r.ID, "The user rejected the plan. Stay in plan mode and revise it.")
}

// withField returns the JSON object obj with key set to v.
func withField(obj json.RawMessage, key string, v any) json.RawMessage {
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal(obj, &m)
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	m[key] = streamjson.MustJSON(v)
	return streamjson.MustJSON(m)
}
