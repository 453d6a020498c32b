package session

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Reload recreates the sessions a durable store holds, after a restart.
// An ended session comes back ended; any other comes back detached: its
// agent process is gone, its log is readable and streamable by offset, and
// the next message or reply reopens the agent with the native session id
// (see resume). It returns how many sessions it loaded.
func (m *Manager) Reload(ctx context.Context) (int, error) {
	recs, err := m.cfg.Store.Sessions(ctx)
	if err != nil {
		return 0, fmt.Errorf("reload sessions: %w", err)
	}
	n := 0
	for _, rec := range recs {
		evs, err := m.cfg.Store.Events(ctx, rec.ID, 0, 0)
		if err != nil {
			return n, fmt.Errorf("reload session %s: %w", rec.ID, err)
		}
		ad, ok := m.cfg.Registry.Get(rec.Agent)
		if !ok {
			m.cfg.Logger.Warn("stored session of an unknown agent left out", "session", rec.ID, "agent", rec.Agent)
			continue
		}
		dir := m.cfg.Dir
		if rec.Directory != nil && *rec.Directory != "" {
			dir = *rec.Directory
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(m.cfg.Dir, dir)
			}
		}
		s := m.newSession(ad, rec, dir)
		s.restore(evs)
		m.mu.Lock()
		if _, dup := m.sessions[rec.ID]; !dup {
			m.sessions[rec.ID] = s
			n++
		}
		m.mu.Unlock()
	}
	return n, nil
}

// restore rebuilds the session's state from its stored log: sequence and
// item counters, turns, pending requests, "always" replies, the phase.
func (s *Session) restore(evs []schema.Event) {
	p := s.pipe
	if s.rec.NativeSessionID != nil {
		p.native = *s.rec.NativeSessionID
	}
	ended := s.rec.Ended
	for i := range evs {
		ev := &evs[i]
		p.nextSeq = ev.Sequence + 1
		switch data := ev.Data.(type) {
		case *schema.SessionStartedData:
			p.started = true
		case *schema.SessionEndedData:
			ended = true
			if s.rec.EndReason == "" {
				s.rec.EndReason = data.Reason
			}
		case *schema.TurnEventData:
			if ev.Type == schema.EventTurnStarted {
				p.turn = true
				s.turns++
				s.turnSeq = append(s.turnSeq, ev.Sequence)
			} else {
				p.turn = false
				p.turnsEnded++
			}
		case *schema.PermissionEventData:
			if ev.Type == schema.EventPermissionRequested {
				s.perms[data.PermissionID] = &pendingPerm{data: *data, turn: s.turns}
			} else if req, ok := s.perms[data.PermissionID]; ok {
				if data.Status == schema.PermissionAcceptForSession {
					for _, k := range alwaysKeys(&req.data) {
						s.always[k] = true
					}
				}
				delete(s.perms, data.PermissionID)
			}
		case *schema.QuestionEventData:
			if ev.Type == schema.EventQuestionRequested {
				s.quests[data.QuestionID] = &pendingQuestion{data: *data, turn: s.turns}
			} else {
				delete(s.quests, data.QuestionID)
			}
		case *schema.ItemEventData:
			p.nextItem = max(p.nextItem, itemNumber(data.Item.ItemID), itemNumber(schema.Deref(data.Item.ParentID)))
		case *schema.ItemDeltaData:
			p.nextItem = max(p.nextItem, itemNumber(data.ItemID))
		}
	}
	if n := len(evs); n > 0 {
		s.last = evs[n-1].Sequence
		s.count = uint64(n)
	}
	if ended {
		s.rec.Ended = true
		s.phase = phaseEnded
		s.closing = true
		close(s.closedCh)
		close(s.endedCh)
		s.stopLife()
		return
	}
	s.phase = phaseDetached
}

// itemNumber is N of an item id itm_N (0 for anything else).
func itemNumber(id string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "itm_"))
	if err != nil || !strings.HasPrefix(id, "itm_") {
		return 0
	}
	return n
}

// expiredReason says why a request of a detached session was resolved
// without an answer.
const expiredReason = "expired: the agent process ended with a server restart and the resumed agent did not take the request over"

