package codex

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/sandbox-agent/sandbox-agent/agent/jsonrpc"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
)

// server is the one shared `codex app-server` of an adapter: a supervised
// process and a router that hands each thread's notifications and requests
// to the session that owns the thread.
type server struct {
	sup *process.Supervisor[*rpc]

	mu      sync.Mutex
	threads map[string]*conn
}

// rpc is one app-server instance's JSON-RPC connection.
type rpc struct {
	*jsonrpc.Conn
}

// router is the jsonrpc.Handler of one instance: it runs on the read
// goroutine, so it only routes; sessions do their work elsewhere.
type router struct {
	s   *server
	rpc atomic.Pointer[rpc] // set right after the connection is made
}

// starter spawns one app-server process whose stdio speaks to h.
type starter func(ctx context.Context, h jsonrpc.Handler) (*process.Proc, *jsonrpc.Conn, error)

func newServer(start starter, version string) *server {
	s := &server{threads: map[string]*conn{}}
	s.sup = process.NewSupervisor(process.SupervisorConfig[*rpc]{
		Name: "codex app-server",
		Start: func(ctx context.Context) (process.Instance[*rpc], error) {
			r := &router{s: s}
			p, c, err := start(ctx, r)
			if err != nil {
				return process.Instance[*rpc]{}, err
			}
			in := &rpc{c}
			r.rpc.Store(in)
			return process.Instance[*rpc]{Proc: p, Client: in}, nil
		},
		Ready: func(ctx context.Context, inst process.Instance[*rpc]) error {
			var p initializeParams
			p.ClientInfo = clientInfo{Name: "sandbox-agent", Title: "sandbox-agent", Version: version}
			p.Capabilities.ExperimentalAPI = true
			if err := inst.Client.Call(ctx, methodInitialize, p, nil); err != nil {
				return fmt.Errorf("initialize: %w", err)
			}
			return inst.Client.Notify(methodInitialized, nil)
		},
		Close: func(inst process.Instance[*rpc]) { inst.Client.Close() },
	})
	return s
}

func (s *server) route(threadID string, c *conn) {
	s.mu.Lock()
	s.threads[threadID] = c
	s.mu.Unlock()
}

func (s *server) unroute(threadID string, c *conn) {
	s.mu.Lock()
	if s.threads[threadID] == c {
		delete(s.threads, threadID)
	}
	s.mu.Unlock()
}

func (s *server) owner(params json.RawMessage) *conn {
	var env envelope
	if json.Unmarshal(params, &env) != nil {
		return nil
	}
	id := env.thread()
	if id == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.threads[id]
}

func (r *router) Notification(method string, params json.RawMessage, raw []byte) {
	if c := r.s.owner(params); c != nil {
		c.notification(method, params, raw)
	}
	// Notifications of no thread (account, config warnings at start) or of
	// a thread no session owns any more have no one to go to.
}

func (r *router) Request(id json.RawMessage, method string, params json.RawMessage, raw []byte) {
	in := r.rpc.Load()
	if in == nil {
		return // cannot happen: nothing asks before initialize was answered
	}
	if c := r.s.owner(params); c != nil {
		c.request(in, id, method, params, raw)
		return
	}
	// Answer what no session can, so the agent does not wait forever.
	_ = in.ReplyError(id, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "no session owns this thread"})
}

func (r *router) Invalid([]byte, error) {}
