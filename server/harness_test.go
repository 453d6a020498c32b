package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/mock"
	"github.com/sandbox-agent/sandbox-agent/agent/pending"
	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/server"
	"github.com/sandbox-agent/sandbox-agent/session"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// apiEnv is a real server on a real socket with a client pointed at it.
type apiEnv struct {
	t   *testing.T
	url string
	c   *client.Client
	mgr *session.Manager
	ts  *httptest.Server
}

type apiOpts struct {
	token     string
	cors      server.CORS
	keepAlive time.Duration
	// writeTimeout bounds each SSE write (the server's default when 0).
	writeTimeout time.Duration
	adapters     []agent.Adapter
	installer    server.Installer
}

func startAPI(t *testing.T, o apiOpts) *apiEnv {
	t.Helper()
	adapters := o.adapters
	if adapters == nil {
		adapters = []agent.Adapter{pending.New("claude"), pending.New("codex"), pending.New("opencode"),
			pending.New("amp"), mock.New(mock.Options{Interval: -1})}
	}
	mgr := session.NewManager(session.Config{Registry: agent.NewRegistry(adapters...), Dir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := server.New(server.Config{Manager: mgr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Token: o.token, CORS: o.cors, KeepAlive: o.keepAlive, WriteTimeout: o.writeTimeout,
		Installer: o.installer, HomeDir: t.TempDir()})
	ts := httptest.NewServer(srv)
	tr := &http.Transport{}
	c := client.New(ts.URL, client.WithToken(o.token), client.WithHTTPClient(&http.Client{Transport: tr}))
	t.Cleanup(func() {
		mgr.Shutdown(context.Background())
		ts.CloseClientConnections()
		ts.Close()
		tr.CloseIdleConnections()
	})
	return &apiEnv{t: t, url: ts.URL, c: c, mgr: mgr, ts: ts}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// create makes a session and fails the test on error.
func (e *apiEnv) create(id string, req schema.CreateSessionRequest) schema.CreateSessionResponse {
	e.t.Helper()
	res, err := e.c.CreateSession(ctxT(e.t), id, req)
	if err != nil {
		e.t.Fatalf("create %s: %v", id, err)
	}
	return res
}

func (e *apiEnv) send(id, msg string) {
	e.t.Helper()
	if err := e.c.SendMessage(ctxT(e.t), id, schema.MessageRequest{Message: msg}); err != nil {
		e.t.Fatalf("send %q: %v", msg, err)
	}
}

// answerUntilTurnEnded answers every permission (once) and question (its
// first option) the session asks after offset, as a client would, until a
// turn.ended; it returns that turn.ended's sequence.
func (e *apiEnv) answerUntilTurnEnded(id string, offset uint64) uint64 {
	e.t.Helper()
	evs := e.waitFor(id, offset, func(ev schema.Event) bool {
		switch d := ev.Data.(type) {
		case *schema.PermissionEventData:
			if ev.Type == schema.EventPermissionRequested {
				if err := e.c.ReplyPermission(ctxT(e.t), id, d.PermissionID, schema.ReplyOnce); err != nil {
					e.t.Errorf("reply %s: %v", d.PermissionID, err)
				}
			}
		case *schema.QuestionEventData:
			if ev.Type == schema.EventQuestionRequested {
				if err := e.c.ReplyQuestion(ctxT(e.t), id, d.QuestionID, [][]string{{d.Options[0]}}); err != nil {
					e.t.Errorf("reply %s: %v", d.QuestionID, err)
				}
			}
		}
		return ev.Type == schema.EventTurnEnded
	})
	return evs[len(evs)-1].Sequence
}

// waitFor polls the events until one satisfies pred, returning all events
// after offset up to and including it.
func (e *apiEnv) waitFor(id string, offset uint64, pred func(schema.Event) bool) []schema.Event {
	e.t.Helper()
	ctx := ctxT(e.t)
	var got []schema.Event
	for {
		res, err := e.c.Events(ctx, id, client.EventsQuery{Offset: offset})
		if err != nil {
			e.t.Fatalf("events: %v", err)
		}
		for _, ev := range res.Events {
			got = append(got, ev)
			offset = ev.Sequence
			if pred(ev) {
				return got
			}
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("timed out waiting; got %s", skeleton(got))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func isType(t schema.EventType) func(schema.Event) bool {
	return func(ev schema.Event) bool { return ev.Type == t }
}

// skeleton reduces events to "type[kind/role]" for readable comparisons.
func skeleton(evs []schema.Event) []string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		s := string(ev.Type)
		if d, ok := ev.Data.(*schema.ItemEventData); ok {
			s += "(" + string(d.Item.Kind)
			if d.Item.Role != nil {
				s += "/" + string(*d.Item.Role)
			}
			s += ")"
		}
		out = append(out, s)
	}
	return out
}

func problemOf(t *testing.T, err error) *client.Problem {
	t.Helper()
	var ce *client.Error
	if err == nil {
		t.Fatal("expected an error, got nil")
	}
	ce, ok := err.(*client.Error)
	if !ok || ce.Problem == nil {
		t.Fatalf("expected a problem document, got %T %v", err, err)
	}
	return ce.Problem
}

func tempDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "sa-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}