// resume reopens the agent of a detached session: Open with the native
// session id (Claude --resume, Codex thread resume, OpenCode session
// reuse), then the requests still pending in the log go to the agent if it
// takes them over (agent.Reissuer) and are otherwise resolved as rejected
// with an expired reason; a turn the old process left open, with nothing
// left to wait for, ends with an error (code agent_restarted). A failed
// Open leaves the session detached. Sessions that are not detached return
// at once.
func (s *Session) resume(ctx context.Context) error {
	s.mu.Lock()
	detached := s.phase == phaseDetached
	s.mu.Unlock()
	if !detached {
		return nil
	}
	s.resumeMu.Lock()
	defer s.resumeMu.Unlock()
	s.mu.Lock()
	if s.phase != phaseDetached {
		s.mu.Unlock()
		return nil
	}
	s.phase = phaseOpening
	spec := s.spec
	spec.NativeSessionID = s.pipe.native
	s.mu.Unlock()

	conn, err := s.ad.Open(ctx, spec, sink{s})
	if err != nil {
		s.mu.Lock()
		s.phase, s.prebuf = phaseDetached, nil
		s.mu.Unlock()
		return wrapAgentErr(err, s.info.ID, s.id)
	}
	s.mu.Lock()
	s.conn = conn
	var pending []agent.Reply
	for _, id := range sortedKeys(s.perms) {
		req := s.perms[id].data
		pending = append(pending, agent.Reply{Kind: agent.ReplyPermission, ID: id, PermissionRequest: &req})
	}
	for _, id := range sortedKeys(s.quests) {
		req := s.quests[id].data
		pending = append(pending, agent.Reply{Kind: agent.ReplyQuestion, ID: id, QuestionRequest: &req})
	}
	s.mu.Unlock()
	var taken []string
	if r, ok := conn.(agent.Reissuer); ok && len(pending) > 0 {
		taken = r.Reissue(ctx, pending)
	}

	s.mu.Lock()
	var evs []schema.Event
	for _, r := range pending {
		if slices.Contains(taken, r.ID) {
			continue
		}
		if r.Kind == agent.ReplyPermission {
			evs = append(evs, s.rejectPermLocked(r.ID)...)
			evs[len(evs)-1].Data.(*schema.PermissionEventData).Reason = schema.Ptr(expiredReason)
		} else {
			evs = append(evs, s.rejectQuestLocked(r.ID)...)
			evs[len(evs)-1].Data.(*schema.QuestionEventData).Reason = schema.Ptr(expiredReason)
		}
	}
	if s.pipe.turn && len(taken) == 0 {
		evs = append(evs, s.pipe.run(agent.Draft{Type: schema.EventError, Synthetic: true, Data: &schema.ErrorData{
			Message: "the server restarted during this turn; its agent process is gone and the turn is over",
			Code:    schema.Ptr("agent_restarted")}})...)
		evs = append(evs, s.pipe.turnEnd()...)
	}
	s.appendLocked(evs)
	s.phase = phaseLive
	s.holding++ // releaseLocked flushes what the agent emitted while opening
	autos, ended := s.releaseLocked()
	upTo := s.pipe.nextSeq - 1
	s.mu.Unlock()
	s.after(autos, ended)
	s.awaitPublished(ctx, upTo)
	s.log.Info("detached session resumed", "native_session_id", spec.NativeSessionID, "requests_taken_over", len(taken), "requests_expired", len(pending)-len(taken))
	return nil
}

// Prune deletes stored sessions that are not live (ended, or detached
// after a restart): those last updated before the given time (zero: no
// age limit), and beyond the newest keep sessions (0: no cap). Live
// sessions are never pruned. It returns how many it deleted.
func (m *Manager) Prune(ctx context.Context, before time.Time, keep int) (int, error) {
	all := m.List()
	sort.SliceStable(all, func(i, j int) bool { return all[i].UpdatedAt > all[j].UpdatedAt }) // most recently updated first
	n := 0
	for i, info := range all {
		old := !before.IsZero() && info.UpdatedAt < before.UnixMilli()
		over := keep > 0 && i >= keep
		if !(old || over) || !(info.Ended || info.Detached) {
			continue
		}
		if err := m.Delete(ctx, info.SessionID); err != nil {
			if pe, ok := problem.As(err); ok && pe.Kind == problem.SessionNotFound {
				continue // deleted meanwhile
			}
			return n, err
		}
		n++
	}
	return n, nil
}
