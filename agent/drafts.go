package agent

import (
	"encoding/json"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Helpers that build common drafts, so adapters stay declarative.

// ItemStarted returns an item.started draft.
func ItemStarted(it schema.Item, raw json.RawMessage) Draft {
	it.Status = schema.StatusInProgress
	return Draft{Type: schema.EventItemStarted, Data: &schema.ItemEventData{Item: it}, Raw: raw}
}

// ItemCompleted returns an item.completed draft; a zero status becomes completed.
func ItemCompleted(it schema.Item, raw json.RawMessage) Draft {
	if it.Status == "" || it.Status == schema.StatusInProgress {
		it.Status = schema.StatusCompleted
	}
	return Draft{Type: schema.EventItemCompleted, Data: &schema.ItemEventData{Item: it}, Raw: raw}
}

// Delta returns an item.delta draft for the item with the given native id.
func Delta(nativeItemID, text string, raw json.RawMessage) Draft {
	return Draft{Type: schema.EventItemDelta, Data: &schema.ItemDeltaData{NativeItemID: schema.Ptr(nativeItemID), Delta: text}, Raw: raw}
}

// Message returns a message item with the given native id, role and parts.
func Message(nativeID string, role schema.ItemRole, parts ...schema.ContentPart) schema.Item {
	return schema.Item{NativeItemID: schema.Ptr(nativeID), Kind: schema.KindMessage, Role: schema.Ptr(role), Content: parts}
}

// TurnEnded returns a turn.ended draft; metadata (usage, cost, why it
// ended ...) may be nil.
func TurnEnded(metadata, raw json.RawMessage) Draft {
	return Draft{Type: schema.EventTurnEnded, Data: &schema.TurnEventData{Phase: schema.PhaseEnded, Metadata: metadata}, Raw: raw}
}

// ErrorEvent returns an error draft.
func ErrorEvent(message, code string, details json.RawMessage, raw json.RawMessage) Draft {
	var c *string
	if code != "" {
		c = schema.Ptr(code)
	}
	return Draft{Type: schema.EventError, Data: &schema.ErrorData{Message: message, Code: c, Details: details}, Raw: raw}
}

// Unparsed returns an agent.unparsed draft carrying the offending payload.
func Unparsed(location, errText string, raw json.RawMessage) Draft {
	return Draft{Type: schema.EventAgentUnparsed, Data: &schema.AgentUnparsedData{Error: errText, Location: location}, Raw: raw, Synthetic: true}
}

// SessionEnded returns a session.ended draft.
func SessionEnded(d schema.SessionEndedData) Draft {
	return Draft{Type: schema.EventSessionEnded, Data: &d}
}
