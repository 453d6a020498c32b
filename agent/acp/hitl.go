package acp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/jsonrpc"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// What the agent sends on its own: session/update notifications and its
// requests to the client (permissions, files, terminals). jsonrpc calls
// these on its read goroutine, one at a time; anything that waits (a
// user's answer, a terminal's exit) is handed off.

// Notification handles session/update (and ignores other notifications,
// extensions among them).
func (c *conn) Notification(method string, params json.RawMessage, raw []byte) {
	if method != "session/update" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loading {
		return // history the agent replays on session/load
	}
	c.emit(c.conv.Update(params, json.RawMessage(raw))...)
}

// Invalid reports a line that is not JSON-RPC.
func (c *conn) Invalid(raw []byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var probe any
	if json.Unmarshal(raw, &probe) != nil {
		b, _ := json.Marshal(string(raw))
		raw = b
	}
	c.emit(agent.Unparsed("acp", err.Error(), raw))
}

// Request serves the agent's requests to the client.
func (c *conn) Request(id json.RawMessage, method string, params json.RawMessage, raw []byte) {
	bad := func(err error) {
		_ = c.rpc.ReplyError(id, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: method + ": " + err.Error()})
	}
	reply := func(res any, e *jsonrpc.Error) {
		if e != nil {
			_ = c.rpc.ReplyError(id, e)
			return
		}
		_ = c.rpc.Reply(id, res)
	}
	switch method {
	case "session/request_permission":
		var p permissionParams
		if err := json.Unmarshal(params, &p); err != nil {
			bad(err)
			return
		}
		c.permission(id, p, raw)
	case "fs/read_text_file":
		var p readTextFileParams
		if err := json.Unmarshal(params, &p); err != nil {
			bad(err)
			return
		}
		res, e := c.fs.read(p)
		reply(res, e)
	case "fs/write_text_file":
		var p writeTextFileParams
		if err := json.Unmarshal(params, &p); err != nil {
			bad(err)
			return
		}
		reply(empty{}, c.fs.write(p))
	case "terminal/create":
		var p createTerminalParams
		if err := json.Unmarshal(params, &p); err != nil {
			bad(err)
			return
		}
		res, e := c.terms.create(p)
		reply(res, e)
	case "terminal/output", "terminal/wait_for_exit", "terminal/kill", "terminal/release":
		var p terminalParams
		if err := json.Unmarshal(params, &p); err != nil {
			bad(err)
			return
		}
		go c.terminal(method, p, reply)
	default:
		_ = c.rpc.ReplyError(id, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "method not found: " + method})
	}
}

// terminal serves the terminal methods that may wait, off the read
// goroutine.
func (c *conn) terminal(method string, p terminalParams, reply func(any, *jsonrpc.Error)) {
	if method == "terminal/release" {
		reply(empty{}, c.terms.release(p.TerminalID))
		return
	}
	t, e := c.terms.get(p.TerminalID)
	if e != nil {
		reply(nil, e)
		return
	}
	switch method {
	case "terminal/output":
		reply(t.output(), nil)
	case "terminal/kill":
		t.kill()
		reply(empty{}, nil)
	case "terminal/wait_for_exit":
		<-t.p.Done()
		st := t.exitStatus()
		reply(st, nil)
	}
}

