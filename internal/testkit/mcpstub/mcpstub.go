// Package mcpstub is a tiny MCP (Model Context Protocol) server for tests
// that give an agent CLI an MCP server of its own. It speaks JSON-RPC 2.0
// over stdio (one message per line, ServeStdio) and over streamable HTTP
// (Server.ServeHTTP: POST answered with application/json, no SSE stream),
// and offers a few tools whose output is easy to recognise:
//
//   - echo {text}: returns EchoOutput(tag, text), e.g. "mcpstub echo: hi";
//   - fail {reason}: a tool error (isError) "mcpstub fail: <reason>";
//   - sleep {ms}: waits, then returns "mcpstub slept <ms>ms" (timeouts); a
//     notifications/cancelled for the call, the end of stdin or the HTTP
//     request's end stops the wait.
//
// Only the methods a client needs for tools are served: initialize, ping,
// tools/list and tools/call; notifications/cancelled is honoured, other
// notifications are ignored, other requests get "method not found". The
// command in ./cmd runs it as a process:
//
//	go build -o mcpstub ./internal/testkit/mcpstub/cmd
//	mcpstub [-tag T] [-log calls.jsonl]          # stdio
//	mcpstub -http 127.0.0.1:0 [-tag T]           # streamable HTTP at /mcp
//
// The package uses the standard library only.
package mcpstub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Name is the server's name in its initialize result.
const Name = "mcpstub"

// Version is the server's version in its initialize result.
const Version = "1.0.0"

// LatestProtocolVersion is the MCP revision the server answers with when
// the client asks for one it does not know.
const LatestProtocolVersion = "2025-06-18"

// ProtocolVersions are the MCP revisions the server accepts as asked.
var ProtocolVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

// JSON-RPC error codes.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
)

// maxMessage bounds one message (a line on stdio, a body over HTTP).
const maxMessage = 4 << 20

// EchoOutput is what the echo tool returns for text: "mcpstub echo: <text>",
// or "mcpstub[<tag>] echo: <text>" from a server with a tag.
func EchoOutput(tag, text string) string {
	if tag == "" {
		return "mcpstub echo: " + text
	}
	return "mcpstub[" + tag + "] echo: " + text
}

// FailOutput is the text of the fail tool's error result.
func FailOutput(reason string) string { return "mcpstub fail: " + reason }

// Tool is one tool as tools/list shows it.
type Tool struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	InputSchema map[string]any `json:"inputSchema"`
}

// Tools are the tools the server offers, in tools/list order.
var Tools = []Tool{
	{Name: "echo", Description: "Echo the given text back, prefixed with the mcpstub marker.",
		InputSchema: objectSchema(map[string]any{"text": map[string]any{"type": "string", "description": "The text to echo."}}, "text")},
	{Name: "fail", Description: "Always fails with a tool error that carries the reason.",
		InputSchema: objectSchema(map[string]any{"reason": map[string]any{"type": "string", "description": "Why it fails."}})},
	{Name: "sleep", Description: "Wait the given number of milliseconds, then answer.",
		InputSchema: objectSchema(map[string]any{"ms": map[string]any{"type": "integer", "description": "Milliseconds to wait."}}, "ms")},
}

func objectSchema(props map[string]any, required ...string) map[string]any {
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// Call is one message the server received.
type Call struct {
	// Transport is "stdio" or "http".
	Transport string `json:"transport"`
	// Method is the JSON-RPC method; empty for a client's response.
	Method string `json:"method,omitempty"`
	// ID is the request id; empty for a notification.
	ID json.RawMessage `json:"id,omitempty"`
	// Params are the request's params.
	Params json.RawMessage `json:"params,omitempty"`
	// Header is the HTTP request's header (http only).
	Header http.Header `json:"header,omitempty"`
}

// Server is the stub. The zero value serves with no tag.
type Server struct {
	// Tag, when set, appears in the echo tool's output (EchoOutput).
	Tag string
	// OnCall, when set, is called with every message received, before it
	// is answered.
	OnCall func(Call)

	mu       sync.Mutex
	calls    []Call
	inflight map[string]context.CancelFunc // tool calls by request id
}

// Calls returns every message received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// ToolCalls returns the tools/call requests received so far.
func (s *Server) ToolCalls() []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Method == "tools/call" {
			out = append(out, c)
		}
	}
	return out
}

