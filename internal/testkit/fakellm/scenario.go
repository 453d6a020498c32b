package fakellm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// DefaultText is the reply when a scenario has run out of steps and sets no
// Fallback. It is short so that an agent that asks once too often still ends
// its turn instead of hanging.
const DefaultText = "Done."

// Scenario scripts the fake model for one test.
//
// Every model request (Anthropic /messages, OpenAI /responses or
// /chat/completions) is first checked against Side. A request that matches a
// side rule is answered by that rule and consumes nothing; this keeps title
// generation and similar housekeeping requests from eating the script. Any
// other request consumes the next entry of Steps. Once Steps is exhausted,
// Fallback answers (or Text(DefaultText) when Fallback is nil).
type Scenario struct {
	// Steps answer the real turns, one request each, in order. An agent that
	// runs a tool sends the tool result in a new request, which takes the
	// next step.
	Steps []Step `json:"steps,omitempty"`
	// Side answers housekeeping requests without consuming Steps. Nil means
	// DefaultSideRules(); an empty, non-nil slice (JSON `[]`) disables them.
	Side []SideRule `json:"side,omitempty"`
	// Fallback answers once Steps is exhausted. Nil means Text(DefaultText).
	Fallback *Step `json:"fallback,omitempty"`
}

// Script returns a Scenario with the given steps and default side rules and
// fallback.
func Script(steps ...Step) Scenario { return Scenario{Steps: steps} }

// Step is one scripted model reply. Its parts are emitted in a fixed order:
// thinking, text, then tool calls. A Step with none of them is an empty text
// reply. Error replaces the whole reply unless Error.InStream is set.
type Step struct {
	// Thinking is emitted first, as an Anthropic thinking block (with a fake
	// signature), a Responses reasoning item with a summary, or Chat
	// `reasoning_content` deltas.
	Thinking string `json:"thinking,omitempty"`
	// Text is the assistant text, sent as one delta.
	Text string `json:"text,omitempty"`
	// Chunks, when set, replace Text: each is sent as its own delta.
	Chunks []string `json:"chunks,omitempty"`
	// Calls are tool calls emitted after the text, in order (parallel calls
	// when there are several).
	Calls []Call `json:"calls,omitempty"`
	// Error makes the request fail with a provider-shaped error.
	Error *APIError `json:"error,omitempty"`
	// StopReason overrides the stop reason: Anthropic stop_reason (default
	// end_turn or tool_use) or Chat finish_reason (default stop or
	// tool_calls). The Responses API has none.
	StopReason string `json:"stop_reason,omitempty"`
	// Usage overrides the token counts reported (default 100 in, 20 out).
	Usage *Usage `json:"usage,omitempty"`
	// Delay waits before the response headers are written.
	Delay Duration `json:"delay,omitempty"`
	// EventDelay waits between stream events, so that a test can observe (or
	// interrupt) a turn while it is still streaming.
	EventDelay Duration `json:"event_delay,omitempty"`
	// CutAfter, when positive, drops the connection after that many stream
	// events (SSE events, or chunks for Chat), without a proper ending. For a
	// non-streaming request, half the JSON body is written instead.
	CutAfter int `json:"cut_after,omitempty"`
	// Markers computes the reply from FAKE_* markers in the prompt (see
	// Markers).
	Markers bool `json:"markers,omitempty"`
	// Func computes the reply from the request. It takes precedence over
	// every other field; the returned Step is used as is.
	Func func(*Request) Step `json:"-"`
}

// Usage is the token count a reply reports.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// APIError is a scripted failure, shaped like the provider's own errors.
type APIError struct {
	// Status is the HTTP status (401, 429, 500, 529, ...). Default 500.
	Status int `json:"status,omitempty"`
	// Type is the provider error type. Empty picks the provider's usual type
	// for Status (e.g. Anthropic rate_limit_error, OpenAI server_error).
	Type string `json:"type,omitempty"`
	// Code is the OpenAI error code (e.g. rate_limit_exceeded,
	// insufficient_quota, invalid_api_key). Empty picks one from Status.
	Code string `json:"code,omitempty"`
	// Message is the human-readable error text.
	Message string `json:"message,omitempty"`
	// Headers are added to the error response (e.g. retry-after).
	Headers map[string]string `json:"headers,omitempty"`
	// NoRetry sends `x-should-retry: false`, which the Stainless-generated
	// SDKs (and so Claude Code) obey instead of retrying with backoff.
	NoRetry bool `json:"no_retry,omitempty"`
	// InStream sends a normal 200 stream with the step's content and then
	// the error in place of the normal ending: an Anthropic `error` event, a
	// Responses `response.failed`, or a Chat `{"error":...}` chunk.
	InStream bool `json:"in_stream,omitempty"`
}

