package schema

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// EventType names a universal event.
type EventType string

// The universal event types.
const (
	EventSessionStarted      EventType = "session.started"
	EventSessionEnded        EventType = "session.ended"
	EventTurnStarted         EventType = "turn.started"
	EventTurnEnded           EventType = "turn.ended"
	EventItemStarted         EventType = "item.started"
	EventItemDelta           EventType = "item.delta"
	EventItemCompleted       EventType = "item.completed"
	EventError               EventType = "error"
	EventPermissionRequested EventType = "permission.requested"
	EventPermissionResolved  EventType = "permission.resolved"
	EventQuestionRequested   EventType = "question.requested"
	EventQuestionResolved    EventType = "question.resolved"
	EventAgentUnparsed       EventType = "agent.unparsed"
)

// EventTypes lists every event type in schema order.
var EventTypes = []EventType{
	EventSessionStarted, EventSessionEnded, EventTurnStarted, EventTurnEnded,
	EventItemStarted, EventItemDelta, EventItemCompleted, EventError,
	EventPermissionRequested, EventPermissionResolved, EventQuestionRequested,
	EventQuestionResolved, EventAgentUnparsed,
}

// InTurn reports whether events of type t belong inside a turn: items and
// their deltas, permission and question requests and their resolutions.
// Session and turn lifecycle, error and agent.unparsed do not.
func (t EventType) InTurn() bool {
	switch t {
	case EventItemStarted, EventItemDelta, EventItemCompleted,
		EventPermissionRequested, EventPermissionResolved,
		EventQuestionRequested, EventQuestionResolved:
		return true
	}
	return false
}

// EventSource says who produced an event.
type EventSource string

// Event sources.
const (
	SourceAgent  EventSource = "agent"
	SourceDaemon EventSource = "daemon"
)

// Event is the universal event envelope. Every key is always present.
type Event struct {
	EventID         string          `json:"event_id"`
	Sequence        uint64          `json:"sequence"`
	Time            string          `json:"time"`
	SessionID       string          `json:"session_id"`
	NativeSessionID *string         `json:"native_session_id"`
	Synthetic       bool            `json:"synthetic"`
	Source          EventSource     `json:"source"`
	Type            EventType       `json:"type"`
	Data            EventData       `json:"data"`
	Raw             json.RawMessage `json:"raw"`
}

// EventData is one of the *Data types below; the envelope's Type says which.
type EventData interface{ eventData() }

// UnmarshalJSON decodes the data member into the concrete type named by the
// envelope's type.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var aux struct {
		plain
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*e = Event(aux.plain)
	e.Data = nil
	if string(e.Raw) == "null" {
		e.Raw = nil
	}
	d, err := DecodeData(e.Type, aux.Data)
	if err != nil {
		return err
	}
	e.Data = d
	return nil
}

// NewData returns a zero value of the data type that belongs to t.
func NewData(t EventType) (EventData, error) {
	switch t {
	case EventSessionStarted:
		return &SessionStartedData{}, nil
	case EventSessionEnded:
		return &SessionEndedData{}, nil
	case EventTurnStarted, EventTurnEnded:
		return &TurnEventData{}, nil
	case EventItemStarted, EventItemCompleted:
		return &ItemEventData{}, nil
	case EventItemDelta:
		return &ItemDeltaData{}, nil
	case EventError:
		return &ErrorData{}, nil
	case EventPermissionRequested, EventPermissionResolved:
		return &PermissionEventData{}, nil
	case EventQuestionRequested, EventQuestionResolved:
		return &QuestionEventData{}, nil
	case EventAgentUnparsed:
		return &AgentUnparsedData{}, nil
	}
	return nil, fmt.Errorf("unknown event type %q", t)
}

// DecodeData decodes raw data for an event of type t into its concrete type
// (returned as a pointer).
func DecodeData(t EventType, raw json.RawMessage) (EventData, error) {
	d, err := NewData(t)
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 || string(raw) == "null" {
		return d, nil
	}
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, fmt.Errorf("event %s: data: %w", t, err)
	}
	return d, nil
}

// SessionStartedData is the data of session.started.
type SessionStartedData struct {
	Metadata json.RawMessage `json:"metadata"`
}

// SessionEndReason says why a session ended.
type SessionEndReason string

// Session end reasons.
const (
	EndCompleted  SessionEndReason = "completed"
	EndError      SessionEndReason = "error"
	EndTerminated SessionEndReason = "terminated"
)

// TerminatedBy says which side ended a session.
type TerminatedBy string

