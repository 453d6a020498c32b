// Package jsonrpc is JSON-RPC 2.0 over a stream of newline-delimited JSON
// objects, the way agent servers speak it on stdio (codex app-server, ACP
// agents): calls correlated by id with per-request timeouts, notifications
// and server→client requests handed to the caller in arrival order.
//
// Peers differ in small ways this package tolerates: some omit "jsonrpc"
// on their lines, ids may be numbers or strings, and a line that is not a
// JSON object is reported rather than fatal.
package jsonrpc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// Message is one line of the protocol. Exactly one of Method (request or
// notification) and Result/Error (response) is set.
type Message struct {
	JSONRPC string          `json:"jsonrpc,omitempty"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// Error is a JSON-RPC error object; it is also the error Call returns when
// the peer answered with one.
type Error struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("jsonrpc error %d: %s", e.Code, e.Message) }

// Standard error codes.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
)

// ErrClosed is returned by calls pending or made after the stream ended.
var ErrClosed = errors.New("jsonrpc: connection closed")

// ErrTimeout is wrapped by Call's error when the peer did not answer in time.
var ErrTimeout = errors.New("jsonrpc: request timed out")

// Handler receives what the peer sends on its own. Its methods run on the
// read goroutine, one at a time, in the order lines arrived; a handler that
// must wait for something (a user's answer) hands the work off and returns.
type Handler interface {
	// Notification is a message without id. raw is the whole line.
	Notification(method string, params json.RawMessage, raw []byte)
	// Request is a message with id and method; answer it with Conn.Reply
	// or Conn.ReplyError, from any goroutine.
	Request(id json.RawMessage, method string, params json.RawMessage, raw []byte)
	// Invalid is a line that is not a JSON-RPC message.
	Invalid(raw []byte, err error)
}

// Options configures a Conn.
type Options struct {
	// Timeout bounds each Call whose context has no earlier deadline;
	// zero means 60s.
	Timeout time.Duration
	// OmitVersion leaves "jsonrpc":"2.0" out of what we send.
	OmitVersion bool
	// MaxLine bounds one incoming line (default 64 MiB); a longer one ends
	// the connection with an error rather than growing without limit.
	MaxLine int
}

// Conn is one JSON-RPC peer. All methods are safe for concurrent use.
type Conn struct {
	w    io.Writer
	h    Handler
	opts Options

	wmu sync.Mutex // one line at a time on w

	mu      sync.Mutex
	nextID  int64
	pending map[string]chan *Message
	err     error // why the stream ended
	done    chan struct{}
}

// New starts reading r and returns the Conn; w receives our lines.
func New(r io.Reader, w io.Writer, h Handler, opts Options) *Conn {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = 64 << 20
	}
	c := &Conn{w: w, h: h, opts: opts, pending: map[string]chan *Message{}, done: make(chan struct{})}
	go c.read(bufio.NewReaderSize(r, 64<<10))
	return c
}

// Done is closed when the stream ended (EOF, read error or Close).
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err says why the stream ended: ErrClosed after EOF or Close.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close fails every pending call with ErrClosed and refuses new ones. It
// does not close the underlying streams: they belong to the process.
func (c *Conn) Close() { c.fail(ErrClosed) }

// Call sends a request and decodes the result into result (unless nil).
// It returns an *Error when the peer answered with one, an error wrapping
// ErrTimeout when no answer came within the timeout, and ErrClosed when
// the stream ended first.
func (c *Conn) Call(ctx context.Context, method string, params, result any) error {
	raw, err := c.CallRaw(ctx, method, params)
	if err != nil || result == nil {
		return err
	}
	if err := json.Unmarshal(raw, result); err != nil {
		return fmt.Errorf("jsonrpc: %s: decode result: %w", method, err)
	}
	return nil
}

// CallRaw is Call returning the undecoded result.
func (c *Conn) CallRaw(ctx context.Context, method string, params any) (json.RawMessage, error) {
	ch := make(chan *Message, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	id := c.nextID
	c.nextID++
	key := strconv.FormatInt(id, 10)
	c.pending[key] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, key)
		c.mu.Unlock()
	}()

	if err := c.send(Message{ID: json.RawMessage(key), Method: method}, params); err != nil {
		return nil, err
	}
	timer := time.NewTimer(c.opts.Timeout)
	defer timer.Stop()
	select {
	case m := <-ch:
		if m == nil {
			return nil, c.Err()
		}
		if m.Error != nil {
			return nil, m.Error
		}
		return m.Result, nil
	case <-timer.C:
		return nil, fmt.Errorf("%w: %s after %s", ErrTimeout, method, c.opts.Timeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("jsonrpc: %s: %w", method, ctx.Err())
	}
}

// Notify sends a notification.
func (c *Conn) Notify(method string, params any) error {
	return c.send(Message{Method: method}, params)
}

// Reply answers a peer's request with a result.
func (c *Conn) Reply(id json.RawMessage, result any) error {
	b, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("jsonrpc: encode result: %w", err)
	}
	return c.write(Message{ID: id, Result: b})
}

// ReplyError answers a peer's request with an error.
func (c *Conn) ReplyError(id json.RawMessage, e *Error) error {
	return c.write(Message{ID: id, Error: e})
}

func (c *Conn) send(m Message, params any) error {
	if params != nil {
		b, err := json.Marshal(params)
		if err != nil {
			return fmt.Errorf("jsonrpc: %s: encode params: %w", m.Method, err)
		}
		m.Params = b
	}
	return c.write(m)
}

func (c *Conn) write(m Message) error {
	select {
	case <-c.done:
		return c.Err()
	default:
	}
	if !c.opts.OmitVersion {
		m.JSONRPC = "2.0"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("jsonrpc: encode: %w", err)
	}
	b = append(b, '\n')
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.w.Write(b); err != nil {
		return fmt.Errorf("jsonrpc: write: %w", err)
	}
	return nil
}

func (c *Conn) read(r *bufio.Reader) {
	for {
		line, err := ReadLine(r, c.opts.MaxLine)
		if len(line) > 0 {
			c.dispatch(line)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = ErrClosed
			}
			c.fail(err)
			return
		}
	}
}

func (c *Conn) dispatch(line []byte) {
	var m Message
	if err := json.Unmarshal(line, &m); err != nil {
		c.h.Invalid(line, err)
		return
	}
	hasID := len(m.ID) > 0 && string(m.ID) != "null"
	switch {
	case m.Method != "" && hasID:
		c.h.Request(m.ID, m.Method, m.Params, line)
	case m.Method != "":
		c.h.Notification(m.Method, m.Params, line)
	case hasID && (m.Result != nil || m.Error != nil):
		c.mu.Lock()
		ch := c.pending[idKey(m.ID)]
		c.mu.Unlock()
		if ch == nil {
			c.h.Invalid(line, fmt.Errorf("response to unknown request id %s", m.ID))
			return
		}
		ch <- &m
	default:
		c.h.Invalid(line, errors.New("neither a request, a notification nor a response"))
	}
}

// idKey normalises an id so that 7 and "7" (peers that echo ids as
// strings) find the same pending call.
func idKey(id json.RawMessage) string {
	var s string
	if json.Unmarshal(id, &s) == nil {
		return s
	}
	return string(id)
}

func (c *Conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	for k, ch := range c.pending {
		ch <- nil
		delete(c.pending, k)
	}
	close(c.done)
}

// ReadLine returns the next line of r without its newline (and a trailing
// \r), however long, up to max bytes; a longer line is an error. At the
// end of the stream it returns the last unterminated line, if any, with
// io.EOF.
func ReadLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			return nil, fmt.Errorf("line longer than %d bytes", max)
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
		}
		return line, err
	}
}
