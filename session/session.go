package session

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
)

// Session is one conversation with one agent. Its event log is append-only;
// readers hold a cursor and are woken when the log grows, so a slow reader
// loses nothing and slows nobody.
type Session struct {
	id    string
	info  agent.Info
	store store.Store
	log   *slog.Logger
	dir   string // the agent's working directory (absolute)

	mu       sync.Mutex
	rec      store.SessionRecord
	recDirty bool // rec changed beyond updatedAt since it was last stored
	conn     agent.Conn
	ready    bool          // session.started is out; drafts flow straight through
	holding  int           // replies being forwarded; drafts wait for their resolved event
	prebuf   []agent.Draft // drafts held while opening or while a reply is forwarded
	pipe     *pipeline
	last     uint64 // last stored sequence
	count    uint64
	changed  chan struct{} // closed and replaced whenever the log grows
	gone     chan struct{} // closed when the session is deleted
	perms    map[string]*pendingPerm
	quests   map[string]*pendingQuestion
	always   map[string]bool
	closing  bool
	closedCh chan struct{} // closed once conn.Close returned
	enc      encCache      // wire encodings of recent events, shared by readers
}

type pendingPerm struct {
	data      schema.PermissionEventData
	answering bool
}

type pendingQuestion struct {
	data      schema.QuestionEventData
	answering bool
}

// ID returns the client-chosen session id.
func (s *Session) ID() string { return s.id }

// Dir returns the session's working directory (absolute): where its agent
// runs and where relative fs paths of the session resolve.
func (s *Session) Dir() string { return s.dir }

// sink is what the adapter sees of the session.
type sink struct{ s *Session }

func (k sink) Emit(d agent.Draft) { k.s.emit(d) }

func (s *Session) emit(d agent.Draft) {
	s.mu.Lock()
	if !s.ready || s.holding > 0 {
		s.prebuf = append(s.prebuf, d)
		s.mu.Unlock()
		return
	}
	if s.rec.Ended {
		s.mu.Unlock()
		s.log.Debug("draft after session end dropped", "type", d.Type)
		return
	}
	autos, ended := s.processLocked(d)
	s.mu.Unlock()
	s.after(autos, ended)
}

// after starts what processing asked for, outside the lock.
func (s *Session) after(autos []string, ended bool) {
	for _, a := range autos {
		go s.autoApprove(a)
	}
	if ended {
		go s.closeConn(context.Background())
	}
}

// holdLocked makes drafts wait while a reply is forwarded to the agent, so
// that what the agent does in answer comes after the resolved event.
func (s *Session) holdLocked() { s.holding++ }

// releaseLocked ends a hold and processes the drafts that waited.
func (s *Session) releaseLocked() (autos []string, ended bool) {
	s.holding--
	if s.holding > 0 || !s.ready {
		return nil, false
	}
	held := s.prebuf
	s.prebuf = nil
	for _, d := range held {
		if s.rec.Ended {
			break
		}
		a, e := s.processLocked(d)
		autos, ended = append(autos, a...), ended || e
	}
	return autos, ended
}

// processLocked runs a draft through the pipeline, stores and publishes the
// events. It returns the permission ids to auto-approve and whether the
// session ended.
func (s *Session) processLocked(d agent.Draft) (autos []string, ended bool) {
	var evs []schema.Event
	switch d.Type {
	case schema.EventSessionStarted:
		// The session's own session.started is already out (the schema has
		// one per session); the agent's, with its model, tools and modes, is
		// kept on the session info instead of being lost.
		if data, ok := d.Data.(*schema.SessionStartedData); ok && s.pipe.started && len(data.Metadata) > 0 && string(data.Metadata) != "null" {
			s.rec.AgentMetadata = data.Metadata
			s.recDirty = true
		}
	case schema.EventSessionEnded:
		// A turn still running when the agent ends the session is over too.
		evs = s.pipe.turnEnd()
	case schema.EventTurnEnded:
		// A turn that ended is no longer waiting on a human: requests the
		// agent left open were withdrawn, so they resolve as rejected.
		if s.pipe.turn {
			evs = s.withdrawPendingLocked()
		}
	}
	evs = append(evs, s.pipe.run(d)...)
	for _, ev := range evs {
		switch data := ev.Data.(type) {
		case *schema.PermissionEventData:
			if ev.Type == schema.EventPermissionRequested {
				data.Status = schema.PermissionRequested
				p := &pendingPerm{data: *data}
				s.perms[data.PermissionID] = p
				if s.matchesAlways(data) {
					p.answering = true
					autos = append(autos, data.PermissionID)
				}
			} else {
				delete(s.perms, data.PermissionID)
			}
		case *schema.QuestionEventData:
			if ev.Type == schema.EventQuestionRequested {
				data.Status = schema.QuestionRequested
				s.quests[data.QuestionID] = &pendingQuestion{data: *data}
			} else {
				delete(s.quests, data.QuestionID)
			}
		case *schema.SessionEndedData:
			ended = true
			s.markEndedLocked(data.Reason)
		}
	}
	s.appendLocked(evs)
	return autos, ended
}

