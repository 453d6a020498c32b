package server

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/session"
)

type eventsIn struct {
	SessionID       string `path:"session_id" maxLength:"128" pattern:"^[^\\x00-\\x1F\\x7F-\\x9F]+$" doc:"Client-chosen session id: 1 to 128 characters of UTF-8, no control characters."`
	IncludeRaw      bool   `query:"include_raw" doc:"Include each event's native payload in raw (otherwise null)."`
	IncludeRawCamel bool   `query:"includeRaw" doc:"Alias of include_raw."`
	Offset          uint64 `query:"offset" doc:"Return events with sequence greater than this (exclusive)."`
	Limit           uint64 `query:"limit" doc:"Return at most this many events; hasMore tells whether more exist."`
	// hasLimit is set by Resolve: an absent limit means no limit.
	hasLimit bool
}

// Resolve notes whether limit was given at all (0 is a valid limit).
func (in *eventsIn) Resolve(ctx huma.Context) []error {
	u := ctx.URL()
	in.hasLimit = u.Query().Has("limit")
	return nil
}

type eventsOut struct{ Body schema.EventsResponse }

type sseIn struct {
	SessionID       string `path:"session_id" maxLength:"128" pattern:"^[^\\x00-\\x1F\\x7F-\\x9F]+$" doc:"Client-chosen session id: 1 to 128 characters of UTF-8, no control characters."`
	IncludeRaw      bool   `query:"include_raw" doc:"Include each event's native payload in raw (otherwise null)."`
	IncludeRawCamel bool   `query:"includeRaw" doc:"Alias of include_raw."`
	Offset          uint64 `query:"offset" doc:"Replay events with sequence greater than this, then stream live ones."`
	LastEventID     string `header:"Last-Event-ID" doc:"Resume after this sequence (set by EventSource on reconnect); wins over offset."`
}

type streamIn struct {
	SessionID       string `path:"session_id" maxLength:"128" pattern:"^[^\\x00-\\x1F\\x7F-\\x9F]+$" doc:"Client-chosen session id: 1 to 128 characters of UTF-8, no control characters."`
	IncludeRaw      bool   `query:"include_raw" doc:"Include each event's native payload in raw (otherwise null)."`
	IncludeRawCamel bool   `query:"includeRaw" doc:"Alias of include_raw."`
	Body            schema.MessageRequest
}

// streamEnd lists the event types after which a turn stream closes.
var streamEnd = map[schema.EventType]bool{
	schema.EventTurnEnded: true, schema.EventSessionEnded: true, schema.EventError: true,
	schema.EventAgentUnparsed: true, schema.EventPermissionRequested: true, schema.EventQuestionRequested: true,
}

func sseResponses(desc string) map[string]*huma.Response {
	return map[string]*huma.Response{
		"200": {Description: desc, Content: map[string]*huma.MediaType{
			"text/event-stream": {Schema: &huma.Schema{Ref: "#/components/schemas/UniversalEvent"}},
		}},
	}
}

