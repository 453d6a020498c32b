package claude

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// A stand-in for the claude CLI: the test binary run with FAKE_CLAUDE=1.
// It speaks the stream-json + control protocol the way the captures show,
// with scripted turns chosen by the prompt's first word:
//
//	hello     streamed text reply
//	perm      Bash call behind a can_use_tool permission
//	ask       AskUserQuestion behind can_use_tool
//	hang      streams, then waits for an interrupt and ends aborted
//	stubborn  streams, then ignores interrupts
//	crash     dies mid-turn with status 3
//	bye       replies, then exits 0 between turns
//	fail      the turn fails (an error result, not an interrupt)
//	later     replies, then starts a turn of its own (a background
//	          sub-agent finished) and waits in it for an interrupt
//
// FAKE_CLAUDE_ARGS (a file) gets one line of arguments per start;
// FAKE_CLAUDE_FAIL_RESUME=1 makes --resume of any other session than its
// own fail the way the CLI does. FAKE_CLAUDE_NO_INIT=1: never answers
// initialize (says so on stderr); FAKE_CLAUDE_DEAF=1: answers it, then
// never reads stdin again.

func TestMain(m *testing.M) {
	if os.Getenv("FAKE_CLAUDE") == "1" {
		fakeClaude()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type fake struct {
	sid       string
	wmu       sync.Mutex
	responses chan map[string]any // control_responses to our requests
	interrupt chan string         // interrupt request ids
	users     chan string
}

func (f *fake) send(v any) {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	b, _ := json.Marshal(v)
	os.Stdout.Write(append(b, '\n'))
}

func fakeClaude() {
	f := &fake{sid: "fake-session-1", responses: make(chan map[string]any, 8), interrupt: make(chan string, 8), users: make(chan string, 8)}
	args := os.Args[1:]
	for i, a := range args {
		if a == "--resume" && i+1 < len(args) {
			f.sid = args[i+1]
		}
	}
	if f.sid != "fake-session-1" && os.Getenv("FAKE_CLAUDE_FAIL_RESUME") == "1" {
		fmt.Fprintln(os.Stderr, "No conversation found with session ID: "+f.sid)
		os.Exit(1)
	}
	if path := os.Getenv("FAKE_CLAUDE_ARGS"); path != "" {
		if fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(fh, strings.Join(args, " "))
			fh.Close()
		}
	}
	if os.Getenv("FAKE_CLAUDE_NO_INIT") == "1" {
		fmt.Fprintln(os.Stderr, "fake: waiting for a login that never comes")
		select {}
	}
	go f.readStdin()
	for text := range f.users {
		f.turn(text)
	}
}

func (f *fake) readStdin() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		switch l["type"] {
		case "control_request":
			id, _ := l["request_id"].(string)
			req, _ := l["request"].(map[string]any)
			switch req["subtype"] {
			case "initialize":
				f.send(map[string]any{"type": "control_response", "response": map[string]any{"subtype": "success", "request_id": id,
					"response": map[string]any{"commands": []any{}, "models": []any{}, "pid": os.Getpid()}}})
				if os.Getenv("FAKE_CLAUDE_DEAF") == "1" {
					select {} // stops reading: stdin fills up
				}
			case "interrupt":
				f.send(map[string]any{"type": "control_response", "response": map[string]any{"subtype": "success", "request_id": id, "response": map[string]any{}}})
				f.interrupt <- id
			}
		case "control_response":
			resp, _ := l["response"].(map[string]any)
			f.responses <- resp
		case "user":
			msg, _ := l["message"].(map[string]any)
			text, _ := msg["content"].(string)
			if blocks, ok := msg["content"].([]any); ok && len(blocks) > 0 {
				b, _ := blocks[0].(map[string]any)
				text, _ = b["text"].(string)
			}
			f.users <- text
		}
	}
	close(f.users)
}

