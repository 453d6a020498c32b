package codex

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Plan approval. Codex has no request for it: in plan mode the model ends
// its turn with a plan (a plan item, or <proposed_plan> in its message).
// The adapter then holds the turn open and asks the user, as a question
// with Approve and Reject; approval starts the implementation in the same
// turn with the workspace writable, rejection ends the turn.

const (
	planApprove = "Approve"
	planReject  = "Reject"
	planGo      = "The plan is approved. Implement it now."
)

var proposedPlan = regexp.MustCompile(`(?s)<proposed_plan>\s*(.*?)\s*</proposed_plan>`)

// planOf returns the plan a completed item proposes, if any.
func planOf(params json.RawMessage) string {
	var n itemNotification
	if json.Unmarshal(params, &n) != nil {
		return ""
	}
	var it threadItem
	if json.Unmarshal(n.Item, &it) != nil {
		return ""
	}
	switch it.Type {
	case "plan":
		return strings.TrimSpace(it.Text)
	case "agentMessage":
		if m := proposedPlan.FindStringSubmatch(it.Text); m != nil {
			return m[1]
		}
	}
	return ""
}

// heldPlan is a plan waiting for the user, with the turn end it holds back.
type heldPlan struct {
	id    string
	plan  string
	ended agent.Draft
}

// askPlan replaces the turn.ended of a plan-mode turn that proposed a plan
// with a question; called with c.events held.
func (c *conn) askPlan(drafts []agent.Draft, raw json.RawMessage) []agent.Draft {
	c.mu.Lock()
	plan := c.plan
	c.plan = ""
	ask := plan != "" && c.pol.plan && !c.planApproved
	c.mu.Unlock()
	n := len(drafts)
	if !ask || n == 0 || drafts[n-1].Type != schema.EventTurnEnded {
		return drafts
	}
	c.mu.Lock()
	c.planN++
	id := "plan:" + c.threadID + ":" + strconv.Itoa(c.planN)
	c.held = &heldPlan{id: id, plan: plan, ended: drafts[n-1]}
	c.mu.Unlock()
	q := schema.QuestionEventData{
		QuestionID: id, Prompt: "Approve this plan?\n\n" + plan, Options: []string{planApprove, planReject},
		Status: schema.QuestionRequested, Metadata: mustJSON(map[string]any{"kind": "plan_approval", "plan": plan}),
	}
	return append(drafts[:n-1], agent.Draft{Type: schema.EventQuestionRequested, Data: &q, Raw: raw})
}

// answerPlan settles a held plan; it reports false when id is not one.
func (c *conn) answerPlan(r agent.Reply) (bool, error) {
	c.mu.Lock()
	h := c.held
	if h == nil || h.id != r.ID {
		c.mu.Unlock()
		return false, nil
	}
	c.held = nil
	approved := !r.Reject && len(r.Answers) > 0 && len(r.Answers[0]) > 0 &&
		strings.EqualFold(strings.TrimSpace(r.Answers[0][0]), planApprove)
	if approved {
		c.planApproved = true
		c.starting = true
	}
	c.mu.Unlock()
	if !approved {
		c.emit(h.ended)
		go c.next()
		return true, nil
	}
	go func() {
		ctx, cancel := contextForTurn()
		defer cancel()
		if err := c.startTurn(ctx, agent.Prompt{Text: planGo}); err != nil {
			c.emit(agent.ErrorEvent(err.Error(), "send_failed", nil, nil), h.ended)
		}
	}()
	return true, nil
}

// releasePlan ends a turn whose plan question is still open (interrupt).
func (c *conn) releasePlan() {
	c.mu.Lock()
	h := c.held
	c.held = nil
	c.mu.Unlock()
	if h != nil {
		c.emit(h.ended)
	}
}
