package mcpstub

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// rpc is a decoded JSON-RPC response.
type rpc struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type toolResult struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	IsError bool `json:"isError"`
}

func decode(t *testing.T, b []byte) rpc {
	t.Helper()
	var r rpc
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("reply %s: %v", b, err)
	}
	if r.JSONRPC != "2.0" {
		t.Errorf("reply %s: jsonrpc %q", b, r.JSONRPC)
	}
	return r
}

func (r rpc) tool(t *testing.T) toolResult {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("tool call failed: %+v", r.Error)
	}
	var tr toolResult
	if err := json.Unmarshal(r.Result, &tr); err != nil {
		t.Fatalf("tool result %s: %v", r.Result, err)
	}
	if len(tr.Content) != 1 || tr.Content[0].Type != "text" {
		t.Fatalf("tool result %s: want one text part", r.Result)
	}
	return tr
}

func TestInitialize(t *testing.T) {
	s := &Server{}
	for _, tc := range []struct{ asked, want string }{
		{"2025-06-18", "2025-06-18"},
		{"2025-03-26", "2025-03-26"},
		{"2024-11-05", "2024-11-05"},
		{"2025-11-25", "2025-11-25"},
		{"1999-01-01", LatestProtocolVersion},
		{"", LatestProtocolVersion},
	} {
		req := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + tc.asked +
			`","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`
		r := decode(t, s.Handle([]byte(req), "stdio", nil))
		var res struct {
			ProtocolVersion string `json:"protocolVersion"`
			Capabilities    struct {
				Tools *struct{} `json:"tools"`
			} `json:"capabilities"`
			ServerInfo struct{ Name, Version string } `json:"serverInfo"`
		}
		if r.Error != nil || json.Unmarshal(r.Result, &res) != nil {
			t.Fatalf("initialize: %+v %s", r.Error, r.Result)
		}
		if res.ProtocolVersion != tc.want || res.Capabilities.Tools == nil || res.ServerInfo.Name != Name || res.ServerInfo.Version != Version {
			t.Errorf("asked %q: got %s", tc.asked, r.Result)
		}
		if string(r.ID) != "1" {
			t.Errorf("id %s, want 1", r.ID)
		}
	}
}

func TestToolsList(t *testing.T) {
	r := decode(t, (&Server{}).Handle([]byte(`{"jsonrpc":"2.0","id":"a","method":"tools/list","params":{}}`), "stdio", nil))
	var res struct {
		Tools []struct {
			Name        string         `json:"name"`
			Description string         `json:"description"`
			InputSchema map[string]any `json:"inputSchema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(r.Result, &res); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
		if tl.Description == "" || tl.InputSchema["type"] != "object" {
			t.Errorf("tool %s: description %q, schema %v", tl.Name, tl.Description, tl.InputSchema)
		}
	}
	if strings.Join(names, ",") != "echo,fail,sleep" {
		t.Errorf("tools %v", names)
	}
	if string(r.ID) != `"a"` {
		t.Errorf("string id came back as %s", r.ID)
	}
}

func call(t *testing.T, s *Server, name, args string) rpc {
	t.Helper()
	return decode(t, s.Handle([]byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"`+name+`","arguments":`+args+`}}`), "stdio", nil))
}