type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

var null = json.RawMessage("null")

// Handle answers one JSON-RPC message or batch and returns the reply, or
// nil when there is none (notifications, a client's responses).
func (s *Server) Handle(data []byte, transport string, header http.Header) []byte {
	return s.handle(context.Background(), data, transport, header)
}

// handle is Handle with a context that ends a sleeping tool call.
func (s *Server) handle(ctx context.Context, data []byte, transport string, header http.Header) []byte {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(data, &batch); err != nil {
			return marshal(errorResponse(null, CodeParseError, "parse error: "+err.Error()))
		}
		if len(batch) == 0 {
			return marshal(errorResponse(null, CodeInvalidRequest, "empty batch"))
		}
		var out []any
		for _, m := range batch {
			if r := s.handleOne(ctx, m, transport, header); r != nil {
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return marshal(out)
	}
	if r := s.handleOne(ctx, data, transport, header); r != nil {
		return marshal(r)
	}
	return nil
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own types are marshalled
	}
	return b
}

func errorResponse(id json.RawMessage, code int, msg string) *response {
	if len(id) == 0 {
		id = null
	}
	return &response{JSONRPC: "2.0", ID: id, Error: &rpcError{Code: code, Message: msg}}
}

func (s *Server) handleOne(ctx context.Context, data []byte, transport string, header http.Header) *response {
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || !json.Valid(data) {
			return errorResponse(null, CodeParseError, "parse error: "+err.Error())
		}
		return errorResponse(null, CodeInvalidRequest, "invalid request: "+err.Error())
	}
	c := Call{Transport: transport, Method: m.Method, ID: m.ID, Params: m.Params}
	if header != nil {
		c.Header = header.Clone()
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	if s.OnCall != nil {
		s.OnCall(c)
	}
	isRequest := len(m.ID) > 0 && !bytes.Equal(m.ID, null)
	switch {
	case m.JSONRPC != "2.0":
		if !isRequest {
			return nil
		}
		return errorResponse(m.ID, CodeInvalidRequest, `invalid request: jsonrpc must be "2.0"`)
	case m.Method == "":
		// A response to a request of ours (we send none) or garbage.
		if isRequest && m.Result == nil && m.Error == nil {
			return errorResponse(m.ID, CodeInvalidRequest, "invalid request: no method")
		}
		return nil
	case !isRequest:
		if m.Method == "notifications/cancelled" {
			s.cancel(m.Params)
		}
		return nil // notifications/initialized, …
	}
	if m.Method == "tools/call" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		key := string(m.ID)
		s.mu.Lock()
		if s.inflight == nil {
			s.inflight = map[string]context.CancelFunc{}
		}
		s.inflight[key] = cancel
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.inflight, key)
			s.mu.Unlock()
			cancel()
		}()
	}
	result, rerr := s.call(ctx, m.Method, m.Params)
	if rerr != nil {
		return errorResponse(m.ID, rerr.Code, rerr.Message)
	}
	return &response{JSONRPC: "2.0", ID: m.ID, Result: result}
}

