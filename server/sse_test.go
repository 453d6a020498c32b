package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// sseFrames reads raw SSE frames from a real HTTP response.
type sseFrame struct {
	id   string
	data string
}

func openSSE(t *testing.T, e *apiEnv, path string, header http.Header) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctxT(t), http.MethodGet, e.url+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("status %d content-type %q", resp.StatusCode, ct)
	}
	return resp, bufio.NewReader(resp.Body)
}

func readFrame(t *testing.T, br *bufio.Reader) (sseFrame, []string) {
	t.Helper()
	var f sseFrame
	var comments []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && f.data != "":
			return f, comments
		case line == "":
		case strings.HasPrefix(line, ":"):
			comments = append(comments, line)
		case strings.HasPrefix(line, "id: "):
			f.id = line[4:]
		case strings.HasPrefix(line, "data: "):
			f.data = line[6:]
		}
	}
}

func TestSSEReplayAndResume(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("s", schema.CreateSessionRequest{Agent: "mock"})
	e.send("s", okPrompt)
	all := e.waitFor("s", 0, isType(schema.EventTurnEnded))

	// offset: replay everything after it, frames carry id = sequence.
	_, br := openSSE(t, e, "/v1/sessions/s/events/sse?offset=3", nil)
	for _, want := range all[3:] {
		f, _ := readFrame(t, br)
		var ev schema.Event
		if err := json.Unmarshal([]byte(f.data), &ev); err != nil {
			t.Fatal(err)
		}
		if f.id != itoa(int(want.Sequence)) || ev.Sequence != want.Sequence || ev.Type != want.Type || ev.Raw != nil {
			t.Fatalf("frame id=%s seq=%d type=%s; want seq %d %s", f.id, ev.Sequence, ev.Type, want.Sequence, want.Type)
		}
	}
	// Last-Event-ID wins over offset (it is what EventSource sends on reconnect).
	_, br = openSSE(t, e, "/v1/sessions/s/events/sse?offset=1", http.Header{"Last-Event-ID": {"6"}})
	f, _ := readFrame(t, br)
	if f.id != "7" {
		t.Fatalf("resume after Last-Event-ID 6 started at %s", f.id)
	}
	// Live events follow the replay on the same stream.
	e.send("s", "Reply with exactly the word SECOND.")
	for {
		f, _ = readFrame(t, br)
		if strings.Contains(f.data, `"turn.ended"`) && f.id != itoa(len(all)) {
			break
		}
	}
}

func TestSSEKeepAliveAndBadLastEventID(t *testing.T) {
	e := startAPI(t, apiOpts{keepAlive: 50 * time.Millisecond})
	e.create("k", schema.CreateSessionRequest{Agent: "mock"})
	_, br := openSSE(t, e, "/v1/sessions/k/events/sse", nil)
	readFrame(t, br) // session.started
	e.send("k", okPrompt)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, ":") {
			if line != ": keep-alive\n" {
				t.Fatalf("comment = %q", line)
			}
			break
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.url+"/v1/sessions/k/events/sse", nil)
	req.Header.Set("Last-Event-ID", "abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("bad Last-Event-ID → %d", resp.StatusCode)
	}
}

// TestSlowSubscriber: a reader far slower than the agent still gets every
// event exactly once and in order, and the agent finishes long before the
// reader does (it never waits for the reader).
func TestSlowSubscriber(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("slow", schema.CreateSessionRequest{Agent: "mock"})
	const turns = 15
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	var read atomic.Uint64
	done := make(chan []schema.Event, 1)
	go func() {
		var got []schema.Event
		for ev, err := range e.c.StreamEvents(ctx, "slow", client.StreamOptions{}) {
			if err != nil {
				t.Error(err)
				break
			}
			got = append(got, ev)
			read.Store(ev.Sequence)
			time.Sleep(2 * time.Millisecond) // a slow consumer
			if ev.Type == schema.EventTurnEnded && countTurns(got) == turns {
				break
			}
		}
		done <- got
	}()
	// The agent is done while the reader is still far behind.
	var last uint64
	for range turns {
		e.send("slow", "demo")
		last = e.answerUntilTurnEnded("slow", last)
	}
	info, _ := e.c.Session(ctxT(t), "slow")
	behind := read.Load()
	if behind >= info.EventCount {
		t.Fatalf("reader was not behind (read %d of %d): test proves nothing", behind, info.EventCount)
	}
	got := <-done
	for i, ev := range got {
		if ev.Sequence != uint64(i+1) {
			t.Fatalf("event %d has sequence %d: lost or repeated events", i, ev.Sequence)
		}
	}
	if uint64(len(got)) != info.EventCount {
		t.Fatalf("reader got %d events, log has %d", len(got), info.EventCount)
	}
}

func countTurns(evs []schema.Event) int {
	n := 0
	for _, ev := range evs {
		if ev.Type == schema.EventTurnEnded {
			n++
		}
	}
	return n
}

// TestStreamEventsReconnects: the client's iterator survives dropped
// connections and resumes after the last sequence it saw.
func TestStreamEventsReconnects(t *testing.T) {
	e := startAPI(t, apiOpts{})
	e.create("rc", schema.CreateSessionRequest{Agent: "mock"})
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	// Sends use fresh connections so that dropping every connection only
	// hits the stream.
	sender := client.New(e.url, client.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}))
	send := func() {
		if err := sender.SendMessage(ctx, "rc", schema.MessageRequest{Message: okPrompt}); err != nil {
			t.Fatal(err)
		}
	}
	var got []schema.Event
	turns := 0
	for ev, err := range e.c.StreamEvents(ctx, "rc", client.StreamOptions{RetryDelay: 5 * time.Millisecond}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
		switch {
		case ev.Sequence == 1:
			send()
		case ev.Type == schema.EventTurnEnded:
			turns++
			if turns < 3 {
				// Drop every connection, then keep the agent going.
				e.ts.CloseClientConnections()
				send()
			}
		}
		if turns == 3 {
			break
		}
	}
	for i, ev := range got {
		if ev.Sequence != uint64(i+1) {
			t.Fatalf("event %d has sequence %d after reconnects", i, ev.Sequence)
		}
	}
	if len(got) != 1+3*len(okSkeleton) {
		t.Fatalf("got %d events: %v", len(got), skeleton(got))
	}
}

// TestDeleteEndsStreams: deleting a session ends its open streams (a
// reader must not spin on a log that no longer exists).
func TestDeleteEndsStreams(t *testing.T) {
	e := startAPI(t, apiOpts{})
	for i := range 20 {
		id := "del" + itoa(i)
		e.create(id, schema.CreateSessionRequest{Agent: "mock"})
		resp, br := openSSE(t, e, "/v1/sessions/"+id+"/events/sse", nil)
		readFrame(t, br)
		if err := e.c.DeleteSession(ctxT(t), id); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, br)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("stream of deleted session %s still open", id)
		}
		resp.Body.Close()
	}
}