// Action names a portable tool call that is resolved, per request, against
// the tools the agent offered (see Call).
type Action string

// Portable tool-call actions.
const (
	// ActBash runs Command with the agent's shell tool (Claude Bash,
	// OpenCode bash, Codex exec_command / shell).
	ActBash Action = "bash"
	// ActWrite writes Content to Path (Claude Write, OpenCode write; Codex
	// gets an apply_patch that adds the file).
	ActWrite Action = "write"
	// ActEdit replaces Old with New in Path (Claude Edit, OpenCode edit;
	// Codex gets an apply_patch that updates the file).
	ActEdit Action = "edit"
	// ActRead reads Path (Claude Read, OpenCode read; Codex runs cat).
	ActRead Action = "read"
	// ActAsk asks Questions (Claude AskUserQuestion, OpenCode question,
	// Codex request_user_input).
	ActAsk Action = "ask"
	// ActExitPlan proposes Plan (Claude ExitPlanMode, or plan_exit when
	// offered; Codex, which has no such tool, gets a <proposed_plan> text
	// block).
	ActExitPlan Action = "exit_plan"
)

// Call is one tool call. Either Name (with Input or Raw) calls that exact
// tool, or Do names a portable Action whose tool name and argument keys are
// picked from the request's tools list (falling back to the usual tool of the
// request's API when none is offered). With Do set, Name forces the tool name
// while the arguments are still built for the action.
type Call struct {
	// Do is the portable action; empty for a literal call.
	Do Action `json:"do,omitempty"`
	// Name is the exact tool name.
	Name string `json:"name,omitempty"`
	// Input is the JSON argument object of a literal call.
	Input json.RawMessage `json:"input,omitempty"`
	// Raw is the freeform input of a custom tool such as Codex's apply_patch.
	// The Responses API emits it as a custom_tool_call; APIs without custom
	// tools get a function call with arguments {"input": Raw}.
	Raw string `json:"raw,omitempty"`
	// ID is the tool call id; empty generates one (toolu_…, call_…).
	ID string `json:"id,omitempty"`

	// Command is the shell command of ActBash.
	Command string `json:"command,omitempty"`
	// Path is the file of ActWrite, ActEdit and ActRead.
	Path string `json:"path,omitempty"`
	// Content is the file content of ActWrite.
	Content string `json:"content,omitempty"`
	// Old and New are the replaced and replacing text of ActEdit.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Plan is the plan text of ActExitPlan.
	Plan string `json:"plan,omitempty"`
	// Questions are the questions of ActAsk.
	Questions []Question `json:"questions,omitempty"`
}

// Question is one question of ActAsk.
type Question struct {
	// ID is the Codex request_user_input question id; empty derives one from
	// Header.
	ID       string `json:"id,omitempty"`
	Header   string `json:"header,omitempty"`
	Question string `json:"question"`
	// Options are the choices; Claude wants 2 to 4.
	Options     []Choice `json:"options,omitempty"`
	MultiSelect bool     `json:"multi_select,omitempty"`
}

// Choice is one option of a Question.
type Choice struct {
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
}

// NewQuestion returns a Question with one option per label.
func NewQuestion(header, question string, labels ...string) Question {
	q := Question{Header: header, Question: question}
	for _, l := range labels {
		q.Options = append(q.Options, Choice{Label: l})
	}
	return q
}

// SideRule answers matching requests without consuming a scenario step.
type SideRule struct {
	Match Match `json:"match"`
	// Reply answers the request. A zero Reply means the default title reply
	// (see TitleReply).
	Reply Step `json:"reply"`
}

