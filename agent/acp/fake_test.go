package acp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent/jsonrpc"
)

// The fake ACP agent: this test binary started with envFake=1 speaks the
// agent side of ACP on its stdio, scripted by keywords in the prompt, and
// logs every line it reads and writes to $envFakeLog so that the protocol
// tests can check the whole conversation against the schema.

const (
	envFake    = "ACP_FAKE_AGENT"
	envFakeLog = "ACP_FAKE_LOG"
)

func TestMain(m *testing.M) {
	// Never run the tests from a child: the fake agent is the only thing a
	// child of this binary may be (and a --version probe gets an answer).
	if os.Getenv(envFake) == "1" {
		runFakeAgent()
		os.Exit(0)
	}
	for _, a := range os.Args[1:] {
		if a == "--version" {
			fmt.Println("fake-acp 0.0.1")
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}

// logWriter appends lines to the log with a direction prefix.
type logWriter struct {
	mu  sync.Mutex
	f   *os.File
	dir string
}

func (l *logWriter) line(b []byte) {
	if l.f == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.f, "%s %s\n", l.dir, strings.TrimRight(string(b), "\n"))
}

type teeReader struct {
	r   *bufio.Reader
	log *logWriter
	buf []byte
}

func (t *teeReader) Read(p []byte) (int, error) {
	if len(t.buf) == 0 {
		line, err := t.r.ReadBytes('\n')
		if len(line) > 0 {
			t.log.line(line)
			t.buf = line
		}
		if len(t.buf) == 0 {
			return 0, err
		}
	}
	n := copy(p, t.buf)
	t.buf = t.buf[n:]
	return n, nil
}

type teeWriter struct {
	w   io.Writer
	log *logWriter
	mu  sync.Mutex
}

func (t *teeWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.log.line(p)
	return t.w.Write(p)
}

type fakeAgent struct {
	rpc     *jsonrpc.Conn
	ready   chan struct{} // closed once rpc is set
	sid     string
	mu      sync.Mutex
	cancel  chan struct{}
	crashed bool
}

func runFakeAgent() {
	var f *os.File
	if p := os.Getenv(envFakeLog); p != "" {
		f, _ = os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	}
	a := &fakeAgent{sid: "fake-session-1", cancel: make(chan struct{}, 1), ready: make(chan struct{})}
	in := &teeReader{r: bufio.NewReader(os.Stdin), log: &logWriter{f: f, dir: ">"}}
	out := &teeWriter{w: os.Stdout, log: &logWriter{f: f, dir: "<"}}
	a.rpc = jsonrpc.New(in, out, a, jsonrpc.Options{Timeout: time.Minute})
	close(a.ready)
	<-a.rpc.Done()
}

func (a *fakeAgent) Invalid([]byte, error) {}

func (a *fakeAgent) Notification(method string, params json.RawMessage, _ []byte) {
	if method == "session/cancel" {
		select {
		case a.cancel <- struct{}{}:
		default:
		}
	}
}

func (a *fakeAgent) Request(id json.RawMessage, method string, params json.RawMessage, _ []byte) {
	<-a.ready
	switch method {
	case "initialize":
		_ = a.rpc.Reply(id, json.RawMessage(`{"protocolVersion":1,"agentCapabilities":{"loadSession":true,"promptCapabilities":{"image":true},"mcpCapabilities":{"http":true,"sse":false}},"authMethods":[],"agentInfo":{"name":"fake-acp","version":"0.0.1"}}`))
	case "session/new", "session/load":
		var p struct {
			Cwd        string          `json:"cwd"`
			McpServers json.RawMessage `json:"mcpServers"`
		}
		_ = json.Unmarshal(params, &p)
		res := `{"sessionId":"` + a.sid + `","modes":{"currentModeId":"code","availableModes":[{"id":"code","name":"Code"},{"id":"architect","name":"Architect","description":"Plans only"}]},` +
			`"configOptions":[{"id":"model","name":"Model","category":"model","type":"select","currentValue":"fake-small","options":[{"value":"fake-small","name":"Fake Small"},{"value":"fake-large","name":"Fake Large"}]}]}`
		if method == "session/load" {
			if _, err := os.Stat(p.Cwd + "/.no-load"); err == nil {
				_ = a.rpc.ReplyError(id, &jsonrpc.Error{Code: codeResourceNotFound, Message: "Resource not found: session"})
				return
			}
			res = `{"modes":{"currentModeId":"code","availableModes":[{"id":"code","name":"Code"}]}}`
			// A loaded session replays its history first.
			a.update(`{"sessionUpdate":"user_message_chunk","content":{"type":"text","text":"earlier question"}}`)
			a.update(`{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"earlier answer"}}`)
		}
		_ = os.WriteFile(p.Cwd+"/.fake-mcp.json", p.McpServers, 0o644)
		_ = a.rpc.Reply(id, json.RawMessage(res))
	case "session/set_mode":
		_ = a.rpc.Reply(id, json.RawMessage(`{}`))
	case "session/set_config_option":
		_ = a.rpc.Reply(id, json.RawMessage(`{"configOptions":[]}`))
	case "session/prompt":
		var p promptParams
		_ = json.Unmarshal(params, &p)
		go a.prompt(id, p)
	default:
		_ = a.rpc.ReplyError(id, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "no " + method})
	}
}

