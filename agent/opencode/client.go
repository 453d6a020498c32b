package opencode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client speaks to one `opencode serve` instance: HTTP basic auth with the
// instance's password (user "opencode"), every session route scoped to a
// project directory with ?directory=.
type client struct {
	base     string // http://127.0.0.1:<port>
	password string
	hc       *http.Client
}

func newClient(base, password string) *client {
	// No overall timeout: the event stream lives as long as the instance.
	// Calls are bounded by their contexts.
	return &client{base: strings.TrimRight(base, "/"), password: password, hc: &http.Client{}}
}

// apiError is a non-2xx answer of the server.
type apiError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("opencode %s %s: HTTP %d: %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

func isStatus(err error, code int) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == code
}

func (c *client) request(ctx context.Context, method, path, dir string, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	u := c.base + path
	if dir != "" {
		u += "?directory=" + url.QueryEscape(dir)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth("opencode", c.password)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// call sends one request and decodes a JSON answer into out (when not nil).
func (c *client) call(ctx context.Context, method, path, dir string, body, out any) error {
	req, err := c.request(ctx, method, path, dir, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("opencode %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("opencode %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		if len(data) > 2048 {
			data = data[:2048]
		}
		return &apiError{Method: method, Path: path, Status: resp.StatusCode, Body: string(data)}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("opencode %s %s: decode: %w", method, path, err)
	}
	return nil
}

// healthy asks GET /global/health once. A probe sent too early can hang
// (the server accepts but never answers), so each try has its own short
// deadline.
func (c *client) healthy(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var h struct {
		Healthy bool   `json:"healthy"`
		Version string `json:"version"`
	}
	if err := c.call(ctx, http.MethodGet, "/global/health", "", nil, &h); err != nil {
		return err
	}
	if !h.Healthy {
		return errors.New("opencode reports itself unhealthy")
	}
	return nil
}

// permissionRule is one entry of a PermissionRuleset.
type permissionRule struct {
	Permission string `json:"permission"`
	Pattern    string `json:"pattern"`
	Action     string `json:"action"` // allow, deny, ask
}

type createSessionBody struct {
	Title      string           `json:"title,omitempty"`
	Permission []permissionRule `json:"permission,omitempty"`
}

func (c *client) createSession(ctx context.Context, dir string, body createSessionBody) (sessionInfo, error) {
	var s sessionInfo
	err := c.call(ctx, http.MethodPost, "/session", dir, body, &s)
	if err == nil && s.ID == "" {
		err = errors.New("opencode POST /session: no session id in the answer")
	}
	return s, err
}

func (c *client) getSession(ctx context.Context, dir, id string) (sessionInfo, error) {
	var s sessionInfo
	err := c.call(ctx, http.MethodGet, "/session/"+url.PathEscape(id), dir, nil, &s)
	return s, err
}

// promptPart is TextPartInput | FilePartInput.
type promptPart struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Mime     string `json:"mime,omitempty"`
	Filename string `json:"filename,omitempty"`
	URL      string `json:"url,omitempty"`
}

type modelRef struct {
	ProviderID string `json:"providerID"`
	ModelID    string `json:"modelID"`
}

type promptBody struct {
	Parts   []promptPart `json:"parts"`
	Agent   string       `json:"agent,omitempty"`
	Model   *modelRef    `json:"model,omitempty"`
	Variant string       `json:"variant,omitempty"`
}

func (c *client) promptAsync(ctx context.Context, dir, id string, body promptBody) error {
	return c.call(ctx, http.MethodPost, "/session/"+url.PathEscape(id)+"/prompt_async", dir, body, nil)
}

func (c *client) abort(ctx context.Context, dir, id string) error {
	return c.call(ctx, http.MethodPost, "/session/"+url.PathEscape(id)+"/abort", dir, nil, nil)
}

func (c *client) replyPermission(ctx context.Context, dir, id, reply string) error {
	return c.call(ctx, http.MethodPost, "/permission/"+url.PathEscape(id)+"/reply", dir, map[string]string{"reply": reply}, nil)
}

func (c *client) replyQuestion(ctx context.Context, dir, id string, answers [][]string) error {
	return c.call(ctx, http.MethodPost, "/question/"+url.PathEscape(id)+"/reply", dir, map[string]any{"answers": answers}, nil)
}

func (c *client) rejectQuestion(ctx context.Context, dir, id string) error {
	return c.call(ctx, http.MethodPost, "/question/"+url.PathEscape(id)+"/reject", dir, nil, nil)
}

func (c *client) agents(ctx context.Context, dir string) ([]agentInfo, error) {
	var out []agentInfo
	err := c.call(ctx, http.MethodGet, "/agent", dir, nil, &out)
	return out, err
}

func (c *client) providers(ctx context.Context, dir string) (providersResponse, error) {
	var out providersResponse
	err := c.call(ctx, http.MethodGet, "/config/providers", dir, nil, &out)
	return out, err
}

// messages is GET /session/{id}/message: the session's messages with
// their parts, oldest first.
func (c *client) messages(ctx context.Context, dir, id string) ([]sessionMessage, error) {
	var out []sessionMessage
	err := c.call(ctx, http.MethodGet, "/session/"+url.PathEscape(id)+"/message", dir, nil, &out)
	return out, err
}

// sessionStatuses is GET /session/status: the sessions that are not idle.
func (c *client) sessionStatuses(ctx context.Context, dir string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	err := c.call(ctx, http.MethodGet, "/session/status", dir, nil, &out)
	return out, err
}

func (c *client) addMCP(ctx context.Context, dir, name string, cfg any) error {
	return c.call(ctx, http.MethodPost, "/mcp", dir, map[string]any{"name": name, "config": cfg}, nil)
}

// eventStreamHook, when set (tests), wraps each event stream's body, so a
// test can cut the stream.
var eventStreamHook func(io.ReadCloser) io.ReadCloser

// events opens GET /global/event and calls fn with each event's payload
// and directory until the stream ends or ctx is done. connected is called
// once the server's first event (server.connected) arrived, which is when
// the subscription is in place.
func (c *client) events(ctx context.Context, connected func(), fn func(dir string, payload []byte)) error {
	req, err := c.request(ctx, http.MethodGet, "/global/event", "", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("opencode GET /global/event: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return &apiError{Method: http.MethodGet, Path: "/global/event", Status: resp.StatusCode, Body: string(b)}
	}
	body := io.ReadCloser(resp.Body)
	if eventStreamHook != nil {
		body = eventStreamHook(body)
	}
	return readSSE(body, func(data []byte) {
		var g globalEvent
		if err := json.Unmarshal(data, &g); err != nil || len(g.Payload) == 0 {
			// Not wrapped: the per-instance /event shape.
			g = globalEvent{Payload: data}
		}
		if connected != nil {
			connected()
			connected = nil
		}
		fn(g.Directory, g.Payload)
	})
}

// readSSE calls fn with the data of each event of an SSE body: the data
// lines of one event joined with newlines, at the blank line that ends it.
func readSSE(r io.Reader, fn func(data []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var data []byte
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if len(data) > 0 {
				fn(data)
				data = nil
			}
			continue
		}
		if v, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			v = bytes.TrimPrefix(v, []byte(" "))
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, v...)
		}
		// event:, id:, retry: and comments carry nothing we use.
	}
	if len(data) > 0 {
		fn(data)
	}
	return sc.Err()
}