func (f *fake) line(typ string, kv ...any) map[string]any {
	m := map[string]any{"type": typ, "session_id": f.sid}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func (f *fake) stream(id string, ev map[string]any) {
	f.send(f.line("stream_event", "event", ev, "parent_tool_use_id", nil, "api_message_id", id))
}

func (f *fake) text(id, text string) {
	f.stream(id, map[string]any{"type": "message_start", "message": map[string]any{"id": id, "role": "assistant", "content": []any{}}})
	f.stream(id, map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
	f.stream(id, map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": text}})
	f.assistant(id, map[string]any{"type": "text", "text": text})
	f.stream(id, map[string]any{"type": "content_block_stop", "index": 0})
	f.stream(id, map[string]any{"type": "message_stop"})
}

func (f *fake) assistant(id string, block map[string]any) {
	f.send(f.line("assistant", "message", map[string]any{"id": id, "role": "assistant", "model": "fake", "content": []any{block}}, "parent_tool_use_id", nil))
}

func (f *fake) result(text string, kv ...any) {
	m := f.line("result", "subtype", "success", "is_error", false, "result", text, "num_turns", 1, "duration_ms", 5, "total_cost_usd", 0)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	f.send(m)
}

func (f *fake) toolTurn(tool, toolID, reqID string, input map[string]any, onAllow func(resp map[string]any) string) {
	f.assistant("msg_call_"+toolID, map[string]any{"type": "tool_use", "id": toolID, "name": tool, "input": input})
	f.send(map[string]any{"type": "control_request", "request_id": reqID, "request": map[string]any{
		"subtype": "can_use_tool", "tool_name": tool, "input": input, "tool_use_id": toolID,
		"permission_suggestions": []any{map[string]any{"type": "addRules", "rules": []any{map[string]any{"toolName": tool}}, "behavior": "allow", "destination": "localSettings"}},
	}})
	resp := <-f.responses
	inner, _ := resp["response"].(map[string]any)
	block := map[string]any{"type": "tool_result", "tool_use_id": toolID}
	if inner["behavior"] == "allow" {
		block["content"] = onAllow(inner)
	} else {
		block["content"], block["is_error"] = inner["message"], true
	}
	f.send(f.line("user", "message", map[string]any{"role": "user", "content": []any{block}}, "parent_tool_use_id", nil))
	f.text("msg_after_"+toolID, "after "+tool)
	f.result("after " + tool)
}

func (f *fake) turn(text string) {
	f.send(f.line("system", "subtype", "init", "model", "fake", "permissionMode", "default", "tools", []any{"Bash"}, "cwd", "/"))
	word, _, _ := strings.Cut(text, " ")
	switch word {
	case "perm":
		f.toolTurn("Bash", "toolu_perm", "req-perm", map[string]any{"command": "echo ok"}, func(map[string]any) string { return "ok" })
	case "ask":
		input := map[string]any{"questions": []any{map[string]any{"question": "Color?", "header": "C", "multiSelect": false,
			"options": []any{map[string]any{"label": "Red"}, map[string]any{"label": "Blue"}}}}}
		f.toolTurn("AskUserQuestion", "toolu_ask", "req-ask", input, func(resp map[string]any) string {
			in, _ := resp["updatedInput"].(map[string]any)
			b, _ := json.Marshal(in["answers"])
			return "answers " + string(b)
		})
	case "hang", "stubborn":
		id := "msg_" + word
		f.stream(id, map[string]any{"type": "message_start", "message": map[string]any{"id": id}})
		f.stream(id, map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": "working"}})
		<-f.interrupt
		if word == "stubborn" {
			select {}
		}
		f.send(f.line("result", "subtype", "error_during_execution", "is_error", true, "errors", []any{}, "terminal_reason", "aborted_streaming"))
	case "crash":
		f.stream("msg_crash", map[string]any{"type": "message_start", "message": map[string]any{"id": "msg_crash"}})
		fmt.Fprintln(os.Stderr, "fatal: the fake crashed")
		os.Exit(3)
	case "later":
		f.text("msg_later", "started in the background")
		f.result("started in the background")
		f.send(f.line("system", "subtype", "init", "model", "fake", "permissionMode", "default", "tools", []any{"Bash"}, "cwd", "/"))
		f.text("msg_report", "the sub-agent reported")
		<-f.interrupt
		f.send(f.line("result", "subtype", "error_during_execution", "is_error", true, "errors", []any{}, "terminal_reason", "aborted_streaming"))
	case "fail":
		f.send(f.line("result", "subtype", "error_during_execution", "is_error", true, "errors", []any{"the model refused"}))
	case "bye":
		f.text("msg_bye", "bye")
		f.result("bye")
		os.Exit(0)
	default:
		f.text("msg_hello", "Hello "+text)
		f.result("Hello " + text)
	}
}
