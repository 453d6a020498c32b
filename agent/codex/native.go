package codex

import "encoding/json"

// The app-server's v2 wire types, as far as the adapter reads or writes
// them. Checked against the CLI's own schema (codex app-server
// generate-json-schema, 0.169.0); fields we do not read are left out.

// Methods the adapter calls.
const (
	methodInitialize    = "initialize"
	methodInitialized   = "initialized"
	methodThreadStart   = "thread/start"
	methodThreadResume  = "thread/resume"
	methodTurnStart     = "turn/start"
	methodTurnInterrupt = "turn/interrupt"
	methodModelList     = "model/list"
	methodConfigRead    = "config/read"
)

// Server requests the adapter answers.
const (
	reqCommandApproval = "item/commandExecution/requestApproval"
	reqFileApproval    = "item/fileChange/requestApproval"
	reqUserInput       = "item/tool/requestUserInput"
)

type clientInfo struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	Version string `json:"version"`
}

type initializeParams struct {
	ClientInfo   clientInfo `json:"clientInfo"`
	Capabilities struct {
		ExperimentalAPI bool `json:"experimentalApi"`
	} `json:"capabilities"`
}

// threadParams are the fields thread/start and thread/resume share.
type threadParams struct {
	ThreadID       string         `json:"threadId,omitempty"`
	Cwd            string         `json:"cwd,omitempty"`
	ApprovalPolicy string         `json:"approvalPolicy,omitempty"`
	Sandbox        string         `json:"sandbox,omitempty"`
	Model          string         `json:"model,omitempty"`
	Config         map[string]any `json:"config,omitempty"`
}

type threadResult struct {
	Thread struct {
		ID            string  `json:"id"`
		Model         string  `json:"model"`
		ModelProvider string  `json:"modelProvider"`
		Cwd           string  `json:"cwd"`
		Path          *string `json:"path"`
	} `json:"thread"`
}

type userInput struct {
	Type         string            `json:"type"`
	Text         string            `json:"text,omitempty"`
	TextElements []json.RawMessage `json:"text_elements,omitempty"`
	Path         string            `json:"path,omitempty"`
	URL          string            `json:"url,omitempty"`
}

type turnStartParams struct {
	ThreadID string      `json:"threadId"`
	Input    []userInput `json:"input"`
	Model    string      `json:"model,omitempty"`
	Effort   string      `json:"effort,omitempty"`
	// Overrides for this turn and the next ones (after a plan approval).
	ApprovalPolicy string            `json:"approvalPolicy,omitempty"`
	SandboxPolicy  map[string]string `json:"sandboxPolicy,omitempty"`
}

type turnResult struct {
	Turn nativeTurn `json:"turn"`
}

type nativeTurn struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Error      *turnError      `json:"error"`
	DurationMs *int64          `json:"durationMs"`
	Items      json.RawMessage `json:"items,omitempty"`
}

type turnError struct {
	Message           string          `json:"message"`
	CodexErrorInfo    json.RawMessage `json:"codexErrorInfo"`
	AdditionalDetails *string         `json:"additionalDetails"`
}

type turnInterruptParams struct {
	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId"`
}

// envelope holds the routing fields every thread notification carries.
type envelope struct {
	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId"`
	Thread   *struct {
		ID string `json:"id"`
	} `json:"thread"`
}

func (e envelope) thread() string {
	if e.ThreadID != "" {
		return e.ThreadID
	}
	if e.Thread != nil {
		return e.Thread.ID
	}
	return ""
}

type itemNotification struct {
	Item     json.RawMessage `json:"item"`
	ThreadID string          `json:"threadId"`
	TurnID   string          `json:"turnId"`
}