func (a *fakeAgent) update(u string) {
	_ = a.rpc.Notify("session/update", map[string]any{"sessionId": a.sid, "update": json.RawMessage(u)})
}

func (a *fakeAgent) call(method string, params any) (json.RawMessage, error) {
	return a.rpc.CallRaw(context.Background(), method, params)
}

func (a *fakeAgent) end(id json.RawMessage, reason string) {
	_ = a.rpc.Reply(id, map[string]any{"stopReason": reason, "usage": map[string]int{"inputTokens": 7, "outputTokens": 3, "totalTokens": 10}})
}

func (a *fakeAgent) text(s string) {
	b, _ := json.Marshal(s)
	a.update(`{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":` + string(b) + `}}`)
}

func (a *fakeAgent) prompt(id json.RawMessage, p promptParams) {
	text := ""
	for _, b := range p.Prompt {
		text += b.Text
	}
	cwd, _ := os.Getwd()
	switch {
	case strings.Contains(text, "crash"):
		if strings.Contains(text, "forget") {
			_ = os.WriteFile(cwd+"/.no-load", nil, 0o644)
		}
		fmt.Fprintln(os.Stderr, "fake agent: crashing on purpose")
		os.Exit(3)
	case strings.Contains(text, "fail"):
		_ = a.rpc.ReplyError(id, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "Internal error", Data: json.RawMessage(`{"details":"the model said no"}`)})
	case strings.Contains(text, "hang"):
		res, _ := a.call("terminal/create", map[string]any{"sessionId": a.sid, "command": "sleep", "args": []string{"300"}})
		var tr createTerminalResult
		_ = json.Unmarshal(res, &tr)
		a.text("waiting in " + tr.TerminalID)
		<-a.cancel
		a.end(id, "cancelled")
	case strings.Contains(text, "tool"):
		a.tool(id, cwd)
	case strings.Contains(text, "escape"):
		_, err1 := a.call("fs/read_text_file", map[string]any{"sessionId": a.sid, "path": "/etc/hostname"})
		_, err2 := a.call("fs/write_text_file", map[string]any{"sessionId": a.sid, "path": cwd + "/../escaped.txt", "content": "x"})
		_, err3 := a.call("fs/read_text_file", map[string]any{"sessionId": a.sid, "path": cwd + "/missing.txt"})
		a.text(fmt.Sprintf("read outside: %v; write outside: %v; missing: %v", err1, err2, err3))
		a.end(id, "end_turn")
	case strings.Contains(text, "extras"):
		a.update(`{"sessionUpdate":"plan","entries":[{"content":"Look around","priority":"high","status":"completed"},{"content":"Change things","priority":"medium","status":"pending"}]}`)
		a.update(`{"sessionUpdate":"available_commands_update","availableCommands":[{"name":"init","description":"Write AGENTS.md"}]}`)
		a.update(`{"sessionUpdate":"current_mode_update","currentModeId":"architect"}`)
		a.update(`{"sessionUpdate":"usage_update","used":1200,"size":200000}`)
		a.update(`{"sessionUpdate":"agent_thought_chunk","content":{"type":"text","text":"Thinking it over."}}`)
		a.text("Done with extras.")
		a.end(id, "end_turn")
	default:
		a.update(`{"sessionUpdate":"agent_thought_chunk","messageId":"m1","content":{"type":"text","text":"Let me answer."}}`)
		a.update(`{"sessionUpdate":"agent_message_chunk","messageId":"m1","content":{"type":"text","text":"Hello"}}`)
		a.update(`{"sessionUpdate":"agent_message_chunk","messageId":"m1","content":{"type":"text","text":" from fake ACP."}}`)
		a.end(id, "end_turn")
	}
}

