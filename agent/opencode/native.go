package opencode

import "encoding/json"

// Wire types of `opencode serve` 1.18.33, checked against its OpenAPI
// document (GET /doc) and the captures in testdata/. Only the fields the
// adapter reads are declared.

// event is one bus event: {"id":"evt_…","type":"…","properties":{…}}. On
// /global/event it arrives wrapped in globalEvent.
type event struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Properties json.RawMessage `json:"properties"`
}

// globalEvent is the envelope of GET /global/event: the instance (project
// directory) the event belongs to and the event itself.
type globalEvent struct {
	Directory string          `json:"directory"`
	Payload   json.RawMessage `json:"payload"`
}

// sessionRef is the part of every session-scoped event's properties that
// routes it.
type sessionRef struct {
	SessionID string `json:"sessionID"`
	// Part and Info carry the session id of message.part.updated and
	// message.updated / session.* events when the top level has none.
	Part *struct {
		SessionID string `json:"sessionID"`
	} `json:"part"`
	Info *struct {
		ID        string `json:"id"`
		SessionID string `json:"sessionID"`
		ParentID  string `json:"parentID"`
	} `json:"info"`
}

// sessionInfo is Session (session.created / session.updated, POST /session).
type sessionInfo struct {
	ID        string `json:"id"`
	ParentID  string `json:"parentID"`
	Directory string `json:"directory"`
	Title     string `json:"title"`
	Version   string `json:"version"`
}

// messageInfo is UserMessage | AssistantMessage (message.updated).
type messageInfo struct {
	ID         string          `json:"id"`
	SessionID  string          `json:"sessionID"`
	Role       string          `json:"role"`
	ParentID   string          `json:"parentID"`
	ModelID    string          `json:"modelID"`
	ProviderID string          `json:"providerID"`
	Agent      string          `json:"agent"`
	Error      *nativeError    `json:"error"`
	Finish     string          `json:"finish"`
	Cost       float64         `json:"cost"`
	Tokens     json.RawMessage `json:"tokens"`
	Time       struct {
		Created   int64 `json:"created"`
		Completed int64 `json:"completed"`
	} `json:"time"`
}

// part is the Part union (message.part.updated), flattened: Type says which
// fields mean something.
type part struct {
	ID        string `json:"id"`
	SessionID string `json:"sessionID"`
	MessageID string `json:"messageID"`
	Type      string `json:"type"`
	// text, reasoning
	Text      string `json:"text"`
	Synthetic bool   `json:"synthetic"`
	Ignored   bool   `json:"ignored"`
	Time      *struct {
		Start int64 `json:"start"`
		End   int64 `json:"end"`
	} `json:"time"`
	// tool
	Tool   string     `json:"tool"`
	CallID string     `json:"callID"`
	State  *toolState `json:"state"`
	// file
	Mime     string `json:"mime"`
	Filename string `json:"filename"`
	URL      string `json:"url"`
	// subtask
	Prompt      string `json:"prompt"`
	Description string `json:"description"`
	Agent       string `json:"agent"`
	// step-finish
	Reason string          `json:"reason"`
	Cost   float64         `json:"cost"`
	Tokens json.RawMessage `json:"tokens"`
	// patch
	Files []string `json:"files"`
	// retry
	Attempt int          `json:"attempt"`
	Error   *nativeError `json:"error"`
}

// toolState is ToolStatePending | Running | Completed | Error.
type toolState struct {
	Status   string          `json:"status"`
	Input    json.RawMessage `json:"input"`
	Output   string          `json:"output"`
	Title    string          `json:"title"`
	Error    string          `json:"error"`
	Metadata json.RawMessage `json:"metadata"`
}

// nativeError is the error union of messages and session.error
// (APIError, ProviderAuthError, UnknownError, MessageAbortedError, ...).
type nativeError struct {
	Name string `json:"name"`
	Data struct {
		Message      string `json:"message"`
		StatusCode   int    `json:"statusCode"`
		ProviderID   string `json:"providerID"`
		ResponseBody string `json:"responseBody"`
		IsRetryable  bool   `json:"isRetryable"`
	} `json:"data"`
}

type partUpdated struct {
	SessionID string `json:"sessionID"`
	Part      part   `json:"part"`
}

type messageUpdated struct {
	SessionID string      `json:"sessionID"`
	Info      messageInfo `json:"info"`
}

type sessionUpdated struct {
	SessionID string      `json:"sessionID"`
	Info      sessionInfo `json:"info"`
}

type partDelta struct {
	SessionID string `json:"sessionID"`
	MessageID string `json:"messageID"`
	PartID    string `json:"partID"`
	Field     string `json:"field"`
	Delta     string `json:"delta"`
}

type partRemoved struct {
	SessionID string `json:"sessionID"`
	MessageID string `json:"messageID"`
	PartID    string `json:"partID"`
}

type sessionStatus struct {
	SessionID string `json:"sessionID"`
	Status    struct {
		Type    string `json:"type"` // idle, busy, retry
		Attempt int    `json:"attempt"`
		Message string `json:"message"`
		Next    int64  `json:"next"`
	} `json:"status"`
}

type sessionError struct {
	SessionID string       `json:"sessionID"`
	Error     *nativeError `json:"error"`
}

// toolRef ties a permission or question to the tool call that raised it.
type toolRef struct {
	MessageID string `json:"messageID"`
	CallID    string `json:"callID"`
}

// permissionAsked is PermissionRequest (permission.asked).
type permissionAsked struct {
	ID         string          `json:"id"`
	SessionID  string          `json:"sessionID"`
	Permission string          `json:"permission"`
	Patterns   []string        `json:"patterns"`
	Metadata   json.RawMessage `json:"metadata"`
	Always     []string        `json:"always"`
	Tool       *toolRef        `json:"tool"`
}

// questionAsked is QuestionRequest (question.asked).
type questionAsked struct {
	ID        string         `json:"id"`
	SessionID string         `json:"sessionID"`
	Questions []questionInfo `json:"questions"`
	Tool      *toolRef       `json:"tool"`
}

type questionInfo struct {
	Question string `json:"question"`
	Header   string `json:"header"`
	Options  []struct {
		Label       string `json:"label"`
		Description string `json:"description"`
	} `json:"options"`
	Multiple bool  `json:"multiple"`
	Custom   *bool `json:"custom"`
}

// replied is permission.replied, question.replied and question.rejected.
type replied struct {
	SessionID string     `json:"sessionID"`
	RequestID string     `json:"requestID"`
	Reply     string     `json:"reply"`
	Answers   [][]string `json:"answers"`
}

// agentInfo is one entry of GET /agent.
type agentInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Mode        string `json:"mode"` // primary, subagent, all
	Hidden      bool   `json:"hidden"`
}

// providersResponse is GET /config/providers.
type providersResponse struct {
	Providers []struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Models map[string]struct {
			ID       string                     `json:"id"`
			Name     string                     `json:"name"`
			Variants map[string]json.RawMessage `json:"variants"`
		} `json:"models"`
	} `json:"providers"`
	Default map[string]string `json:"default"`
}