// Match selects requests. All the conditions that are set must hold; a zero
// Match matches every model request.
type Match struct {
	// NoTools matches requests that offer no tools (title generation, quota
	// checks).
	NoTools bool `json:"no_tools,omitempty"`
	// SystemContains matches when the system prompt contains the string.
	SystemContains string `json:"system_contains,omitempty"`
	// UserContains matches when the newest user text contains the string.
	UserContains string `json:"user_contains,omitempty"`
	// API matches one wire format.
	API API `json:"api,omitempty"`
	// Func, when set, must also return true.
	Func func(*Request) bool `json:"-"`
}

// Matches reports whether r meets every condition of m.
func (m Match) Matches(r *Request) bool {
	if m.NoTools && len(r.ToolSpecs()) > 0 {
		return false
	}
	if m.SystemContains != "" && !strings.Contains(r.SystemText(), m.SystemContains) {
		return false
	}
	if m.UserContains != "" && !strings.Contains(r.LastUserText(), m.UserContains) {
		return false
	}
	if m.API != "" && m.API != r.API {
		return false
	}
	if m.Func != nil && !m.Func(r) {
		return false
	}
	return true
}

// DefaultSideRules answers every tool-less request with TitleReply. Real
// agents send tool-less requests only for housekeeping: OpenCode asks for a
// conversation title before each prompt, and Claude Code does the same (and a
// quota probe) unless CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1.
func DefaultSideRules() []SideRule {
	return []SideRule{{Match: Match{NoTools: true}, Reply: TitleReply()}}
}

// TitleReply answers a title request: `{"title": "Fake title"}` when the
// system prompt or the user text mentions JSON (Claude Code's title prompt
// does), otherwise the plain text "Fake title".
func TitleReply() Step {
	return Func(func(r *Request) Step {
		if strings.Contains(strings.ToLower(r.SystemText()+r.LastUserText()), "json") {
			return Text(`{"title": "Fake title"}`)
		}
		return Text("Fake title")
	})
}

// Duration is a time.Duration that reads from JSON as a Go duration string
// ("1.5s") or a number of milliseconds.
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var ms float64
	if err := json.Unmarshal(b, &ms); err == nil {
		*d = Duration(ms * float64(time.Millisecond))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string like \"1.5s\" or milliseconds, got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// ParseScenario reads a Scenario from JSON (see the package documentation for
// the format). Unknown fields are errors, so that a typo does not silently
// change a script.
func ParseScenario(data []byte) (Scenario, error) {
	var sc Scenario
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("fakellm: parse scenario: %w", err)
	}
	if err := sc.Validate(); err != nil {
		return Scenario{}, err
	}
	return sc, nil
}

// LoadScenario reads a Scenario from a JSON file.
func LoadScenario(path string) (Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("fakellm: %w", err)
	}
	return ParseScenario(data)
}

// Validate reports steps that cannot be answered, such as a call with neither
// a name nor an action.
func (sc Scenario) Validate() error {
	var errs []error
	check := func(where string, s Step) {
		if err := s.validate(); err != nil {
			errs = append(errs, fmt.Errorf("fakellm: %s: %w", where, err))
		}
	}
	for i, s := range sc.Steps {
		check(fmt.Sprintf("steps[%d]", i), s)
	}
	for i, r := range sc.Side {
		check(fmt.Sprintf("side[%d].reply", i), r.Reply)
	}
	if sc.Fallback != nil {
		check("fallback", *sc.Fallback)
	}
	return errors.Join(errs...)
}

func (s Step) validate() error {
	for i, c := range s.Calls {
		switch c.Do {
		case "":
			if c.Name == "" {
				return fmt.Errorf("calls[%d]: needs a name or a do action", i)
			}
			if len(c.Input) > 0 && !json.Valid(c.Input) {
				return fmt.Errorf("calls[%d]: input is not valid JSON", i)
			}
		case ActBash, ActWrite, ActEdit, ActRead, ActAsk, ActExitPlan:
		default:
			return fmt.Errorf("calls[%d]: unknown action %q", i, c.Do)
		}
	}
	if s.Error != nil && s.Error.Status != 0 && (s.Error.Status < 400 || s.Error.Status > 599) {
		return fmt.Errorf("error status %d is not 4xx or 5xx", s.Error.Status)
	}
	if s.CutAfter < 0 {
		return errors.New("cut_after is negative")
	}
	return nil
}
