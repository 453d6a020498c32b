// Package invariants checks a session's event log against the lifecycle
// invariants the session package promises (see the session package doc).
// Unit tests, the property-based state-machine test, the fault suite and
// every e2e scenario run the same checks.
package invariants

import (
	"fmt"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// State says what the caller knows about the session the log belongs to.
type State int

const (
	// Running: a turn may still be open and requests may still be pending.
	Running State = iota
	// Idle: no turn runs and none is queued, so turns are balanced and no
	// request is pending.
	Idle
	// Ended: the session ended (terminated, deleted, or by its agent): the
	// log ends with exactly one session.ended.
	Ended
)

// statusItem reports whether ev starts or completes a system status item:
// a notice about the session itself (an agent's thread or an MCP server
// coming up at start), which may appear outside a turn.
func statusItem(ev schema.Event) bool {
	if ev.Type != schema.EventItemStarted && ev.Type != schema.EventItemCompleted {
		return false
	}
	d, ok := ev.Data.(*schema.ItemEventData)
	return ok && d.Item.Kind == schema.KindStatus && d.Item.Role != nil && *d.Item.Role == schema.RoleSystem
}

// sessionLevel are the event types that may appear outside a turn (with
// system status items, see statusItem).
var sessionLevel = map[schema.EventType]bool{
	schema.EventSessionStarted: true, schema.EventSessionEnded: true,
	schema.EventError: true, schema.EventAgentUnparsed: true,
}

// Check returns every violated invariant of a complete log (from sequence 1):
//   - sequences are contiguous from 1 and event ids match them;
//   - the first event is the one session.started; no other follows;
//   - turns alternate started/ended, and when the session is idle or ended
//     every turn.started has its turn.ended;
//   - every event is inside a turn or is session-level (session.*, error,
//     agent.unparsed, system status items);
//   - every *.requested has exactly one *.resolved, after it, and when the
//     session is idle or ended none is left open;
//   - at most one session.ended, nothing after it; exactly one when ended.
func Check(evs []schema.Event, st State) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	inTurn, turnsStarted, turnsEnded := false, 0, 0
	perms, quests := map[string]bool{}, map[string]bool{}
	resolvedP, resolvedQ := map[string]bool{}, map[string]bool{}
	endedAt := -1
	for i, ev := range evs {
		if ev.Sequence != uint64(i+1) {
			fail("event %d (%s) has sequence %d, want %d", i, ev.Type, ev.Sequence, i+1)
		}
		if ev.EventID != schema.EventID(ev.Sequence) {
			fail("event %d has id %q for sequence %d", i, ev.EventID, ev.Sequence)
		}
		if endedAt >= 0 {
			fail("event %d (%s) after session.ended at %d", ev.Sequence, ev.Type, endedAt+1)
		}
		if (i == 0) != (ev.Type == schema.EventSessionStarted) {
			fail("event %d is %s: session.started must be the first event and only that", ev.Sequence, ev.Type)
		}
		if !inTurn && !sessionLevel[ev.Type] && !statusItem(ev) && ev.Type != schema.EventTurnStarted && ev.Type != schema.EventTurnEnded {
			fail("event %d (%s) outside any turn", ev.Sequence, ev.Type)
		}
		switch ev.Type {
		case schema.EventTurnStarted:
			if inTurn {
				fail("event %d: turn.started inside a running turn", ev.Sequence)
			}
			inTurn = true
			turnsStarted++
		case schema.EventTurnEnded:
			if !inTurn {
				fail("event %d: turn.ended without a running turn", ev.Sequence)
			}
			inTurn = false
			turnsEnded++
		case schema.EventSessionEnded:
			endedAt = i
			if inTurn {
				fail("event %d: session.ended while a turn runs", ev.Sequence)
			}
		case schema.EventPermissionRequested, schema.EventPermissionResolved:
			d, ok := ev.Data.(*schema.PermissionEventData)
			if !ok {
				fail("event %d: %s without permission data", ev.Sequence, ev.Type)
				continue
			}
			request(fail, ev, d.PermissionID, ev.Type == schema.EventPermissionRequested, perms, resolvedP)
		case schema.EventQuestionRequested, schema.EventQuestionResolved:
			d, ok := ev.Data.(*schema.QuestionEventData)
			if !ok {
				fail("event %d: %s without question data", ev.Sequence, ev.Type)
				continue
			}
			request(fail, ev, d.QuestionID, ev.Type == schema.EventQuestionRequested, quests, resolvedQ)
		}
	}
	if st != Running {
		if turnsStarted != turnsEnded {
			fail("%d turn.started but %d turn.ended", turnsStarted, turnsEnded)
		}
		for id := range perms {
			fail("permission %s never resolved", id)
		}
		for id := range quests {
			fail("question %s never resolved", id)
		}
	}
	if st == Ended && endedAt < 0 {
		fail("ended session without session.ended")
	}
	return errs
}

func request(fail func(string, ...any), ev schema.Event, id string, requested bool, open, resolved map[string]bool) {
	switch {
	case requested && (open[id] || resolved[id]):
		fail("event %d: %s of id %s requested twice", ev.Sequence, ev.Type, id)
	case requested:
		open[id] = true
	case resolved[id]:
		fail("event %d: %s: id %s resolved twice", ev.Sequence, ev.Type, id)
	case !open[id]:
		fail("event %d: %s: id %s resolved but never requested", ev.Sequence, ev.Type, id)
	default:
		delete(open, id)
		resolved[id] = true
	}
}

// HasEnd reports whether the log holds a session.ended.
func HasEnd(evs []schema.Event) bool {
	for _, ev := range evs {
		if ev.Type == schema.EventSessionEnded {
			return true
		}
	}
	return false
}
