package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Amp runs its agent loop and model calls on Amp's own server (thread
// actors over WebSocket), so there is no model API to fake: with AMP_URL
// on loopback it only reaches Amp's private /api/internal and stops. Every
// shared row is skipped with that reason (Unusable). The amp-only rows
// below prove on the real pinned binary what can be proven without Amp's
// service: it installs and reports its version and modes, a session
// without AMP_API_KEY is refused naming it, and a service that refuses
// (404, 401, 5xx) or hangs gives a clear error, ends the turn and the
// session, and leaves no process. Conversion of what Amp prints when it
// works is proven only on streams built from its documentation
// (agent/amp/testdata), which docs/agent-compatibility.md says.
func init() {
	RegisterAgent(Agent{
		Name:     "amp",
		Unusable: "no offline mode: Amp's agent loop runs on Amp's servers",
		Env: func(r *Run) []string {
			if r.Scenario != nil && r.Scenario.ID == "amp-missing-key" {
				return []string{"AMP_URL=" + r.LLM.URL()}
			}
			url := r.LLM.URL()
			if rowID(r) == "amp-service-down" {
				url = closedURL(r.T)
			} else if behave, ok := ampStubRows[rowID(r)]; ok {
				url = newAmpStub(r.T, behave).url
			}
			return []string{"AMP_URL=" + url, "AMP_API_KEY=test"}
		},
	})
	only := []string{"amp"}
	for _, s := range []Scenario{
		{ID: "amp-version", Title: "Amp: installed binary listed with its version; modes read from its --help; no invented models", Run: runAmpVersion},
		{ID: "amp-missing-key", Title: "Amp: no AMP_API_KEY → 400 problem at session create naming AMP_API_KEY", Run: runAmpMissingKey},
		{ID: "amp-service-404", Title: "Amp: service answers 404 → error event with the CLI's message, turn and session end, no process left", Run: runAmpRefused("API request for getUserInfo failed: 404")},
		{ID: "amp-service-401", Title: "Amp: service answers 401 → error event with the CLI's message, turn and session end, no process left", Run: runAmpRefused("Invalid or missing API key")},
		{ID: "amp-service-5xx", Title: "Amp: service answers 500 → error event with the CLI's message, turn and session end, no process left", Run: runAmpRefused("Amp server returned an error")},
		{ID: "amp-service-down", Title: "Amp: nothing listens at AMP_URL → error event with the CLI's message, turn and session end, no process left", Run: runAmpRefused("Couldn't connect to the Amp server")},
		{ID: "amp-terminate", Title: "Amp: terminate while the CLI waits on the service ends the session and leaves no process", Run: runAmpTerminate},
	} {
		s.Only = only
		RegisterScenario(s)
	}
}

func rowID(r *Run) string {
	if r.Scenario == nil {
		return ""
	}
	return r.Scenario.ID
}

// ampStubRows says how the loopback stand-in for Amp's service answers in
// each row: with a status, or (0) never.
var ampStubRows = map[string]int{
	"amp-service-404": http.StatusNotFound,
	"amp-service-401": http.StatusUnauthorized,
	"amp-service-5xx": http.StatusInternalServerError,
	"amp-terminate":   0,
}

// ampStub is a loopback HTTP server standing in for Amp's service: it
// records what the CLI asks and answers every request with one status, or
// holds it until the row ends.
type ampStub struct {
	url  string
	mu   sync.Mutex
	reqs []string // "METHOD path auth"
	got  chan struct{}
}

func newAmpStub(t testing.TB, status int) *ampStub {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &ampStub{url: "http://" + ln.Addr().String(), got: make(chan struct{}, 1)}
	done := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, req.Method+" "+req.URL.RequestURI()+" "+req.Header.Get("Authorization"))
		s.mu.Unlock()
		select {
		case s.got <- struct{}{}:
		default:
		}
		if status == 0 {
			select {
			case <-req.Context().Done():
			case <-done:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, `{"ok":false,"error":{"message":"refused by the e2e stub"}}`)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		close(done)
		_ = srv.Close()
	})
	ampStubs.Store(t, s)
	return s
}

// ampStubs finds a row's stub (started from Env, before the body runs).
var ampStubs sync.Map // testing.TB → *ampStub

func stubOf(r *Run) *ampStub {
	s, ok := ampStubs.Load(r.T)
	if !ok {
		r.T.Fatal("no Amp service stub for this row")
	}
	return s.(*ampStub)
}

