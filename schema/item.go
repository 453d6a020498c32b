package schema

import (
	"encoding/json"
	"fmt"
)

// ItemKind classifies an item.
type ItemKind string

// Item kinds.
const (
	KindMessage    ItemKind = "message"
	KindToolCall   ItemKind = "tool_call"
	KindToolResult ItemKind = "tool_result"
	KindSystem     ItemKind = "system"
	KindStatus     ItemKind = "status"
	KindUnknown    ItemKind = "unknown"
)

// ItemRole is who an item speaks for.
type ItemRole string

// Item roles.
const (
	RoleUser      ItemRole = "user"
	RoleAssistant ItemRole = "assistant"
	RoleSystem    ItemRole = "system"
	RoleTool      ItemRole = "tool"
)

// ItemStatus is an item's progress.
type ItemStatus string

// Item states.
const (
	StatusInProgress ItemStatus = "in_progress"
	StatusCompleted  ItemStatus = "completed"
	StatusFailed     ItemStatus = "failed"
)

// Item is one unit of the transcript: a message, a tool call, a tool result,
// a status line. Every key is always present.
type Item struct {
	ItemID       string        `json:"item_id"`
	NativeItemID *string       `json:"native_item_id"`
	ParentID     *string       `json:"parent_id"`
	Kind         ItemKind      `json:"kind"`
	Role         *ItemRole     `json:"role"`
	Content      []ContentPart `json:"content"`
	Status       ItemStatus    `json:"status"`
}

// MarshalJSON keeps content an array even when empty.
func (it Item) MarshalJSON() ([]byte, error) {
	type plain Item
	if it.Content == nil {
		it.Content = []ContentPart{}
	}
	return json.Marshal(plain(it))
}

// Text joins the item's text parts with newlines.
func (it Item) Text() string {
	s := ""
	first := true
	for _, p := range it.Content {
		if p.Type != PartText {
			continue
		}
		if !first {
			s += "\n"
		}
		s += p.Text
		first = false
	}
	return s
}

// PartType tags a content part.
type PartType string

// Content part types.
const (
	PartText       PartType = "text"
	PartJSON       PartType = "json"
	PartToolCall   PartType = "tool_call"
	PartToolResult PartType = "tool_result"
	PartFileRef    PartType = "file_ref"
	PartReasoning  PartType = "reasoning"
	PartImage      PartType = "image"
	PartStatus     PartType = "status"
)

// FileAction says what a file_ref part did to its file.
type FileAction string

// File actions.
const (
	FileRead  FileAction = "read"
	FileWrite FileAction = "write"
	FilePatch FileAction = "patch"
)

// ReasoningVisibility says whether reasoning text is shown to users.
type ReasoningVisibility string

// Reasoning visibilities.
const (
	VisibilityPublic  ReasoningVisibility = "public"
	VisibilityPrivate ReasoningVisibility = "private"
)

// ContentPart is a tagged union. Only the fields of its Type are put on the
// wire, all of them (nullable ones as null):
//
//	text        text
//	json        json
//	tool_call   name, arguments (a JSON-encoded string), call_id
//	tool_result call_id, output
//	file_ref    path, action, diff (nullable)
//	reasoning   text, visibility
//	image       path, mime (nullable)
//	status      label, detail (nullable)
type ContentPart struct {
	Type       PartType
	Text       string
	JSON       json.RawMessage
	Name       string
	Arguments  string
	CallID     string
	Output     string
	Path       string
	Action     FileAction
	Diff       *string
	Visibility ReasoningVisibility
	MIME       *string
	Label      string
	Detail     *string
}

// Text returns a text part.
func Text(s string) ContentPart { return ContentPart{Type: PartText, Text: s} }

// JSONPart returns a json part holding v (already-encoded JSON is kept as is).
func JSONPart(v any) ContentPart {
	if raw, ok := v.(json.RawMessage); ok {
		return ContentPart{Type: PartJSON, JSON: raw}
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte("null")
	}
	return ContentPart{Type: PartJSON, JSON: b}
}

// ToolCall returns a tool_call part; arguments is a JSON-encoded string.
func ToolCall(name, arguments, callID string) ContentPart {
	return ContentPart{Type: PartToolCall, Name: name, Arguments: arguments, CallID: callID}
}