// Who ended a session.
const (
	ByAgent  TerminatedBy = "agent"
	ByDaemon TerminatedBy = "daemon"
)

// SessionEndedData is the data of session.ended.
type SessionEndedData struct {
	Reason       SessionEndReason `json:"reason"`
	TerminatedBy TerminatedBy     `json:"terminated_by"`
	Message      *string          `json:"message,omitempty"`
	ExitCode     *int             `json:"exit_code,omitempty"`
	Stderr       *StderrOutput    `json:"stderr,omitempty"`
}

// StderrOutput is the head and tail of a process's stderr.
type StderrOutput struct {
	Head       *string `json:"head,omitempty"`
	Tail       *string `json:"tail,omitempty"`
	Truncated  bool    `json:"truncated"`
	TotalLines *int    `json:"total_lines,omitempty"`
}

// TurnPhase is started or ended.
type TurnPhase string

// Turn phases.
const (
	PhaseStarted TurnPhase = "started"
	PhaseEnded   TurnPhase = "ended"
)

// TurnEventData is the data of turn.started and turn.ended.
type TurnEventData struct {
	Phase    TurnPhase       `json:"phase"`
	TurnID   *string         `json:"turn_id,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// ItemEventData is the data of item.started and item.completed.
type ItemEventData struct {
	Item Item `json:"item"`
}

// ItemDeltaData is the data of item.delta.
type ItemDeltaData struct {
	ItemID       string  `json:"item_id"`
	NativeItemID *string `json:"native_item_id"`
	Delta        string  `json:"delta"`
}

// ErrorData is the data of error.
type ErrorData struct {
	Message string          `json:"message"`
	Code    *string         `json:"code"`
	Details json.RawMessage `json:"details"`
}

// PermissionStatus is the state of a permission request.
type PermissionStatus string

// Permission states.
const (
	PermissionRequested        PermissionStatus = "requested"
	PermissionAccept           PermissionStatus = "accept"
	PermissionAcceptForSession PermissionStatus = "accept_for_session"
	PermissionReject           PermissionStatus = "reject"
)

// PermissionEventData is the data of permission.requested and .resolved.
type PermissionEventData struct {
	PermissionID string           `json:"permission_id"`
	Action       string           `json:"action"`
	Status       PermissionStatus `json:"status"`
	Metadata     json.RawMessage  `json:"metadata"`
	// Reason is our extension: why a request was resolved without an
	// answer (it expired: its agent process ended with a server restart
	// and the resumed agent did not take it over). Omitted otherwise.
	Reason *string `json:"reason,omitempty"`
}

// QuestionStatus is the state of a question.
type QuestionStatus string

// Question states.
const (
	QuestionRequested QuestionStatus = "requested"
	QuestionAnswered  QuestionStatus = "answered"
	QuestionRejected  QuestionStatus = "rejected"
)

// QuestionEventData is the data of question.requested and .resolved.
type QuestionEventData struct {
	QuestionID string         `json:"question_id"`
	Prompt     string         `json:"prompt"`
	Options    []string       `json:"options"`
	Response   *string        `json:"response"`
	Status     QuestionStatus `json:"status"`
	// Metadata is our extension: agent-specific details of the question
	// (header, multiSelect, the plan of a plan approval ...). Omitted when
	// there are none.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// Reason is our extension: why a question was resolved without an
	// answer (see PermissionEventData.Reason). Omitted otherwise.
	Reason *string `json:"reason,omitempty"`
}

// MarshalJSON keeps options an array even when empty.
func (q QuestionEventData) MarshalJSON() ([]byte, error) {
	type plain QuestionEventData
	if q.Options == nil {
		q.Options = []string{}
	}
	return json.Marshal(plain(q))
}

// AgentUnparsedData is the data of agent.unparsed.
type AgentUnparsedData struct {
	Error    string  `json:"error"`
	Location string  `json:"location"`
	RawHash  *string `json:"raw_hash"`
}

func (*SessionStartedData) eventData()  {}
func (*SessionEndedData) eventData()    {}
func (*TurnEventData) eventData()       {}
func (*ItemEventData) eventData()       {}
func (*ItemDeltaData) eventData()       {}
func (*ErrorData) eventData()           {}
func (*PermissionEventData) eventData() {}
func (*QuestionEventData) eventData()   {}
func (*AgentUnparsedData) eventData()   {}

// EventID is the event id of a sequence number: evt_<sequence>.
func EventID(seq uint64) string {
	var buf [24]byte // one allocation (the string), not two
	return string(strconv.AppendUint(append(buf[:0], "evt_"...), seq, 10))
}
