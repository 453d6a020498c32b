package fakellm

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// reply is a Step resolved against one request: exactly what goes on the
// wire, whatever the API.
type reply struct {
	thinking   string
	chunks     []string // text deltas; nil means no text block
	calls      []*toolCall
	stop       string
	usage      Usage
	cut        int
	eventDelay time.Duration
	streamErr  *APIError
}

func (rp reply) text() string { return strings.Join(rp.chunks, "") }

// stopReason is the step's own stop reason, else onTools when the reply
// calls tools, else onEnd.
func (rp reply) stopReason(onEnd, onTools string) string {
	switch {
	case rp.stop != "":
		return rp.stop
	case len(rp.calls) > 0:
		return onTools
	}
	return onEnd
}

// assignIDs gives every call the step left without an id a fresh one
// ("toolu_…", "call_…").
func (s *Server) assignIDs(calls []*toolCall, prefix string) {
	for _, c := range calls {
		if c.ID == "" {
			c.ID = s.id(prefix)
		}
	}
}

// plan resolves step for req. The step must already be free of Func and
// Markers.
func plan(step Step, req *Request) reply {
	rp := reply{
		thinking:   step.Thinking,
		stop:       step.StopReason,
		usage:      Usage{InputTokens: 100, OutputTokens: 20},
		cut:        step.CutAfter,
		eventDelay: time.Duration(step.EventDelay),
	}
	if step.Usage != nil {
		rp.usage = *step.Usage
	}
	if step.Error != nil && step.Error.InStream {
		rp.streamErr = step.Error
	}
	switch {
	case len(step.Chunks) > 0:
		rp.chunks = step.Chunks
	case step.Text != "":
		rp.chunks = []string{step.Text}
	}
	for _, c := range step.Calls {
		calls, text := resolveCalls(c, req)
		if len(calls) > 0 {
			calls[len(calls)-1].ID = c.ID // the call the step asked for; helpers get fresh ids
			rp.calls = append(rp.calls, calls...)
			continue
		}
		if len(rp.chunks) > 0 {
			text = "\n\n" + text
		}
		rp.chunks = append(rp.chunks, text)
	}
	if rp.thinking == "" && len(rp.chunks) == 0 && len(rp.calls) == 0 {
		rp.chunks = []string{""}
	}
	return rp
}

// stream writes server-sent events, pacing them by eventDelay and dropping
// the connection once cut events are out. Write errors are sticky: after
// the client has gone, further events are skipped.
type stream struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	ctx   context.Context
	done  <-chan struct{}
	delay time.Duration
	cut   int
	n     int
	err   error
}

func (s *Server) newStream(w http.ResponseWriter, r *http.Request, rp reply) *stream {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	st := &stream{w: w, rc: http.NewResponseController(w), ctx: r.Context(), done: s.done, delay: rp.eventDelay, cut: rp.cut}
	st.err = st.rc.Flush()
	return st
}

// event writes one SSE event; name "" writes a data-only event (the OpenAI
// Chat format).
func (st *stream) event(name string, data any) {
	st.write(name, string(marshal(data)))
}

// write sends one event with a literal data line.
func (st *stream) write(name, data string) {
	if st.err != nil {
		return
	}
	if st.n > 0 && st.delay > 0 {
		if err := sleep(st.ctx, st.done, st.delay); err != nil {
			// The client left or the server is closing: drop the
			// connection rather than end the stream cleanly.
			panic(http.ErrAbortHandler)
		}
	}
	var b strings.Builder
	if name != "" {
		b.WriteString("event: " + name + "\n")
	}
	b.WriteString("data: " + data + "\n\n")
	if _, err := st.w.Write([]byte(b.String())); err != nil {
		st.err = err
		return
	}
	st.err = st.rc.Flush()
	st.n++
	if st.cut > 0 && st.n >= st.cut {
		// Abort the handler: net/http then closes the connection without
		// the final chunk, so the client sees a truncated stream.
		panic(http.ErrAbortHandler)
	}
}

// writeJSON writes a JSON reply. With cut > 0 only half the body goes out
// before the connection drops.
func writeJSON(w http.ResponseWriter, status int, v any, cut int) {
	b := marshal(v)
	w.Header().Set("Content-Type", "application/json")
	if cut <= 0 {
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b[:len(b)/2])
	_ = http.NewResponseController(w).Flush()
	panic(http.ErrAbortHandler)
}

// marshal encodes v as compact JSON without HTML escaping, as the real APIs
// do: a command such as "a && b" stays readable in tool arguments.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // our own payloads always marshal
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// sleep waits d unless the request or the server ends first.
func sleep(ctx context.Context, done <-chan struct{}, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return http.ErrServerClosed
	}
}

// pieces splits s into runs of at most n runes, the way real servers stream
// tool arguments. An empty s is one empty piece.
func pieces(s string, n int) []string {
	var out []string
	r := []rune(s)
	for len(r) > n {
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	return append(out, string(r))
}