// threadItem is the flat union of ThreadItem variants; Type selects which
// fields mean something.
type threadItem struct {
	Type string `json:"type"`
	ID   string `json:"id"`

	// userMessage
	Content json.RawMessage `json:"content"`
	// agentMessage, plan
	Text string `json:"text"`
	// reasoning
	Summary []string `json:"summary"`
	// commandExecution
	Command          string  `json:"command"`
	Cwd              string  `json:"cwd"`
	Status           string  `json:"status"`
	AggregatedOutput *string `json:"aggregatedOutput"`
	ExitCode         *int    `json:"exitCode"`
	DurationMs       *int64  `json:"durationMs"`
	// fileChange
	Changes []fileUpdateChange `json:"changes"`
	// mcpToolCall, dynamicToolCall, collabAgentToolCall
	Server    string          `json:"server"`
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	Result    json.RawMessage `json:"result"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error"`
	Prompt string `json:"prompt"`
	// webSearch
	Query  string          `json:"query"`
	Action json.RawMessage `json:"action"`
	// imageView
	Path string `json:"path"`
	// enteredReviewMode, exitedReviewMode
	Review json.RawMessage `json:"review"`
}

type fileUpdateChange struct {
	Path string `json:"path"`
	Kind struct {
		Type     string  `json:"type"`
		MovePath *string `json:"move_path"`
	} `json:"kind"`
	Diff string `json:"diff"`
}

type deltaNotification struct {
	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId"`
	ItemID   string `json:"itemId"`
	Delta    string `json:"delta"`
}

type turnNotification struct {
	ThreadID string     `json:"threadId"`
	Turn     nativeTurn `json:"turn"`
}

type errorNotification struct {
	Error     turnError `json:"error"`
	ThreadID  string    `json:"threadId"`
	TurnID    string    `json:"turnId"`
	WillRetry bool      `json:"willRetry"`
}

type warningNotification struct {
	Message string `json:"message"`
}

type tokenUsageNotification struct {
	TurnID     string          `json:"turnId"`
	TokenUsage json.RawMessage `json:"tokenUsage"`
}

type planNotification struct {
	Explanation *string         `json:"explanation"`
	Plan        json.RawMessage `json:"plan"`
}

type diffNotification struct {
	Diff string `json:"diff"`
}

// approvalRef says what an approval is about.
type approvalRef struct {
	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId"`
	ItemID   string `json:"itemId"`
}

type commandApproval struct {
	approvalRef
	Command   *string         `json:"command"`
	Cwd       *string         `json:"cwd"`
	Reason    *string         `json:"reason"`
	Actions   json.RawMessage `json:"commandActions"`
	Decisions json.RawMessage `json:"availableDecisions"`
}

type fileApproval struct {
	approvalRef
	Reason    *string `json:"reason"`
	GrantRoot *string `json:"grantRoot"`
}

type userInputRequest struct {
	ThreadID  string          `json:"threadId"`
	TurnID    string          `json:"turnId"`
	ItemID    string          `json:"itemId"`
	Questions []inputQuestion `json:"questions"`
}

type inputQuestion struct {
	ID       string `json:"id"`
	Header   string `json:"header"`
	Question string `json:"question"`
	IsOther  bool   `json:"isOther"`
	IsSecret bool   `json:"isSecret"`
	Options  []struct {
		Label       string `json:"label"`
		Description string `json:"description"`
	} `json:"options"`
}

type decisionResponse struct {
	Decision string `json:"decision"`
}

type userInputResponse struct {
	Answers map[string]userInputAnswer `json:"answers"`
}

type userInputAnswer struct {
	Answers []string `json:"answers"`
}

type modelListParams struct {
	Cursor *string `json:"cursor,omitempty"`
}

type modelListResult struct {
	Data []struct {
		ID                        string `json:"id"`
		Model                     string `json:"model"`
		DisplayName               string `json:"displayName"`
		Hidden                    bool   `json:"hidden"`
		IsDefault                 bool   `json:"isDefault"`
		DefaultReasoningEffort    string `json:"defaultReasoningEffort"`
		SupportedReasoningEfforts []struct {
			ReasoningEffort string `json:"reasoningEffort"`
		} `json:"supportedReasoningEfforts"`
	} `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

type configReadResult struct {
	Config struct {
		Model *string `json:"model"`
	} `json:"config"`
}