// withdrawPendingLocked resolves every request not being answered right now
// as rejected, in a stable order.
func (s *Session) withdrawPendingLocked() []schema.Event {
	var evs []schema.Event
	for _, id := range sortedKeys(s.perms) {
		p := s.perms[id]
		if p.answering {
			continue
		}
		delete(s.perms, id)
		evs = append(evs, s.pipe.run(agent.Draft{Type: schema.EventPermissionResolved, Synthetic: true,
			Data: &schema.PermissionEventData{PermissionID: id, Action: p.data.Action, Status: schema.PermissionReject, Metadata: p.data.Metadata}})...)
	}
	for _, id := range sortedKeys(s.quests) {
		q := s.quests[id]
		if q.answering {
			continue
		}
		delete(s.quests, id)
		evs = append(evs, s.pipe.run(agent.Draft{Type: schema.EventQuestionResolved, Synthetic: true,
			Data: &schema.QuestionEventData{QuestionID: id, Prompt: q.data.Prompt, Options: q.data.Options, Status: schema.QuestionRejected, Metadata: q.data.Metadata}})...)
	}
	return evs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *Session) markEndedLocked(reason schema.SessionEndReason) {
	s.rec.Ended = true
	s.rec.EndReason = reason
	s.recDirty = true
	s.pipe.queued = 0
	s.perms = map[string]*pendingPerm{}
	s.quests = map[string]*pendingQuestion{}
}

// appendLocked stores events, then wakes readers: an event is stored before
// any subscriber can see it. The session record is written only when it
// changed (native id, end, agent metadata), not for every event: its
// updatedAt is kept in memory meanwhile.
func (s *Session) appendLocked(evs []schema.Event) {
	if len(evs) == 0 {
		return
	}
	if err := s.store.Append(context.Background(), s.id, evs); err != nil {
		s.log.Error("store append failed; events lost", "err", err, "count", len(evs))
		return
	}
	s.last = evs[len(evs)-1].Sequence
	s.count += uint64(len(evs))
	s.rec.UpdatedAt = time.Now().UnixMilli()
	if s.pipe.native != "" && s.rec.NativeSessionID == nil {
		s.rec.NativeSessionID = schema.Ptr(s.pipe.native)
		s.recDirty = true
	}
	close(s.changed)
	s.changed = make(chan struct{})
	if s.recDirty {
		if err := s.store.PutSession(context.Background(), s.rec); err != nil {
			s.log.Error("store session update failed", "err", err)
		} else {
			s.recDirty = false
		}
	}
}

// daemonLocked records a synthetic event.
func (s *Session) daemonLocked(t schema.EventType, data schema.EventData) {
	evs := s.pipe.run(agent.Draft{Type: t, Data: data, Synthetic: true})
	s.appendLocked(evs)
}

// Info describes the session.
func (s *Session) Info() schema.SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rec
	return schema.SessionInfo{
		SessionID: r.ID, Agent: r.Agent, AgentMode: r.AgentMode, PermissionMode: r.PermissionMode,
		Model: r.Model, Variant: r.Variant, NativeSessionID: r.NativeSessionID, Ended: r.Ended,
		EventCount: s.count, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Directory: r.Directory, Title: r.Title, MCP: r.MCP, Skills: r.Skills, AgentMetadata: r.AgentMetadata,
	}
}

