package fakellm

import (
	"encoding/json"
	"fmt"
	"time"
)

// Text returns a Step that replies with text as one delta.
func Text(text string) Step { return Step{Text: text} }

// TextChunks returns a Step that replies with one delta per chunk.
func TextChunks(chunks ...string) Step { return Step{Chunks: chunks} }

// Thinking returns a Step that thinks (or reasons) and then replies with text.
func Thinking(thought, text string) Step { return Step{Thinking: thought, Text: text} }

// Calls returns a Step that makes several tool calls in one reply.
func Calls(calls ...Call) Step { return Step{Calls: calls} }

// Tool returns a Step that calls the named tool with input marshalled to
// JSON. It panics when input cannot be marshalled: that is a bug in the test.
func Tool(name string, input any) Step { return Step{Calls: []Call{ToolCall(name, input)}} }

// ToolCall returns a literal Call of the named tool with input marshalled to
// JSON (nil becomes {}). It panics when input cannot be marshalled.
func ToolCall(name string, input any) Call {
	if input == nil {
		return Call{Name: name, Input: json.RawMessage(`{}`)}
	}
	if raw, ok := input.(json.RawMessage); ok {
		return Call{Name: name, Input: raw}
	}
	b, err := json.Marshal(input)
	if err != nil {
		panic(fmt.Sprintf("fakellm: tool %s input: %v", name, err))
	}
	return Call{Name: name, Input: b}
}

// CustomTool returns a Step that calls a custom (freeform) tool with raw
// input.
func CustomTool(name, raw string) Step { return Step{Calls: []Call{{Name: name, Raw: raw}}} }

// ApplyPatch returns a Step that calls Codex's apply_patch custom tool with
// the given patch text (see AddFilePatch and UpdateFilePatch).
func ApplyPatch(patch string) Step { return CustomTool("apply_patch", patch) }

// Bash returns a Step that runs command with the agent's shell tool.
func Bash(command string) Step { return Step{Calls: []Call{{Do: ActBash, Command: command}}} }

// Write returns a Step that writes content to path with the agent's write
// tool.
func Write(path, content string) Step {
	return Step{Calls: []Call{{Do: ActWrite, Path: path, Content: content}}}
}

// Edit returns a Step that replaces old with new in path with the agent's
// edit tool.
func Edit(path, old, new string) Step {
	return Step{Calls: []Call{{Do: ActEdit, Path: path, Old: old, New: new}}}
}

// Read returns a Step that reads path with the agent's read tool.
func Read(path string) Step { return Step{Calls: []Call{{Do: ActRead, Path: path}}} }

// AskUserQuestion returns a Step that asks the user with the agent's question
// tool.
func AskUserQuestion(questions ...Question) Step {
	return Step{Calls: []Call{{Do: ActAsk, Questions: questions}}}
}

// ExitPlanMode returns a Step that proposes plan with the agent's exit-plan
// tool.
func ExitPlanMode(plan string) Step { return Step{Calls: []Call{{Do: ActExitPlan, Plan: plan}}} }

// Error returns a Step that fails with the given HTTP status and message.
func Error(status int, message string) Step {
	return Step{Error: &APIError{Status: status, Message: message}}
}

// Func returns a Step computed from each request it answers.
func Func(f func(*Request) Step) Step { return Step{Func: f} }

// Repeat returns n copies of step, e.g. to answer every retry of an agent
// with the same error.
func Repeat(n int, step Step) []Step {
	out := make([]Step, n)
	for i := range out {
		out[i] = step
	}
	return out
}

// WithThinking returns a copy of s that thinks first.
func (s Step) WithThinking(thought string) Step { s.Thinking = thought; return s }

// WithText returns a copy of s with text before its tool calls.
func (s Step) WithText(text string) Step { s.Text, s.Chunks = text, nil; return s }

// WithDelay returns a copy of s that waits d before responding.
func (s Step) WithDelay(d time.Duration) Step { s.Delay = Duration(d); return s }

// WithEventDelay returns a copy of s that waits d between stream events.
func (s Step) WithEventDelay(d time.Duration) Step { s.EventDelay = Duration(d); return s }

// WithCut returns a copy of s whose stream is cut after n events.
func (s Step) WithCut(n int) Step { s.CutAfter = n; return s }

// WithUsage returns a copy of s reporting the given token counts.
func (s Step) WithUsage(in, out int) Step {
	s.Usage = &Usage{InputTokens: in, OutputTokens: out}
	return s
}

// InStream returns a copy of s whose error arrives inside a 200 stream, after
// the step's content. It does nothing for a Step without Error.
func (s Step) InStream() Step {
	if s.Error != nil {
		e := *s.Error
		e.InStream = true
		s.Error = &e
	}
	return s
}