// ToolResult returns a tool_result part.
func ToolResult(callID, output string) ContentPart {
	return ContentPart{Type: PartToolResult, CallID: callID, Output: output}
}

// FileRef returns a file_ref part; diff may be nil.
func FileRef(path string, action FileAction, diff *string) ContentPart {
	return ContentPart{Type: PartFileRef, Path: path, Action: action, Diff: diff}
}

// Reasoning returns a reasoning part.
func Reasoning(text string, v ReasoningVisibility) ContentPart {
	return ContentPart{Type: PartReasoning, Text: text, Visibility: v}
}

// Image returns an image part; mime may be nil.
func Image(path string, mime *string) ContentPart {
	return ContentPart{Type: PartImage, Path: path, MIME: mime}
}

// Status returns a status part; detail may be nil.
func Status(label string, detail *string) ContentPart {
	return ContentPart{Type: PartStatus, Label: label, Detail: detail}
}

type partText struct {
	Type PartType `json:"type"`
	Text string   `json:"text"`
}
type partJSON struct {
	Type PartType        `json:"type"`
	JSON json.RawMessage `json:"json"`
}
type partToolCall struct {
	Type      PartType `json:"type"`
	Name      string   `json:"name"`
	Arguments string   `json:"arguments"`
	CallID    string   `json:"call_id"`
}
type partToolResult struct {
	Type   PartType `json:"type"`
	CallID string   `json:"call_id"`
	Output string   `json:"output"`
}
type partFileRef struct {
	Type   PartType   `json:"type"`
	Path   string     `json:"path"`
	Action FileAction `json:"action"`
	Diff   *string    `json:"diff"`
}
type partReasoning struct {
	Type       PartType            `json:"type"`
	Text       string              `json:"text"`
	Visibility ReasoningVisibility `json:"visibility"`
}
type partImage struct {
	Type PartType `json:"type"`
	Path string   `json:"path"`
	MIME *string  `json:"mime"`
}
type partStatus struct {
	Type   PartType `json:"type"`
	Label  string   `json:"label"`
	Detail *string  `json:"detail"`
}

// MarshalJSON writes exactly the keys of the part's type.
func (p ContentPart) MarshalJSON() ([]byte, error) {
	switch p.Type {
	case PartText:
		return json.Marshal(partText{p.Type, p.Text})
	case PartJSON:
		raw := p.JSON
		if len(raw) == 0 {
			raw = json.RawMessage("null")
		}
		return json.Marshal(partJSON{p.Type, raw})
	case PartToolCall:
		return json.Marshal(partToolCall{p.Type, p.Name, p.Arguments, p.CallID})
	case PartToolResult:
		return json.Marshal(partToolResult{p.Type, p.CallID, p.Output})
	case PartFileRef:
		return json.Marshal(partFileRef{p.Type, p.Path, p.Action, p.Diff})
	case PartReasoning:
		return json.Marshal(partReasoning{p.Type, p.Text, p.Visibility})
	case PartImage:
		return json.Marshal(partImage{p.Type, p.Path, p.MIME})
	case PartStatus:
		return json.Marshal(partStatus{p.Type, p.Label, p.Detail})
	}
	return nil, fmt.Errorf("content part: unknown type %q", p.Type)
}

// UnmarshalJSON reads a part of any type.
func (p *ContentPart) UnmarshalJSON(b []byte) error {
	var aux struct {
		Type       PartType            `json:"type"`
		Text       string              `json:"text"`
		JSON       json.RawMessage     `json:"json"`
		Name       string              `json:"name"`
		Arguments  string              `json:"arguments"`
		CallID     string              `json:"call_id"`
		Output     string              `json:"output"`
		Path       string              `json:"path"`
		Action     FileAction          `json:"action"`
		Diff       *string             `json:"diff"`
		Visibility ReasoningVisibility `json:"visibility"`
		MIME       *string             `json:"mime"`
		Label      string              `json:"label"`
		Detail     *string             `json:"detail"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	switch aux.Type {
	case PartText, PartJSON, PartToolCall, PartToolResult, PartFileRef, PartReasoning, PartImage, PartStatus:
	default:
		return fmt.Errorf("content part: unknown type %q", aux.Type)
	}
	*p = ContentPart(aux)
	return nil
}
