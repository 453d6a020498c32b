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

func permissionOf(ev schema.Event) *schema.PermissionEventData {
	d, _ := ev.Data.(*schema.PermissionEventData)
	if d == nil {
		return &schema.PermissionEventData{}
	}
	return d
}

func questionOf(ev schema.Event) *schema.QuestionEventData {
	d, _ := ev.Data.(*schema.QuestionEventData)
	if d == nil {
		return &schema.QuestionEventData{}
	}
	return d
}

func endedOf(ev schema.Event) *schema.SessionEndedData {
	d, _ := ev.Data.(*schema.SessionEndedData)
	if d == nil {
		return &schema.SessionEndedData{}
	}
	return d
}

func errorOf(ev schema.Event) *schema.ErrorData {
	d, _ := ev.Data.(*schema.ErrorData)
	if d == nil {
		return &schema.ErrorData{}
	}
	return d
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

// deltasOf returns the item.delta texts of item itemID in evs.
func deltasOf(evs []schema.Event, itemID string) []string {
	var out []string
	for _, ev := range evs {
		if d, ok := ev.Data.(*schema.ItemDeltaData); ok && ev.Type == schema.EventItemDelta && d.ItemID == itemID {
			out = append(out, d.Delta)
		}
	}
	return out
}
