package schema

import "testing"

// Every event type is either of a turn (items, deltas, HITL) or of the
// session (lifecycle, errors, unparsed); turn.* delimit turns.
func TestInTurn(t *testing.T) {
	want := map[EventType]bool{
		EventItemStarted: true, EventItemDelta: true, EventItemCompleted: true,
		EventPermissionRequested: true, EventPermissionResolved: true,
		EventQuestionRequested: true, EventQuestionResolved: true,
	}
	for _, et := range EventTypes {
		if et.InTurn() != want[et] {
			t.Errorf("%s.InTurn() = %v, want %v", et, et.InTurn(), want[et])
		}
	}
	if EventType("no.such").InTurn() {
		t.Error("an unknown type is in a turn")
	}
}
