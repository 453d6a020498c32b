package jsonrpc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Handler that keeps what it was given, in order.
type recorder struct {
	mu    sync.Mutex
	got   []string
	added chan struct{}
}

func newRecorder() *recorder { return &recorder{added: make(chan struct{}, 100)} }

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
	r.added <- struct{}{}
}
func (r *recorder) Notification(method string, params json.RawMessage, raw []byte) {
	r.add("notify " + method + " " + string(params))
}
func (r *recorder) Request(id json.RawMessage, method string, params json.RawMessage, raw []byte) {
	r.add("request " + string(id) + " " + method)
}
func (r *recorder) Invalid(raw []byte, err error) { r.add("invalid " + string(raw)) }

func (r *recorder) wait(t *testing.T, n int) []string {
	t.Helper()
	for range n {
		select {
		case <-r.added:
		case <-time.After(10 * time.Second):
			t.Fatalf("handler got %v, want %d messages", r.got, n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// peer is the other end: it reads our lines and writes its own.
type peer struct {
	in  *bufio.Reader
	out *io.PipeWriter
}

func (p *peer) recv(t *testing.T) Message {
	t.Helper()
	l, err := p.in.ReadBytes('\n')
	if err != nil {
		t.Fatalf("peer read: %v", err)
	}
	var m Message
	if err := json.Unmarshal(l, &m); err != nil {
		t.Fatalf("peer got %q: %v", l, err)
	}
	return m
}

func (p *peer) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(p.out, line+"\n"); err != nil {
		t.Fatalf("peer write: %v", err)
	}
}

func pair(t *testing.T, h Handler, o Options) (*Conn, *peer) {
	t.Helper()
	ourR, peerW := io.Pipe()
	peerR, ourW := io.Pipe()
	c := New(ourR, ourW, h, o)
	t.Cleanup(func() {
		peerW.Close()
		ourW.Close()
		<-c.Done()
	})
	return c, &peer{in: bufio.NewReader(peerR), out: peerW}
}

func TestCallsAreCorrelatedByID(t *testing.T) {
	c, p := pair(t, newRecorder(), Options{})
	type res struct {
		N int `json:"n"`
	}
	results := make(chan string, 2)
	for _, method := range []string{"a", "b"} {
		go func() {
			var r res
			err := c.Call(context.Background(), method, map[string]string{"m": method}, &r)
			results <- fmt.Sprintf("%s=%d %v", method, r.N, err)
		}()
	}
	m1, m2 := p.recv(t), p.recv(t)
	if m1.JSONRPC != "2.0" || string(m1.ID) == string(m2.ID) {
		t.Fatalf("requests %+v and %+v", m1, m2)
	}
	// Answer in reverse order; the second echoes its id as a string, as
	// some peers do.
	ans := map[string]int{"a": 1, "b": 2}
	p.send(t, fmt.Sprintf(`{"id":"%s","result":{"n":%d}}`, m2.ID, ans[m2.Method]))
	p.send(t, fmt.Sprintf(`{"id":%s,"result":{"n":%d}}`, m1.ID, ans[m1.Method]))
	got := map[string]bool{<-results: true, <-results: true}
	if !got["a=1 <nil>"] || !got["b=2 <nil>"] {
		t.Fatalf("results %v", got)
	}
}

func TestCallReturnsThePeersError(t *testing.T) {
	c, p := pair(t, newRecorder(), Options{OmitVersion: true})
	errc := make(chan error, 1)
	go func() { errc <- c.Call(context.Background(), "thread/start", nil, nil) }()
	m := p.recv(t)
	if m.JSONRPC != "" || m.Params != nil {
		t.Fatalf("request %+v: want no version and no params", m)
	}
	p.send(t, fmt.Sprintf(`{"id":%s,"error":{"code":-32600,"message":"bad cwd"}}`, m.ID))
	var e *Error
	if err := <-errc; !errors.As(err, &e) || e.Code != CodeInvalidRequest || e.Message != "bad cwd" {
		t.Fatalf("err = %v", err)
	}
}

func TestCallTimesOutAndALateAnswerIsReported(t *testing.T) {
	rec := newRecorder()
	c, p := pair(t, rec, Options{Timeout: 50 * time.Millisecond})
	errc := make(chan error, 1)
	go func() { errc <- c.Call(context.Background(), "slow", nil, nil) }()
	m := p.recv(t)
	if err := <-errc; !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "slow") {
		t.Fatalf("err = %v, want a timeout naming the method", err)
	}
	p.send(t, fmt.Sprintf(`{"id":%s,"result":{}}`, m.ID))
	if got := rec.wait(t, 1); !strings.HasPrefix(got[0], "invalid ") {
		t.Fatalf("late answer handled as %v", got)
	}
}

func TestCallHonoursContext(t *testing.T) {
	c, p := pair(t, newRecorder(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Call(ctx, "x", nil, nil) }()
	p.recv(t)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestEndOfStreamFailsPendingAndLaterCalls(t *testing.T) {
	c, p := pair(t, newRecorder(), Options{})
	errc := make(chan error, 1)
	go func() { errc <- c.Call(context.Background(), "x", nil, nil) }()
	p.recv(t)
	p.out.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("pending call: %v", err)
	}
	<-c.Done()
	if err := c.Call(context.Background(), "y", nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after EOF: %v", err)
	}
	if err := c.Notify("z", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("notify after EOF: %v", err)
	}
}

func TestIncomingMessagesReachTheHandlerInOrder(t *testing.T) {
	rec := newRecorder()
	c, p := pair(t, rec, Options{})
	p.send(t, `{"method":"turn/started","params":{"n":1}}`)
	p.send(t, ``)
	p.send(t, `{"id":0,"method":"item/commandExecution/requestApproval","params":{}}`)
	p.send(t, `not json`)
	p.send(t, `{"id":5}`)
	p.send(t, "{\"method\":\"turn/completed\"}\r")
	got := rec.wait(t, 5)
	want := []string{
		`notify turn/started {"n":1}`,
		`request 0 item/commandExecution/requestApproval`,
		`invalid not json`,
		`invalid {"id":5}`,
		`notify turn/completed `,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("handler got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Replies go back with the peer's id untouched.
	go func() {
		_ = c.Reply(json.RawMessage(`0`), map[string]string{"decision": "accept"})
		_ = c.ReplyError(json.RawMessage(`"x"`), &Error{Code: CodeMethodNotFound, Message: "no"})
		_ = c.Notify("initialized", nil)
	}()
	if m := p.recv(t); string(m.ID) != "0" || string(m.Result) != `{"decision":"accept"}` {
		t.Fatalf("reply %+v", m)
	}
	if m := p.recv(t); string(m.ID) != `"x"` || m.Error == nil || m.Error.Code != CodeMethodNotFound {
		t.Fatalf("error reply %+v", m)
	}
	if m := p.recv(t); m.Method != "initialized" || m.ID != nil {
		t.Fatalf("notification %+v", m)
	}
}

func TestOverlongLineEndsTheStream(t *testing.T) {
	c, p := pair(t, newRecorder(), Options{MaxLine: 1 << 10})
	go io.WriteString(p.out, strings.Repeat("x", 1<<11)+"\n")
	<-c.Done()
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("Err = %v", err)
	}
	p.out.CloseWithError(errors.New("done"))
}

func TestReadLine(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader(strings.Repeat("a", 100)+"\nb\r\nlast"), 16)
	for _, want := range []string{strings.Repeat("a", 100), "b"} {
		l, err := ReadLine(r, 1000)
		if err != nil || string(l) != want {
			t.Fatalf("ReadLine = %q, %v; want %q", l, err, want)
		}
	}
	if l, err := ReadLine(r, 1000); string(l) != "last" || !errors.Is(err, io.EOF) {
		t.Fatalf("last line = %q, %v", l, err)
	}
}