// cancel ends the tool call a notifications/cancelled names.
func (s *Server) cancel(params json.RawMessage) {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(params, &p) != nil {
		return
	}
	s.mu.Lock()
	cancel := s.inflight[string(bytes.TrimSpace(p.RequestID))]
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (s *Server) call(ctx context.Context, method string, params json.RawMessage) (any, *rpcError) {
	switch method {
	case "initialize":
		var p struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		if err := unmarshalParams(params, &p); err != nil {
			return nil, err
		}
		v := LatestProtocolVersion
		if slices.Contains(ProtocolVersions, p.ProtocolVersion) {
			v = p.ProtocolVersion
		}
		return map[string]any{
			"protocolVersion": v,
			"capabilities":    map[string]any{"tools": map[string]any{"listChanged": false}},
			"serverInfo":      map[string]any{"name": Name, "version": Version},
		}, nil
	case "ping":
		return map[string]any{}, nil
	case "tools/list":
		return map[string]any{"tools": Tools}, nil
	case "tools/call":
		var p struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if err := unmarshalParams(params, &p); err != nil {
			return nil, err
		}
		return s.tool(ctx, p.Name, p.Arguments)
	}
	return nil, &rpcError{Code: CodeMethodNotFound, Message: "method not found: " + method}
}

func unmarshalParams(params json.RawMessage, v any) *rpcError {
	if len(params) == 0 || bytes.Equal(params, null) {
		return nil
	}
	if err := json.Unmarshal(params, v); err != nil {
		return &rpcError{Code: CodeInvalidParams, Message: "invalid params: " + err.Error()}
	}
	return nil
}

func textResult(text string, isError bool) map[string]any {
	r := map[string]any{"content": []any{map[string]any{"type": "text", "text": text}}}
	if isError {
		r["isError"] = true
	}
	return r
}

func (s *Server) tool(ctx context.Context, name string, args json.RawMessage) (any, *rpcError) {
	var a struct {
		Text   *string `json:"text"`
		Reason string  `json:"reason"`
		MS     *int64  `json:"ms"`
	}
	if len(args) > 0 && !bytes.Equal(args, null) {
		if err := json.Unmarshal(args, &a); err != nil {
			return textResult("mcpstub: invalid arguments for "+name+": "+err.Error(), true), nil
		}
	}
	switch name {
	case "echo":
		if a.Text == nil {
			return textResult("mcpstub: echo needs text", true), nil
		}
		return textResult(EchoOutput(s.Tag, *a.Text), false), nil
	case "fail":
		return textResult(FailOutput(a.Reason), true), nil
	case "sleep":
		if a.MS == nil || *a.MS < 0 {
			return textResult("mcpstub: sleep needs ms >= 0", true), nil
		}
		t := time.NewTimer(time.Duration(*a.MS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
			return textResult(fmt.Sprintf("mcpstub slept %dms", *a.MS), false), nil
		case <-ctx.Done():
			return textResult("mcpstub: sleep cancelled", true), nil
		}
	}
	return nil, &rpcError{Code: CodeInvalidParams, Message: "unknown tool: " + name}
}

// ServeStdio serves newline-delimited JSON-RPC from r, writing replies to
// w, until r ends. Tool calls are answered concurrently (a sleeping tool
// does not hold up the next call or a ping), everything else in order;
// each reply is one line. When r ends, sleeping calls are cut short.
func (s *Server) ServeStdio(r io.Reader, w io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wmu sync.Mutex
	var wg sync.WaitGroup
	var werr error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxMessage)
	for sc.Scan() {
		line := bytes.Clone(sc.Bytes())
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		answer := func() {
			out := s.handle(ctx, line, "stdio", nil)
			if out == nil {
				return
			}
			wmu.Lock()
			defer wmu.Unlock()
			if _, err := w.Write(append(out, '\n')); err != nil && werr == nil {
				werr = err
			}
		}
		var m struct {
			Method string `json:"method"`
		}
		if json.Unmarshal(line, &m) == nil && m.Method == "tools/call" {
			wg.Go(answer)
		} else {
			answer()
		}
	}
	cancel()
	wg.Wait()
	if err := sc.Err(); err != nil {
		return err
	}
	return werr
}

// ServeHTTP serves MCP's streamable HTTP transport at any path: a POSTed
// message or batch is answered with application/json (202 without a body
// when there is nothing to answer). There is no server-to-client stream:
// GET and DELETE get 405, as the transport allows.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "mcpstub: only POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxMessage+1))
	if err != nil {
		http.Error(w, "mcpstub: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxMessage {
		http.Error(w, "mcpstub: message too large", http.StatusRequestEntityTooLarge)
		return
	}
	out := s.handle(r.Context(), body, "http", r.Header)
	if out == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if !json.Valid(body) {
		w.WriteHeader(http.StatusBadRequest)
	}
	_, _ = w.Write(out)
}
