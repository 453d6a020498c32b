// Package client is the Go SDK of sandbox-agent: typed methods for every
// /v1 route, an SSE iterator that resumes after a dropped connection, and an
// embedded mode that spawns the sandbox-agent binary.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client talks to one sandbox-agent server.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithToken sends the token as a bearer token.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient replaces the HTTP client (default: a client without a
// timeout, since event streams are long-lived; use contexts for deadlines).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// New returns a client for the server at baseURL (e.g. http://127.0.0.1:2468).
func New(baseURL string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), http: &http.Client{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// BaseURL returns the server's base URL.
func (c *Client) BaseURL() string { return c.base }

// Error is a non-2xx answer; Problem is set when the body was a problem
// document.
type Error struct {
	StatusCode int
	Problem    *Problem
	Body       string
}

// Problem is an RFC 9457 problem document as the server writes it.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Agent     string         `json:"agent,omitempty"`
	SessionID string         `json:"sessionId,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
}

// Kind is the problem type without its URN prefix ("session_not_found").
func (p *Problem) Kind() string { return strings.TrimPrefix(p.Type, "urn:sandbox-agent:error:") }

func (e *Error) Error() string {
	if e.Problem != nil {
		return fmt.Sprintf("sandbox-agent: %d %s: %s", e.StatusCode, e.Problem.Kind(), e.Problem.Detail)
	}
	return fmt.Sprintf("sandbox-agent: %d: %s", e.StatusCode, strings.TrimSpace(e.Body))
}

// Kind returns the problem kind of err, or "" when err is not a problem.
func Kind(err error) string {
	if e, ok := err.(*Error); ok && e.Problem != nil {
		return e.Problem.Kind()
	}
	return ""
}

// request describes one call.
type request struct {
	method      string
	path        string
	query       url.Values
	body        any       // JSON-encoded when set
	raw         io.Reader // sent as is when set
	contentType string
	header      http.Header
}

func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	ct := r.contentType
	switch {
	case r.raw != nil:
		body = r.raw
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
		ct = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// send performs the call; a non-2xx answer becomes *Error. The caller closes
// the returned body.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, errorFrom(resp)
	}
	return resp, nil
}

func errorFrom(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	e := &Error{StatusCode: resp.StatusCode, Body: string(b)}
	var p Problem
	if json.Unmarshal(b, &p) == nil && p.Type != "" {
		e.Problem = &p
	}
	return e
}

// do performs a JSON call and decodes the answer into out (nil: discard).
func (c *Client) do(ctx context.Context, r request, out any) error {
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("sandbox-agent: decoding %s %s: %w", r.method, r.path, err)
	}
	return nil
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }
