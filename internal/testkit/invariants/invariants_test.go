package invariants

import (
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

func logOf(types ...string) []schema.Event {
	evs := make([]schema.Event, len(types))
	for i, t := range types {
		seq := uint64(i + 1)
		ev := schema.Event{Sequence: seq, EventID: schema.EventID(seq), Type: schema.EventType(t)}
		if id, ok := strings.CutPrefix(t, "permission."); ok {
			kind, pid, _ := strings.Cut(id, ":")
			ev.Type = schema.EventType("permission." + kind)
			ev.Data = &schema.PermissionEventData{PermissionID: pid}
		}
		evs[i] = ev
	}
	return evs
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name  string
		log   []schema.Event
		st    State
		wants string // substring of the first error; "" = valid
	}{
		{"valid ended", logOf("session.started", "turn.started", "item.completed", "permission.requested:p", "permission.resolved:p", "turn.ended", "session.ended"), Ended, ""},
		{"running may be open", logOf("session.started", "turn.started", "permission.requested:p"), Running, ""},
		{"unbalanced when idle", logOf("session.started", "turn.started"), Idle, "turn.started but"},
		{"pending when idle", logOf("session.started", "turn.started", "permission.requested:p", "turn.ended"), Idle, "never resolved"},
		{"double start", logOf("session.started", "turn.started", "turn.started"), Running, "inside a running turn"},
		{"end without start", logOf("session.started", "turn.ended"), Running, "without a running turn"},
		{"outside a turn", logOf("session.started", "item.completed"), Running, "outside any turn"},
		{"status item outside a turn", append(logOf("session.started"), schema.Event{Sequence: 2, EventID: schema.EventID(2), Type: schema.EventItemCompleted,
			Data: &schema.ItemEventData{Item: schema.Item{Kind: schema.KindStatus, Role: schema.Ptr(schema.RoleSystem)}}}), Running, ""},
		{"after end", logOf("session.started", "session.ended", "error"), Ended, "after session.ended"},
		{"no end", logOf("session.started"), Ended, "without session.ended"},
		{"resolved twice", logOf("session.started", "turn.started", "permission.requested:p", "permission.resolved:p", "permission.resolved:p"), Running, "resolved twice"},
		{"resolved unasked", logOf("session.started", "turn.started", "permission.resolved:q"), Running, "never requested"},
		{"second start", logOf("session.started", "session.started"), Running, "first event"},
		{"gap", append(logOf("session.started"), schema.Event{Sequence: 3, EventID: schema.EventID(3), Type: schema.EventError}), Running, "sequence 3, want 2"},
	}
	for _, c := range cases {
		errs := Check(c.log, c.st)
		switch {
		case c.wants == "" && len(errs) > 0:
			t.Errorf("%s: unexpected %v", c.name, errs)
		case c.wants != "" && (len(errs) == 0 || !strings.Contains(errs[0].Error(), c.wants)):
			t.Errorf("%s: got %v, want %q", c.name, errs, c.wants)
		}
	}
}