// tool asks for permission, then runs a command in a client terminal and
// writes and reads a file through the client.
func (a *fakeAgent) tool(id json.RawMessage, cwd string) {
	a.update(`{"sessionUpdate":"tool_call","toolCallId":"call_1","title":"Run echo","kind":"execute","status":"pending","rawInput":{"command":"echo fake-$((6*7))"}}`)
	res, err := a.call("session/request_permission", json.RawMessage(`{"sessionId":"`+a.sid+`","toolCall":{"toolCallId":"call_1","title":"Run echo","kind":"execute"},"options":[{"optionId":"yes","name":"Allow","kind":"allow_once"},{"optionId":"yes-always","name":"Always allow","kind":"allow_always"},{"optionId":"no","name":"Reject","kind":"reject_once"}]}`))
	var pr permissionResult
	_ = json.Unmarshal(res, &pr)
	if err != nil || pr.Outcome.Outcome != "selected" || pr.Outcome.OptionID == "no" {
		a.update(`{"sessionUpdate":"tool_call_update","toolCallId":"call_1","status":"failed","content":[{"type":"content","content":{"type":"text","text":"rejected"}}]}`)
		if pr.Outcome.Outcome == "cancelled" {
			a.end(id, "cancelled")
			return
		}
		a.text("Not running it.")
		a.end(id, "end_turn")
		return
	}
	a.update(`{"sessionUpdate":"tool_call_update","toolCallId":"call_1","status":"in_progress"}`)
	res, _ = a.call("terminal/create", map[string]any{"sessionId": a.sid, "command": "echo fake-$((6*7)); echo oops >&2", "outputByteLimit": 1000})
	var tr createTerminalResult
	_ = json.Unmarshal(res, &tr)
	ex, _ := a.call("terminal/wait_for_exit", map[string]any{"sessionId": a.sid, "terminalId": tr.TerminalID})
	out, _ := a.call("terminal/output", map[string]any{"sessionId": a.sid, "terminalId": tr.TerminalID})
	_, _ = a.call("terminal/release", map[string]any{"sessionId": a.sid, "terminalId": tr.TerminalID})
	var o terminalOutputResult
	_ = json.Unmarshal(out, &o)
	// The result names the (released) terminal only: its output is the
	// client's to fill in.
	a.update(`{"sessionUpdate":"tool_call_update","toolCallId":"call_1","status":"completed","content":[{"type":"terminal","terminalId":"` + tr.TerminalID + `"}],"rawOutput":` + string(ex) + `}`)

	a.update(`{"sessionUpdate":"tool_call","toolCallId":"call_2","title":"Write notes.txt","kind":"edit","status":"pending","locations":[{"path":"` + cwd + `/notes.txt"}]}`)
	_, werr := a.call("fs/write_text_file", map[string]any{"sessionId": a.sid, "path": cwd + "/sub/notes.txt", "content": "one\ntwo\nthree\n"})
	rb, rerr := a.call("fs/read_text_file", map[string]any{"sessionId": a.sid, "path": cwd + "/sub/notes.txt", "line": 2, "limit": 1})
	var rr readTextFileResult
	_ = json.Unmarshal(rb, &rr)
	a.update(`{"sessionUpdate":"tool_call_update","toolCallId":"call_2","status":"completed","content":[{"type":"diff","path":"` + cwd + `/sub/notes.txt","oldText":null,"newText":"one\ntwo\nthree\n"}]}`)
	a.text(fmt.Sprintf("Ran it: %q; write err %v; line 2: %q (read err %v)", o.Output, werr, rr.Content, rerr))
	a.end(id, "end_turn")
}