func (s *Server) registerEvents() {
	ev := op("getEvents", http.MethodGet, "/v1/sessions/{session_id}/events", "Page through a session's events", "events")
	ev.Errors = []int{400, 404}
	huma.Register(s.api, ev, wrap(s, func(ctx context.Context, in *eventsIn) (*eventsOut, error) {
		sess, err := s.cfg.Manager.Get(in.SessionID)
		if err != nil {
			return nil, err
		}
		limit := -1
		if in.hasLimit {
			limit = int(min(in.Limit, 1<<31))
		}
		evs, more, err := sess.Events(ctx, in.Offset, limit)
		if err != nil {
			return nil, err
		}
		if !in.raw() {
			for i := range evs {
				evs[i].Raw = nil
			}
		}
		return &eventsOut{Body: schema.EventsResponse{Events: evs, HasMore: more}}, nil
	}))

	sse := op("getEventsSse", http.MethodGet, "/v1/sessions/{session_id}/events/sse", "Replay then stream a session's events (SSE; id = sequence)", "events")
	sse.Errors = []int{400, 404}
	sse.Responses = sseResponses("Server-sent events: `id: <sequence>` and `data: <UniversalEvent JSON>` per event; `: keep-alive` comments every 15 s. Never closes on its own.")
	huma.Register(s.api, sse, wrap(s, func(ctx context.Context, in *sseIn) (*huma.StreamResponse, error) {
		sess, err := s.cfg.Manager.Get(in.SessionID)
		if err != nil {
			return nil, err
		}
		cursor := in.Offset
		if in.LastEventID != "" {
			n, err := strconv.ParseUint(strings.TrimSpace(in.LastEventID), 10, 64)
			if err != nil {
				return nil, problem.Invalid("Last-Event-ID must be an event sequence number, got %q", in.LastEventID).With("field", "Last-Event-ID")
			}
			cursor = n
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			s.streamEvents(hctx, sess, cursor, in.raw(), nil)
		}}, nil
	}))

	st := op("postMessageStream", http.MethodPost, "/v1/sessions/{session_id}/messages/stream", "Send a message and stream its turn (SSE); closes after the turn ends or needs a human", "sessions")
	st.Errors = []int{400, 404, 500}
	st.Responses = sseResponses("Server-sent events of this turn only; the stream closes after the first turn.ended, session.ended, error, agent.unparsed, permission.requested or question.requested.")
	huma.Register(s.api, st, wrap(s, func(ctx context.Context, in *streamIn) (*huma.StreamResponse, error) {
		sess, err := s.cfg.Manager.Get(in.SessionID)
		if err != nil {
			return nil, err
		}
		turn, err := sess.SendTurn(context.WithoutCancel(ctx), agent.Prompt{Text: in.Body.Message, Attachments: in.Body.Attachments})
		if err != nil {
			return nil, err
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			// Exactly the turn this message started: not the tail of the
			// previous one, nor (when queued) the one it waits behind.
			r, _ := humago.Unwrap(hctx)
			s.streamEvents(hctx, sess, sess.StreamFrom(r.Context(), turn), in.raw(), streamEnd)
		}}, nil
	}))
}

const ssePage = 256

// streamEvents writes the session's events after cursor as SSE until the
// client leaves, the session is deleted, or (when stop is set) an event of a
// stop type was written. It reads from the log, so a slow client only falls
// behind; it never makes the agent wait and never misses an event.
func (s *Server) streamEvents(hctx huma.Context, sess *session.Session, cursor uint64, includeRaw bool, stop map[schema.EventType]bool) {
	r, w := humago.Unwrap(hctx)
	ctx := r.Context()
	defer sess.Attach()() // a delete lets this reader see session.ended
	rc := http.NewResponseController(w)
	// Every write gets a deadline: a reader that stopped reading (gone
	// without a FIN, or stalled) fails the write instead of pinning this
	// goroutine, and the events it did not take stay in the log for a
	// reconnect with Last-Event-ID.
	alive := func() { _ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout)) }
	alive()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	var head []byte
	for {
		evs, _, err := sess.Events(ctx, cursor, ssePage)
		if err != nil {
			return
		}
		for i := range evs {
			// One event is encoded at a time and written before the next:
			// what a slow reader holds is the event it is stuck on, not a
			// page of them.
			ev, err := sess.Encode(&evs[i], includeRaw)
			if err != nil {
				return
			}
			alive() // per event: a slow reader that still reads keeps up
			head = append(strconv.AppendUint(append(head[:0], "id: "...), ev.Sequence, 10), "\ndata: "...)
			if _, err := w.Write(head); err != nil {
				return
			}
			if _, err := ev.WriteTo(w); err != nil {
				return
			}
			if _, err := io.WriteString(w, "\n\n"); err != nil {
				return
			}
			cursor = ev.Sequence
			if stop[ev.Type] {
				_ = rc.Flush()
				return
			}
		}
		if len(evs) > 0 {
			if rc.Flush() != nil {
				return
			}
		}
		if len(evs) == ssePage || (len(evs) > 0 && sess.LastSequence() > cursor) {
			continue // more to read already: no wait (and no timer) needed
		}
		if len(evs) == 0 {
			select {
			case <-sess.Gone(): // deleted while we were reading
				return
			default:
			}
		}
		for {
			wctx, cancel := context.WithTimeout(ctx, s.cfg.KeepAlive)
			ok := sess.Wait(wctx, cursor)
			cancel()
			if ok {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-sess.Gone():
				return
			default:
			}
			alive()
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

func (in *eventsIn) raw() bool { return in.IncludeRaw || in.IncludeRawCamel }

func (in *sseIn) raw() bool { return in.IncludeRaw || in.IncludeRawCamel }

func (in *streamIn) raw() bool { return in.IncludeRaw || in.IncludeRawCamel }
