package e2e

import (
	"strings"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Event predicates and accessors for scenario bodies.

// isType matches events of any of the given types.
func isType(types ...schema.EventType) func(schema.Event) bool {
	return func(ev schema.Event) bool {
		for _, t := range types {
			if ev.Type == t {
				return true
			}
		}
		return false
	}
}

func itemOf(ev schema.Event) (schema.Item, bool) {
	d, ok := ev.Data.(*schema.ItemEventData)
	if !ok {
		return schema.Item{}, false
	}
	return d.Item, true
}

// dataOf returns ev's data as a *T, or a zero T when ev carries another
// kind, so that a predicate can read the fields of any event.
func dataOf[T any](ev schema.Event) *T {
	if d, ok := any(ev.Data).(*T); ok && d != nil {
		return d
	}
	return new(T)
}

func permissionOf(ev schema.Event) *schema.PermissionEventData {
	return dataOf[schema.PermissionEventData](ev)
}

func questionOf(ev schema.Event) *schema.QuestionEventData {
	return dataOf[schema.QuestionEventData](ev)
}

func endedOf(ev schema.Event) *schema.SessionEndedData {
	return dataOf[schema.SessionEndedData](ev)
}

func errorOf(ev schema.Event) *schema.ErrorData {
	return dataOf[schema.ErrorData](ev)
}

// ofType returns the events of evs of type t.
func ofType(evs []schema.Event, t schema.EventType) []schema.Event {
	var out []schema.Event
	for _, ev := range evs {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}

// completedItems returns the items of item.completed events in evs that
// match kind ("" any) and, when set, role.
func completedItems(evs []schema.Event, kind schema.ItemKind, role schema.ItemRole) []schema.Item {
	var out []schema.Item
	for _, ev := range evs {
		if ev.Type != schema.EventItemCompleted {
			continue
		}
		it, ok := itemOf(ev)
		if !ok || (kind != "" && it.Kind != kind) {
			continue
		}
		if role != "" && (it.Role == nil || *it.Role != role) {
			continue
		}
		out = append(out, it)
	}
	return out
}

// assistantText joins the text of the completed assistant messages in evs.
func assistantText(evs []schema.Event) string {
	var parts []string
	for _, it := range completedItems(evs, schema.KindMessage, schema.RoleAssistant) {
		if t := it.Text(); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}

// parts returns every content part of type pt in the completed items of evs.
func parts(evs []schema.Event, pt schema.PartType) []schema.ContentPart {
	var out []schema.ContentPart
	for _, it := range completedItems(evs, "", "") {
		for _, p := range it.Content {
			if p.Type == pt {
				out = append(out, p)
			}
		}
	}
	return out
}

// toolOutputs joins the outputs of every tool_result part in evs.
func toolOutputs(evs []schema.Event) string {
	var b strings.Builder
	for _, p := range parts(evs, schema.PartToolResult) {
		b.WriteString(p.Output)
		b.WriteByte('\n')
	}
	return b.String()
}

// deltasOf returns the item.delta texts of item itemID in evs; with live,
// only those the agent streamed (not the session's synthetic ones).
func deltasOf(evs []schema.Event, itemID string, live bool) []string {
	var out []string
	for _, ev := range evs {
		if d, ok := ev.Data.(*schema.ItemDeltaData); ok && ev.Type == schema.EventItemDelta && d.ItemID == itemID && !(live && ev.Synthetic) {
			out = append(out, d.Delta)
		}
	}
	return out
}