func (s *ampStub) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// closedURL is a loopback URL nothing listens at.
func closedURL(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

func runAmpVersion(r *Run) {
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	list, err := r.C.Agents(ctx)
	if err != nil {
		r.T.Fatal(err)
	}
	var info *schema.AgentInfo
	for i := range list {
		if list[i].ID == "amp" {
			info = &list[i]
		}
	}
	if info == nil || !info.Installed || info.Path == nil || !strings.HasPrefix(*info.Path, r.InstallDir) {
		r.T.Fatalf("amp not listed as installed from %s: %+v", r.InstallDir, info)
	}
	if v := schema.Deref(info.Version); v != Pins["amp"] {
		r.T.Errorf("version %q, want the pinned %q", v, Pins["amp"])
	}
	modes, err := r.C.AgentModes(ctx, "amp")
	if err != nil {
		r.T.Fatal(err)
	}
	var ids []string
	for _, m := range modes {
		ids = append(ids, m.ID)
	}
	// The pinned CLI's --help: "Set the agent mode (low, medium, high,
	// ultra, or a plugin mode …)".
	if strings.Join(ids, ",") != "build,low,medium,high,ultra" {
		r.T.Errorf("modes %v, want build and the CLI's low, medium, high, ultra", ids)
	}
	models, err := r.C.AgentModels(ctx, "amp")
	if err != nil {
		r.T.Fatal(err)
	}
	if len(models.Models) != 0 || schema.Deref(models.DefaultModel) != "" {
		r.T.Errorf("models %+v: Amp has no model choice", models)
	}
}

func runAmpMissingKey(r *Run) {
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	_, err := r.C.CreateSession(ctx, "e2e-amp-nokey-"+r.ID, schema.CreateSessionRequest{Agent: "amp", Directory: &r.Work})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.StatusCode != http.StatusBadRequest || ce.Problem == nil {
		r.T.Fatalf("create without AMP_API_KEY: %v, want a 400 problem", err)
	}
	if ce.Problem.Details["field"] != "AMP_API_KEY" || !strings.Contains(ce.Problem.Detail, "AMP_API_KEY") {
		r.T.Errorf("the problem does not name AMP_API_KEY: %+v", ce.Problem)
	}
	if procs := r.AgentProcs(); len(procs) != 0 {
		r.T.Errorf("a refused session left processes: %v", procs)
	}
	sessions, err := r.C.Sessions(ctx)
	if err != nil {
		r.T.Fatal(err)
	}
	if len(sessions) != 0 {
		r.T.Errorf("a refused session is listed: %+v", sessions)
	}
}

// runAmpRefused: the CLI reaches the stub (with our AMP_API_KEY) and is
// refused, or reaches nothing, and says why; that message ends the turn as an error event and
// the session with it (no thread was made: every retry would fail alike).
func runAmpRefused(want string) func(r *Run) {
	return func(r *Run) {
		var stub *ampStub
		if _, ok := ampStubRows[rowID(r)]; ok {
			stub = stubOf(r)
		}
		r.CreateSession()
		start := time.Now()
		r.Send("Say hello.")
		errEv := r.Next("error event", isType(schema.EventError))
		d := errEv.Data.(*schema.ErrorData)
		if !strings.Contains(d.Message, want) {
			r.T.Errorf("error %q does not carry the CLI's message %q", d.Message, want)
		}
		r.Next("turn.ended", isType(schema.EventTurnEnded))
		ended := endedOf(r.Next("session.ended", isType(schema.EventSessionEnded)))
		if ended.Reason != schema.EndError || !strings.Contains(schema.Deref(ended.Message), want) {
			r.T.Errorf("session.ended %+v, want reason error with %q", ended, want)
		}
		r.T.Logf("refused turn ended after %v", time.Since(start).Round(time.Millisecond))
		if stub != nil {
			reqs := stub.requests()
			if len(reqs) == 0 || !strings.HasPrefix(reqs[0], "POST /api/internal?getUserInfo Bearer test") {
				r.T.Errorf("the CLI did not ask the stub with AMP_API_KEY: %q", reqs)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for _, p := range r.AgentProcs() {
			if !gone(p.PID, deadline) {
				r.T.Errorf("%s still runs after the session ended", p)
			}
		}
	}
}

func runAmpTerminate(r *Run) {
	stub := stubOf(r)
	r.CreateSession()
	r.Send("Take your time.")
	select {
	case <-stub.got:
	case <-time.After(waitTimeout):
		r.T.Fatalf("the CLI never reached the stub\n%s", r.serverLogTail())
	}
	procs := r.AgentProcs()
	if len(procs) == 0 {
		r.T.Fatalf("no amp process while it waits on the service; run's processes: %v", markedProcs(r.ID))
	}
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	if err := r.C.Terminate(ctx, r.SessionID); err != nil {
		r.T.Fatalf("terminate: %v", err)
	}
	d := endedOf(r.Next("session.ended", isType(schema.EventSessionEnded)))
	if d.Reason != schema.EndTerminated {
		r.T.Errorf("session.ended reason %q, want terminated", d.Reason)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range procs {
		if !gone(p.PID, deadline) {
			r.T.Errorf("%s still runs 10s after terminate", p)
		}
	}
}