func TestTools(t *testing.T) {
	s := &Server{}
	if tr := call(t, s, "echo", `{"text":"hi there"}`).tool(t); tr.IsError || tr.Content[0].Text != "mcpstub echo: hi there" {
		t.Errorf("echo: %+v", tr)
	}
	tagged := &Server{Tag: "T1"}
	if tr := call(t, tagged, "echo", `{"text":"x"}`).tool(t); tr.Content[0].Text != "mcpstub[T1] echo: x" || tr.Content[0].Text != EchoOutput("T1", "x") {
		t.Errorf("tagged echo: %+v", tr)
	}
	if tr := call(t, s, "echo", `{}`).tool(t); !tr.IsError {
		t.Errorf("echo without text is not a tool error: %+v", tr)
	}
	if tr := call(t, s, "echo", `{"text":5}`).tool(t); !tr.IsError {
		t.Errorf("echo with a number is not a tool error: %+v", tr)
	}
	if tr := call(t, s, "fail", `{"reason":"on purpose"}`).tool(t); !tr.IsError || tr.Content[0].Text != FailOutput("on purpose") {
		t.Errorf("fail: %+v", tr)
	}
	t0 := time.Now()
	if tr := call(t, s, "sleep", `{"ms":30}`).tool(t); tr.IsError || tr.Content[0].Text != "mcpstub slept 30ms" {
		t.Errorf("sleep: %+v", tr)
	}
	if d := time.Since(t0); d < 30*time.Millisecond {
		t.Errorf("sleep took %v", d)
	}
	r := call(t, s, "nope", `{}`)
	if r.Error == nil || r.Error.Code != CodeInvalidParams || string(r.ID) != "7" {
		t.Errorf("unknown tool: %+v", r)
	}
	if n := len(s.ToolCalls()); n != 6 {
		t.Errorf("%d tool calls recorded, want 6", n)
	}
}

func TestProtocolEdges(t *testing.T) {
	s := &Server{}
	for _, tc := range []struct {
		name, in string
		code     int // 0: a result; -1: no reply at all
	}{
		{"ping", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, 0},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, -1},
		{"cancel notification", `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}`, -1},
		{"client response", `{"jsonrpc":"2.0","id":9,"result":{}}`, -1},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"resources/list"}`, CodeMethodNotFound},
		{"parse error", `{"jsonrpc":`, CodeParseError},
		{"not an object", `5`, CodeInvalidRequest},
		{"wrong version", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, CodeInvalidRequest},
		{"no method", `{"jsonrpc":"2.0","id":1}`, CodeInvalidRequest},
		{"bad params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1]}`, CodeInvalidParams},
		{"empty batch", `[]`, CodeInvalidRequest},
	} {
		out := s.Handle([]byte(tc.in), "stdio", nil)
		switch {
		case tc.code == -1:
			if out != nil {
				t.Errorf("%s: replied %s", tc.name, out)
			}
		case out == nil:
			t.Errorf("%s: no reply", tc.name)
		default:
			r := decode(t, out)
			if tc.code == 0 && (r.Error != nil || r.Result == nil) {
				t.Errorf("%s: %s", tc.name, out)
			}
			if tc.code != 0 && (r.Error == nil || r.Error.Code != tc.code) {
				t.Errorf("%s: %s, want code %d", tc.name, out, tc.code)
			}
		}
	}
	// A batch gets an array of the replies to its requests.
	out := s.Handle([]byte(`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]`), "stdio", nil)
	var batch []rpc
	if err := json.Unmarshal(out, &batch); err != nil || len(batch) != 2 || string(batch[0].ID) != "1" || string(batch[1].ID) != "2" {
		t.Errorf("batch reply %s (%v)", out, err)
	}
	if out := s.Handle([]byte(`[{"jsonrpc":"2.0","method":"notifications/x"}]`), "stdio", nil); out != nil {
		t.Errorf("a batch of notifications got %s", out)
	}
}

func TestServeStdio(t *testing.T) {
	in := strings.Join([]string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		``,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":100}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"quick"}}}`,
	}, "\n") + "\n"
	pr, pw := io.Pipe()
	out := &lockedBuffer{}
	s := &Server{}
	done := make(chan error, 1)
	go func() { done <- s.ServeStdio(pr, out) }()
	if _, err := pw.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), "\n") < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		ids = append(ids, string(decode(t, sc.Bytes()).ID))
	}
	// The echo is not held up by the sleep before it.
	if strings.Join(ids, ",") != "1,3,2" {
		t.Errorf("reply ids in order %v, want 1,3,2", ids)
	}
	if !strings.Contains(out.String(), "mcpstub slept 100ms") {
		t.Errorf("the sleep did not finish: %s", out.String())
	}
	if n := len(s.Calls()); n != 4 {
		t.Errorf("%d calls recorded, want 4", n)
	}
}