// permission turns session/request_permission into permission.requested,
// unless the session's permission mode (or an earlier "always") answers it.
func (c *conn) permission(id json.RawMessage, p permissionParams, raw []byte) {
	var tc update
	_ = json.Unmarshal(p.ToolCall, &tc)
	kind, title := deref(tc.Kind), deref(tc.Title)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.dead {
		return
	}
	key := kind + "\x00" + title
	auto := ""
	switch {
	case c.spec.PermissionMode == schema.PermissionModeBypass:
		auto = pickOption(p.Options, schema.ReplyOnce)
	case c.spec.PermissionMode == schema.PermissionModeAcceptEdits && kind == "edit":
		auto = pickOption(p.Options, schema.ReplyOnce)
	case c.always[key] != "":
		if slices.ContainsFunc(p.Options, func(o permissionOption) bool { return o.OptionID == c.always[key] }) {
			auto = c.always[key]
		}
	}
	if auto != "" {
		go func() {
			_ = c.rpc.Reply(id, permissionResult{Outcome: permissionOutcome{Outcome: "selected", OptionID: auto}})
		}()
		return
	}
	c.nextPerm++
	pid := fmt.Sprintf("acp_perm_%d", c.nextPerm)
	action := kind
	if action == "" {
		action = "tool"
	}
	meta, _ := json.Marshal(map[string]any{
		"toolCallId": tc.ToolCallID, "title": title, "kind": kind,
		"toolCall": p.ToolCall, "options": p.Options,
	})
	d := schema.PermissionEventData{PermissionID: pid, Action: action, Status: schema.PermissionRequested, Metadata: meta}
	c.perms[pid] = &permReq{rpcID: id, options: p.Options, data: d, key: key}
	c.emit(agent.Draft{Type: schema.EventPermissionRequested, Data: &d, Raw: raw})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// pickOption maps our reply onto the agent's own options: once →
// allow_once (else allow_always), always → allow_always (else allow_once),
// reject → reject_once (else reject_always). "" when none fits.
func pickOption(opts []permissionOption, r schema.PermissionReply) string {
	var kinds []string
	switch r {
	case schema.ReplyOnce:
		kinds = []string{"allow_once", "allow_always"}
	case schema.ReplyAlways:
		kinds = []string{"allow_always", "allow_once"}
	case schema.ReplyReject:
		kinds = []string{"reject_once", "reject_always"}
	}
	for _, k := range kinds {
		for _, o := range opts {
			if o.Kind == k {
				return o.OptionID
			}
		}
	}
	return ""
}

// Answer forwards a permission reply as the option it maps to (cancelled
// when the agent offered none that fits a rejection). ACP has no
// questions.
func (c *conn) Answer(_ context.Context, r agent.Reply) error {
	if r.Kind != agent.ReplyPermission {
		return agent.Errorf(agent.ErrInvalidRequest, "%s asks no questions", c.a.e.ID)
	}
	c.mu.Lock()
	req := c.perms[r.ID]
	if req == nil {
		c.mu.Unlock()
		return agent.Errorf(agent.ErrInvalidRequest, "permission %s is not pending", r.ID)
	}
	opt := pickOption(req.options, r.Permission)
	if opt == "" && r.Permission != schema.ReplyReject {
		c.mu.Unlock()
		return agent.Errorf(agent.ErrInvalidRequest, "the agent offered no option for %q", r.Permission)
	}
	delete(c.perms, r.ID)
	if r.Permission == schema.ReplyAlways {
		c.always[req.key] = opt
	}
	c.mu.Unlock()
	out := permissionOutcome{Outcome: "selected", OptionID: opt}
	if opt == "" {
		out = permissionOutcome{Outcome: "cancelled"}
	}
	return c.rpc.Reply(req.rpcID, permissionResult{Outcome: out})
}

// mcpServerFor is one MCP server as session/new takes it: stdio servers
// always, http ones when the agent says it can (nil otherwise: the agent
// could not use it).
func mcpServerFor(name string, s schema.McpServerConfig, caps agentCapabilities) (*mcpServer, error) {
	if s.Enabled != nil && !*s.Enabled {
		return nil, nil
	}
	switch s.Type {
	case schema.McpLocal:
		if len(s.Command) == 0 {
			return nil, agent.Errorf(agent.ErrInvalidRequest, "mcp %s: command is empty", name)
		}
		m := &mcpServer{Name: name, Command: s.Command[0], Args: append(slices.Clone(s.Command[1:]), s.Args...), Env: []envVariable{}}
		keys := make([]string, 0, len(s.Env))
		for k := range s.Env {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			m.Env = append(m.Env, envVariable{Name: k, Value: s.Env[k]})
		}
		if m.Args == nil {
			m.Args = []string{}
		}
		return m, nil
	case schema.McpRemote:
		typ := "http"
		if s.Transport != nil && strings.EqualFold(*s.Transport, "sse") {
			typ = "sse"
		}
		if (typ == "http" && !caps.McpCapabilities.HTTP) || (typ == "sse" && !caps.McpCapabilities.SSE) {
			return nil, agent.Errorf(agent.ErrInvalidRequest, "mcp %s: the agent does not support %s MCP servers", name, typ)
		}
		m := &mcpServer{Type: typ, Name: name, URL: s.URL, Headers: []httpHeader{}}
		keys := make([]string, 0, len(s.Headers))
		for k := range s.Headers {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			m.Headers = append(m.Headers, httpHeader{Name: k, Value: s.Headers[k]})
		}
		if s.BearerTokenEnvVar != nil {
			if v := os.Getenv(*s.BearerTokenEnvVar); v != "" {
				m.Headers = append(m.Headers, httpHeader{Name: "Authorization", Value: "Bearer " + v})
			}
		}
		return m, nil
	}
	return nil, agent.Errorf(agent.ErrInvalidRequest, "mcp %s: unknown type %q", name, s.Type)
}
