package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// StreamOptions configures an event stream.
type StreamOptions struct {
	// Offset starts after this sequence.
	Offset     uint64
	IncludeRaw bool
	// NoReconnect disables reconnecting after a dropped connection (by
	// default the stream resumes after the last event received).
	NoReconnect bool
	// RetryDelay between reconnects (default 250ms).
	RetryDelay time.Duration
}

// StreamEvents streams a session's events (replay after Offset, then live)
// as an iterator. It reconnects after a dropped connection and resumes from
// the last sequence seen, so no event is lost or repeated. The iteration
// ends when ctx ends, the consumer stops, or a non-retryable error (e.g. the
// session does not exist) is yielded.
func (c *Client) StreamEvents(ctx context.Context, sessionID string, o StreamOptions) iter.Seq2[schema.Event, error] {
	return func(yield func(schema.Event, error) bool) {
		last := o.Offset
		delay := o.RetryDelay
		if delay == 0 {
			delay = 250 * time.Millisecond
		}
		for {
			q := url.Values{}
			if o.IncludeRaw {
				q.Set("include_raw", "true")
			}
			q.Set("offset", strconv.FormatUint(last, 10))
			h := http.Header{}
			if last > 0 {
				h.Set("Last-Event-ID", strconv.FormatUint(last, 10))
			}
			resp, err := c.send(ctx, request{method: http.MethodGet, path: "/v1/sessions/" + seg(sessionID) + "/events/sse", query: q, header: h})
			if err != nil {
				var apiErr *Error
				if ctx.Err() != nil {
					return
				}
				if errors.As(err, &apiErr) || o.NoReconnect {
					yield(schema.Event{}, err)
					return
				}
			} else {
				stop := false
				readErr := readSSE(resp.Body, func(ev schema.Event) bool {
					if ev.Sequence <= last {
						return true // replayed after a reconnect race; already seen
					}
					last = ev.Sequence
					if !yield(ev, nil) {
						stop = true
						return false
					}
					return true
				})
				resp.Body.Close()
				if stop || ctx.Err() != nil {
					return
				}
				if readErr != nil && o.NoReconnect {
					yield(schema.Event{}, readErr)
					return
				}
				if o.NoReconnect {
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
		}
	}
}

// StreamTurn sends a message and streams the events of that turn until it
// ends or needs a human (the server closes the stream then).
func (c *Client) StreamTurn(ctx context.Context, sessionID string, req schema.MessageRequest, includeRaw bool) iter.Seq2[schema.Event, error] {
	return func(yield func(schema.Event, error) bool) {
		q := url.Values{}
		if includeRaw {
			q.Set("include_raw", "true")
		}
		resp, err := c.send(ctx, request{method: http.MethodPost, path: "/v1/sessions/" + seg(sessionID) + "/messages/stream", query: q, body: req,
			header: http.Header{"Accept": {"text/event-stream"}}})
		if err != nil {
			yield(schema.Event{}, err)
			return
		}
		defer resp.Body.Close()
		stopped := false
		err = readSSE(resp.Body, func(ev schema.Event) bool {
			if !yield(ev, nil) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil && !stopped && ctx.Err() == nil {
			yield(schema.Event{}, err)
		}
	}
}

// readSSE parses an SSE body: data lines are joined, frames end at a blank
// line, comments and other fields are ignored. It returns nil at EOF.
func readSSE(r io.Reader, fn func(schema.Event) bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var data strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if data.Len() == 0 {
				continue
			}
			var ev schema.Event
			if jerr := json.Unmarshal([]byte(data.String()), &ev); jerr != nil {
				return fmt.Errorf("sandbox-agent: bad SSE event: %w", jerr)
			}
			data.Reset()
			if !fn(ev) {
				return nil
			}
			continue
		}
		if v, ok := strings.CutPrefix(line, "data:"); ok {
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(v, " "))
		}
	}
}