// TestCancel: a notifications/cancelled for a sleeping call, or the end of
// stdin, cuts the sleep short.
func TestCancel(t *testing.T) {
	pr, pw := io.Pipe()
	out := &lockedBuffer{}
	done := make(chan error, 1)
	s := &Server{}
	go func() { done <- s.ServeStdio(pr, out) }()
	t0 := time.Now()
	write := func(l string) {
		if _, err := pw.Write([]byte(l + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"jsonrpc":"2.0","id":"s1","method":"tools/call","params":{"name":"sleep","arguments":{"ms":60000}}}`)
	write(`{"jsonrpc":"2.0","id":"s2","method":"tools/call","params":{"name":"sleep","arguments":{"ms":60000}}}`)
	for len(s.ToolCalls()) < 2 {
		if time.Since(t0) > 10*time.Second {
			t.Fatal("the two calls never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // both are sleeping
	write(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"s1","reason":"timeout"}}`)
	for !strings.Contains(out.String(), "s1") {
		if time.Since(t0) > 10*time.Second {
			t.Fatal("the cancelled call did not answer")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pw.Close() // s2 ends with stdin
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop when stdin closed")
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("cancelled sleeps took %v", d)
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if tr := decode(t, []byte(l)).tool(t); !tr.IsError || tr.Content[0].Text != "mcpstub: sleep cancelled" {
			t.Errorf("cancelled sleep: %+v", tr)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d replies, want 2: %s", n, out.String())
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServeHTTP(t *testing.T) {
	s := &Server{Tag: "web"}
	srv := httptest.NewServer(s)
	defer srv.Close()
	post := func(body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer sekrit")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := post(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"over http"}}}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if tr := decode(t, b).tool(t); tr.Content[0].Text != "mcpstub[web] echo: over http" {
		t.Errorf("echo over http: %+v", tr)
	}
	if resp, b := post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`); resp.StatusCode != http.StatusAccepted || len(b) != 0 {
		t.Errorf("notification: %d %q", resp.StatusCode, b)
	}
	if resp, b := post(`{oops`); resp.StatusCode != http.StatusBadRequest || decode(t, b).Error.Code != CodeParseError {
		t.Errorf("bad json: %d %s", resp.StatusCode, b)
	}
	get, err := http.Get(srv.URL + "/mcp")
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	if get.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", get.StatusCode)
	}
	calls := s.ToolCalls()
	if len(calls) != 1 || calls[0].Transport != "http" || calls[0].Header.Get("Authorization") != "Bearer sekrit" {
		t.Errorf("recorded tool calls %+v", calls)
	}
}

// TestCommand builds the command and talks to it over stdio, with the tag
// from the environment and a call log.
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mcpstub")
	build := exec.Command("go", "build", "-o", bin, "./cmd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	logPath := filepath.Join(dir, "calls.jsonl")
	cmd := exec.Command(bin, "-log", logPath)
	cmd.Env = append(os.Environ(), "MCPSTUB_TAG=from-env")
	cmd.Stdin = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"cmd"}}}` + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if tr := decode(t, bytes.TrimSpace(out)).tool(t); tr.Content[0].Text != "mcpstub[from-env] echo: cmd" {
		t.Errorf("command echo: %+v", tr)
	}
	logged, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var c Call
	if err := json.Unmarshal(bytes.TrimSpace(logged), &c); err != nil || c.Method != "tools/call" || c.Transport != "stdio" {
		t.Errorf("call log %s (%v)", logged, err)
	}
	// -http prints its URL first and serves there.
	hcmd := exec.Command(bin, "-http", "127.0.0.1:0", "-tag", "h")
	stdout, _ := hcmd.StdoutPipe()
	if err := hcmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hcmd.Process.Kill(); _ = hcmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://127.0.0.1:") || !strings.HasSuffix(strings.TrimSpace(line), "/mcp") {
		t.Fatalf("first line %q (%v)", line, err)
	}
	resp, err := http.Post(strings.TrimSpace(line), "application/json",
		strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"y"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if tr := decode(t, b).tool(t); tr.Content[0].Text != "mcpstub[h] echo: y" {
		t.Errorf("http command echo: %+v", tr)
	}
}
