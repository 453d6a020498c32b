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
	ad    agent.Adapter
	spec  agent.Spec // how the agent was opened; reopened so after a restart
	store store.Store
	log   *slog.Logger
	dir   string // the agent's working directory (absolute)

	mu       sync.Mutex
	phase    phase
	rec      store.SessionRecord
	recDirty bool // rec changed beyond updatedAt since it was last stored
	// async: the store acknowledges appends later (store.Acker); last is
	// then what it acknowledged, and readers see no further.
	async   bool
	unwatch func()
	conn    agent.Conn
	holding int           // replies being forwarded; drafts wait for their resolved event
	prebuf  []agent.Draft // drafts held while opening or while a reply is forwarded
	pipe    *pipeline
	last    uint64 // last stored sequence
	count   uint64
	changed chan struct{} // closed when the log grows; nil until a reader waits (changedLocked)
	perms   map[string]*pendingPerm
	quests  map[string]*pendingQuestion
	always  map[string]bool

	// Turns: the ordinal of the last turn.started and where each is;
	// closedTurn: the last turn was ended by the session, not the agent.
	turns      uint64
	turnSeq    []uint64
	closedTurn bool

	// Sends go through the adapter one at a time (sendMu); while one is
	// inside Conn.Send, sending is set and an interrupt is recorded in
	// interruptReq for the sender to carry out once the agent has the
	// message (see Interrupt).
	sendMu       sync.Mutex
	resumeMu     sync.Mutex // held while a detached session reopens its agent
	sending      bool
	sendDone     chan struct{} // closed when the send in flight is over
	interruptReq bool

	// Idle-turn watchdog.
	idleTimeout  time.Duration
	lastActivity time.Time
	watching     bool

	closing  bool
	closedCh chan struct{} // closed once conn.Close returned
	endedCh  chan struct{} // closed on entering phaseEnded
	life     context.Context
	stopLife context.CancelFunc // ends the session's goroutines (watchdog)

	// Deletion: gone is closed once the session ended for good and is
	// being forgotten; readers attached then drain to its session.ended
	// before the log is wiped (storeMu guards reads against the wipe).
	deleting  bool
	deletedCh chan struct{}
	gone      chan struct{}
	readers   int
	readersCh chan struct{} // closed and replaced when a reader detaches
	storeMu   sync.RWMutex
	wiped     bool

	enc encCache // wire encodings of recent events, shared by readers
}

type pendingPerm struct {
	data      schema.PermissionEventData
	answering bool
	turn      uint64 // the turn it was asked in
}

type pendingQuestion struct {
	data      schema.QuestionEventData
	answering bool
	turn      uint64
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
	if s.phase == phaseOpening || s.holding > 0 {
		s.prebuf = append(s.prebuf, d)
		s.mu.Unlock()
		return
	}
	if s.phase != phaseLive {
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
		go s.finishAgentEnd()
	}
}

// holdLocked makes drafts wait while a reply is forwarded to the agent, so
// that what the agent does in answer comes after the resolved event.
func (s *Session) holdLocked() { s.holding++ }

// releaseLocked ends a hold and processes the drafts that waited.
func (s *Session) releaseLocked() (autos []string, ended bool) {
	s.holding--
	if s.holding > 0 || s.phase == phaseOpening {
		return nil, false
	}
	held := s.prebuf
	s.prebuf = nil
	for _, d := range held {
		if s.phase != phaseLive {
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
	if s.closedTurn && !s.pipe.turn && d.Type.InTurn() {
		// The session ended this turn for an agent that did not (it
		// ignored an interrupt): what it still says of it is dropped, not
		// logged outside any turn.
		s.log.Debug("draft of a turn the session ended dropped", "type", d.Type)
		return nil, false
	}
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
		// Requests still open and a turn still running when the agent
		// ends the session are over too.
		s.pipe.queued = 0
		evs = append(s.withdrawPendingLocked(true), s.pipe.turnEnd()...)
	case schema.EventTurnEnded:
		// A turn that ended is no longer waiting on a human: requests the
		// agent left open were withdrawn, so they resolve as rejected.
		if s.pipe.turn {
			evs = s.withdrawPendingLocked(false)
		}
	}
	if len(evs) == 0 {
		evs = s.pipe.run(d) // the usual case: no copy
	} else {
		evs = append(evs, s.pipe.run(d)...)
	}
	for _, ev := range evs {
		switch data := ev.Data.(type) {
		case *schema.PermissionEventData:
			if ev.Type == schema.EventPermissionRequested {
				data.Status = schema.PermissionRequested
				p := &pendingPerm{data: *data, turn: s.turns}
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
				s.quests[data.QuestionID] = &pendingQuestion{data: *data, turn: s.turns}
			} else {
				delete(s.quests, data.QuestionID)
			}
		case *schema.SessionEndedData:
			ended = true
			s.phase = phaseEnding
			s.markEndedLocked(data.Reason)
		}
	}
	s.appendLocked(evs)
	return autos, ended
}

// withdrawPendingLocked resolves as rejected, in a stable order, every
// request not being answered right now, or every request when all is set
// (the session ends: an answer in flight will find nothing to settle).
func (s *Session) withdrawPendingLocked(all bool) []schema.Event {
	var evs []schema.Event
	for _, id := range sortedKeys(s.perms) {
		if !s.perms[id].answering || all {
			evs = append(evs, s.rejectPermLocked(id)...)
		}
	}
	for _, id := range sortedKeys(s.quests) {
		if !s.quests[id].answering || all {
			evs = append(evs, s.rejectQuestLocked(id)...)
		}
	}
	return evs
}

// rejectPermLocked resolves a pending permission as rejected.
func (s *Session) rejectPermLocked(id string) []schema.Event {
	p := s.perms[id]
	delete(s.perms, id)
	return s.pipe.run(agent.Draft{Type: schema.EventPermissionResolved, Synthetic: true,
		Data: &schema.PermissionEventData{PermissionID: id, Action: p.data.Action, Status: schema.PermissionReject, Metadata: p.data.Metadata}})
}

// rejectQuestLocked resolves a pending question as rejected.
func (s *Session) rejectQuestLocked(id string) []schema.Event {
	q := s.quests[id]
	delete(s.quests, id)
	return s.pipe.run(agent.Draft{Type: schema.EventQuestionResolved, Synthetic: true,
		Data: &schema.QuestionEventData{QuestionID: id, Prompt: q.data.Prompt, Options: q.data.Options, Status: schema.QuestionRejected, Metadata: q.data.Metadata}})
}

// askedInEndedTurnLocked reports whether a request of the given turn can no
// longer be answered: its turn is over.
func (s *Session) askedInEndedTurnLocked(turn uint64) bool {
	return !s.pipe.turn || s.turns != turn
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
	if !s.async {
		s.last = evs[len(evs)-1].Sequence
	} // else the store's acknowledgment publishes them (publish)
	s.count += uint64(len(evs))
	s.rec.UpdatedAt = s.pipe.now().UnixMilli() // the configured clock (Config.Now), as createdAt and event times
	s.lastActivity = time.Now()                // the idle watchdog's timers run on the wall clock
	for i := range evs {
		if evs[i].Type == schema.EventTurnStarted {
			s.closedTurn = false
			s.turns++
			s.turnSeq = append(s.turnSeq, evs[i].Sequence)
			s.watchLocked()
		}
	}
	if s.pipe.native != "" && s.rec.NativeSessionID == nil {
		s.rec.NativeSessionID = schema.Ptr(s.pipe.native)
		s.recDirty = true
	}
	if s.changed != nil && !s.async { // a reader waits
		close(s.changed)
		s.changed = nil
	}
	if s.recDirty {
		if err := s.store.PutSession(context.Background(), s.rec); err != nil {
			s.log.Error("store session update failed", "err", err)
		} else {
			s.recDirty = false
		}
	}
}

// publish shows readers the events up to seq, which the store
// acknowledged as durable (store.Acker).
func (s *Session) publish(seq uint64) {
	s.mu.Lock()
	if seq > s.last {
		s.last = seq
		if s.changed != nil {
			close(s.changed)
			s.changed = nil
		}
	}
	s.mu.Unlock()
}

// changedLocked is the channel the next append closes. It is made when a
// reader is about to wait, not at every append: a reader busy reading, or
// none at all, costs an append nothing.
func (s *Session) changedLocked() chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
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
		Detached: s.phase == phaseDetached,
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
	s.storeMu.RLock()
	if s.wiped { // never read the log of a later session with this id
		s.storeMu.RUnlock()
		return nil, false, problem.SessionMissing(s.id)
	}
	evs, err := s.store.Events(ctx, s.id, after, n)
	s.storeMu.RUnlock()
	if err != nil {
		return nil, false, err
	}
	for len(evs) > 0 && evs[len(evs)-1].Sequence > last {
		evs = evs[:len(evs)-1] // stored, not yet acknowledged (store.Acker)
	}
	more := false
	if limit > 0 && len(evs) > limit {
		evs, more = evs[:limit], true
	}
	return evs, more, nil
}

// Wait blocks until the log holds an event after the given sequence, the
// context ends, or the session is deleted and the reader has read its last
// event (session.ended). It reports whether events are available.
func (s *Session) Wait(ctx context.Context, after uint64) bool {
	for {
		s.mu.Lock()
		if s.last > after {
			s.mu.Unlock()
			return true
		}
		ch, gone := s.changedLocked(), s.gone
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

// Gone is closed when the session is deleted. Its log stays readable, to
// its session.ended, by readers that Attach()ed, until they detach (or a
// grace period passes).
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

// ReplyPermission answers a pending permission request.
func (s *Session) ReplyPermission(ctx context.Context, id string, reply schema.PermissionReply) error {
	if err := s.resume(ctx); err != nil {
		return err
	}
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
				if s.askedInEndedTurnLocked(p.turn) {
					// Its turn ended while the reply was forwarded: it
					// was withdrawn, and nobody can answer it any more.
					s.appendLocked(s.rejectPermLocked(id))
				}
			}
		},
		func() {
			if _, still := s.perms[id]; !still {
				return // resolved meanwhile (session ended)
			}
			delete(s.perms, id)
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
	if err := s.resume(ctx); err != nil {
		return err
	}
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
				if s.askedInEndedTurnLocked(q.turn) {
					s.appendLocked(s.rejectQuestLocked(id))
				}
			}
		},
		func() {
			if _, still := s.quests[id]; !still {
				return
			}
			delete(s.quests, id)
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
