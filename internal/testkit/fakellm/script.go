package fakellm

import (
	"bytes"
	"context"
	"fmt"
)

// SetScenario replaces the scenario and rewinds it to its first step.
// Recorded requests are kept.
func (s *Server) SetScenario(sc Scenario) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scenario, s.cursor = sc, 0
}

// SetSteps is SetScenario(Script(steps...)).
func (s *Server) SetSteps(steps ...Step) { s.SetScenario(Script(steps...)) }

// AddSteps appends steps to the current scenario, e.g. before the next
// prompt of a multi-turn test.
func (s *Server) AddSteps(steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scenario.Steps = append(s.scenario.Steps[:len(s.scenario.Steps):len(s.scenario.Steps)], steps...)
}

// Remaining returns how many scenario steps have not been consumed yet.
func (s *Server) Remaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.scenario.Steps) - s.cursor
}

// Requests returns every request received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// ModelRequests returns the requests that asked the model for a reply
// (scenario steps, fallbacks and side requests), in arrival order.
func (s *Server) ModelRequests() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Served != ServedOther {
			out = append(out, r)
		}
	}
	return out
}

// Reset forgets recorded requests and rewinds the scenario.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs, s.cursor = nil, 0
}

// WaitFor blocks until a recorded request satisfies match (nil matches any)
// and returns the first that does, or fails when ctx ends.
func (s *Server) WaitFor(ctx context.Context, match func(Request) bool) (Request, error) {
	for {
		s.mu.Lock()
		for _, r := range s.reqs {
			if match == nil || match(r) {
				s.mu.Unlock()
				return r, nil
			}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Request{}, fmt.Errorf("fakellm: waiting for a request: %w", ctx.Err())
		}
	}
}

// record appends req to the log and wakes WaitFor.
func (s *Server) record(req *Request) {
	s.mu.Lock()
	s.recordLocked(req)
	s.mu.Unlock()
	s.recorded(req)
}

// recorded reports a request that was just recorded.
func (s *Server) recorded(req *Request) {
	if s.logf != nil {
		s.logf("fakellm: %s", req.summary())
	}
	if s.onReq != nil {
		s.onReq(*req)
	}
}

func (s *Server) recordLocked(req *Request) {
	req.Seq = len(s.reqs)
	s.reqs = append(s.reqs, *req)
	close(s.changed)
	s.changed = make(chan struct{})
}

// take decides what answers a model request and records it: a side rule, the
// next step, or the fallback.
func (s *Server) take(req *Request) Step {
	s.mu.Lock()
	rules := s.scenario.Side
	s.mu.Unlock()
	if rules == nil {
		rules = DefaultSideRules()
	}
	// Rules run user code, so they are evaluated without holding the lock.
	var side *Step
	for _, rule := range rules {
		if rule.Match.Matches(req) {
			reply := rule.Reply
			if reply.isZero() {
				reply = TitleReply()
			}
			side = &reply
			break
		}
	}

	s.mu.Lock()
	var step Step
	switch {
	case side != nil:
		step, req.Served = *side, ServedSide
	case s.cursor < len(s.scenario.Steps):
		step, req.Served, req.Step = s.scenario.Steps[s.cursor], ServedStep, s.cursor
		s.cursor++
	default:
		req.Served = ServedFallback
		step = Text(DefaultText)
		if s.scenario.Fallback != nil {
			step = *s.scenario.Fallback
		}
	}
	s.recordLocked(req)
	s.mu.Unlock()
	s.recorded(req)
	return step
}

// summary is a one-line description for logs.
func (r Request) summary() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "#%d %s %s", r.Seq, r.Method, r.Path)
	if r.Query != "" {
		b.WriteString("?" + r.Query)
	}
	switch r.Served {
	case ServedStep:
		fmt.Fprintf(&b, " → step %d", r.Step)
	case ServedOther:
	default:
		fmt.Fprintf(&b, " → %s", r.Served)
	}
	if r.API != "" && r.Endpoint != "models" {
		fmt.Fprintf(&b, " model=%q tools=%d", r.Model(), len(r.tools))
		if res := r.LatestToolResults(); len(res) > 0 {
			fmt.Fprintf(&b, " tool_results=%d", len(res))
		} else if t := r.LastUserText(); t != "" {
			fmt.Fprintf(&b, " user=%q", tail(t, 80))
		}
	}
	return b.String()
}

// tail keeps the last n runes of s: the prompt is at the end of the user
// text, after any reminders the agent prepends.
func tail(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n:])
}