// LastSequence is the sequence of the newest event.
func (s *Session) LastSequence() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Events returns up to limit events after the given sequence (limit <= 0:
// all), and whether more exist beyond them.
func (s *Session) Events(ctx context.Context, after uint64, limit int) ([]schema.Event, bool, error) {
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	if limit == 0 {
		return []schema.Event{}, last > after, nil
	}
	n := limit
	if limit > 0 {
		n = limit + 1
	}
	evs, err := s.store.Events(ctx, s.id, after, n)
	if err != nil {
		return nil, false, err
	}
	more := false
	if limit > 0 && len(evs) > limit {
		evs, more = evs[:limit], true
	}
	return evs, more, nil
}

// Wait blocks until the log holds an event after the given sequence, the
// context ends, or the session is deleted. It reports whether events are
// available.
func (s *Session) Wait(ctx context.Context, after uint64) bool {
	for {
		select {
		case <-s.gone: // deleted: its log is going away, nothing more to read
			return false
		default:
		}
		s.mu.Lock()
		if s.last > after {
			s.mu.Unlock()
			return true
		}
		ch, gone := s.changed, s.gone
		s.mu.Unlock()
		select {
		case <-ch:
		case <-gone:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// Gone is closed when the session is deleted.
func (s *Session) Gone() <-chan struct{} { return s.gone }

// endedErr is the error for a message sent to an ended session.
func (s *Session) endedErrLocked() error {
	if s.rec.EndReason == schema.EndError {
		e := problem.New(problem.AgentProcessExited, "agent process exited: %s", s.info.ID)
		e.Agent, e.SessionID = s.info.ID, s.id
		return e
	}
	e := problem.Invalid("session terminated")
	e.SessionID = s.id
	return e
}

// Send starts a turn with the prompt.
func (s *Session) Send(ctx context.Context, p agent.Prompt) error {
	s.mu.Lock()
	if s.rec.Ended {
		err := s.endedErrLocked()
		s.mu.Unlock()
		return err
	}
	if !s.info.NativeTurns {
		if s.pipe.turn {
			s.pipe.queued++ // its turn.started follows the running turn's end
		} else {
			s.daemonLocked(schema.EventTurnStarted, &schema.TurnEventData{Phase: schema.PhaseStarted})
		}
	}
	conn := s.conn
	s.mu.Unlock()
	if err := conn.Send(ctx, p); err != nil {
		s.mu.Lock()
		if !s.rec.Ended {
			msg := err.Error()
			s.daemonLocked(schema.EventError, &schema.ErrorData{Message: msg, Code: schema.Ptr("send_failed")})
			s.appendLocked(s.pipe.turnEnd())
		}
		s.mu.Unlock()
		return wrapAgentErr(err, s.info.ID, s.id)
	}
	return nil
}

// Interrupt stops the running turn and keeps the session.
func (s *Session) Interrupt(ctx context.Context) error {
	s.mu.Lock()
	if s.rec.Ended {
		err := s.endedErrLocked()
		s.mu.Unlock()
		return err
	}
	conn := s.conn
	before := s.pipe.turnsEnded
	s.mu.Unlock()
	if err := conn.Interrupt(ctx); err != nil {
		return wrapAgentErr(err, s.info.ID, s.id)
	}
	s.mu.Lock()
	if s.pipe.turnsEnded == before && !s.rec.Ended {
		s.appendLocked(s.pipe.turnEnd()) // the agent did not close the turn itself
	}
	s.mu.Unlock()
	return nil
}

// ReplyPermission answers a pending permission request.
func (s *Session) ReplyPermission(ctx context.Context, id string, reply schema.PermissionReply) error {
	s.mu.Lock()
	p, ok := s.perms[id]
	if !ok || p.answering {
		s.mu.Unlock()
		e := problem.Invalid("unknown permission id: %s", id)
		e.SessionID = s.id
		return e
	}
	p.answering = true
	s.mu.Unlock()
	return s.forwardPermission(ctx, id, reply)
}

// autoApprove answers a request that matched an "always" reply; it was
// claimed (answering) when it was stored.
func (s *Session) autoApprove(id string) {
	if err := s.forwardPermission(context.Background(), id, schema.ReplyAlways); err != nil {
		s.log.Warn("auto-approval failed; permission left pending", "permission", id, "err", err)
	}
}

// forwardPermission sends a claimed permission reply to the agent and, once
// it accepted it, records the resolution. On failure the request stays
// pending so the client may retry.
func (s *Session) forwardPermission(ctx context.Context, id string, reply schema.PermissionReply) error {
	s.mu.Lock()
	p, ok := s.perms[id]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	req := p.data
	return s.forward(ctx, agent.Reply{Kind: agent.ReplyPermission, ID: id, Permission: reply, PermissionRequest: &req},
		func() {
			if p, ok := s.perms[id]; ok {
				p.answering = false
			}
		},
		func() {
			if _, still := s.perms[id]; !still {
				return // resolved meanwhile (session ended)
			}
			if reply == schema.ReplyAlways {
				for _, k := range alwaysKeys(&req) {
					s.always[k] = true
				}
			}
			status := map[schema.PermissionReply]schema.PermissionStatus{
				schema.ReplyOnce: schema.PermissionAccept, schema.ReplyAlways: schema.PermissionAcceptForSession,
				schema.ReplyReject: schema.PermissionReject,
			}[reply]
			s.daemonLocked(schema.EventPermissionResolved, &schema.PermissionEventData{
				PermissionID: id, Action: req.Action, Status: status, Metadata: req.Metadata})
		})
}

// ReplyQuestion answers (answers != nil) or rejects (reject) a pending question.
func (s *Session) ReplyQuestion(ctx context.Context, id string, answers [][]string, reject bool) error {
	s.mu.Lock()
	q, ok := s.quests[id]
	if !ok || q.answering {
		s.mu.Unlock()
		e := problem.Invalid("unknown question id: %s", id)
		e.SessionID = s.id
		return e
	}
	q.answering = true
	req := q.data
	s.mu.Unlock()
	return s.forward(ctx, agent.Reply{Kind: agent.ReplyQuestion, ID: id, Answers: answers, Reject: reject, QuestionRequest: &req},
		func() {
			if q, ok := s.quests[id]; ok {
				q.answering = false
			}
		},
		func() {
			if _, still := s.quests[id]; !still {
				return
			}
			res := schema.QuestionEventData{QuestionID: id, Prompt: req.Prompt, Options: req.Options, Status: schema.QuestionAnswered, Metadata: req.Metadata}
			if reject {
				res.Status = schema.QuestionRejected
			} else if len(answers) > 0 && len(answers[0]) > 0 {
				res.Response = schema.Ptr(answers[0][0])
			}
			s.daemonLocked(schema.EventQuestionResolved, &res)
		})
}

// forward sends a claimed reply to the agent while holding back the agent's
// drafts, so that what the agent does in answer is recorded after the
// resolved event. settle (on success) and unclaim (on failure) run under
// the lock.
func (s *Session) forward(ctx context.Context, r agent.Reply, unclaim, settle func()) error {
	s.mu.Lock()
	conn := s.conn
	s.holdLocked()
	s.mu.Unlock()

	err := conn.Answer(ctx, r)

	s.mu.Lock()
	if err != nil {
		unclaim()
	} else {
		settle()
	}
	autos, ended := s.releaseLocked()
	s.mu.Unlock()
	s.after(autos, ended)
	if err != nil {
		return wrapAgentErr(err, s.info.ID, s.id)
	}
	return nil
}

// Terminate ends the session: the running turn stops, the agent's processes
// are killed, and a session.ended (terminated by the daemon) is recorded.
// Terminating an ended session does nothing.
func (s *Session) Terminate(ctx context.Context) error {
	s.mu.Lock()
	if s.rec.Ended {
		s.mu.Unlock()
		return nil
	}
	// Mark ended first so that whatever the agent emits while dying is
	// dropped instead of landing after session.ended.
	s.markEndedLocked(schema.EndTerminated)
	s.mu.Unlock()
	s.closeConn(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appendLocked(s.pipe.turnEnd())
	s.daemonLocked(schema.EventSessionEnded, &schema.SessionEndedData{Reason: schema.EndTerminated, TerminatedBy: schema.ByDaemon})
	return nil
}

// closeConn closes the agent connection once; concurrent callers wait.
func (s *Session) closeConn(ctx context.Context) {
	s.mu.Lock()
	if s.closing {
		ch := s.closedCh
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		return
	}
	s.closing = true
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		if err := conn.Close(ctx); err != nil {
			s.log.Warn("closing agent connection", "err", err)
		}
	}
	close(s.closedCh)
}

// alwaysKeys are the cache keys of a permission request (§2.8): the action
// and the permission/codexRequestKind/toolName metadata strings, each also
// reduced to its category (first word, before any ':', lowercased).
func alwaysKeys(p *schema.PermissionEventData) []string {
	raw := []string{p.Action}
	var md map[string]any
	if len(p.Metadata) > 0 && json.Unmarshal(p.Metadata, &md) == nil {
		for _, k := range []string{"permission", "codexRequestKind", "toolName", "tool_name"} {
			if v, ok := md[k].(string); ok {
				raw = append(raw, v)
			}
		}
	}
	var keys []string
	for _, r := range raw {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		keys = append(keys, r)
		cat := strings.Fields(r)[0]
		if i := strings.IndexByte(cat, ':'); i >= 0 {
			cat = cat[:i]
		}
		cat = strings.ToLower(cat)
		if cat != "" && strings.Trim(cat, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == "" {
			keys = append(keys, "category:"+cat)
		}
	}
	return keys
}

func (s *Session) matchesAlways(p *schema.PermissionEventData) bool {
	if len(s.always) == 0 || isQuestionTool(p.Action) {
		return false
	}
	for _, k := range alwaysKeys(p) {
		if s.always[k] {
			return true
		}
	}
	return false
}

func isQuestionTool(action string) bool {
	switch action {
	case "AskUserQuestion", "ask_user_question", "askUserQuestion", "ask-user-question",
		"ExitPlanMode", "exit_plan_mode", "exitPlanMode", "exit-plan-mode":
		return true
	}
	return false
}
