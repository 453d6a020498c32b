package fakellm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConcurrentRequestsConsumeEachStepOnce(t *testing.T) {
	const n = 24
	llm := New(t)
	var steps []Step
	for i := range n {
		steps = append(steps, Text(fmt.Sprint(i)))
	}
	llm.SetSteps(steps...)

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]int{}
	)
	for range n {
		wg.Go(func() {
			body := claudeBody(false, userText("x"))
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest(http.MethodPost, llm.URL()+"/v1/messages", bytes.NewReader(b))
			req.Header.Set("x-api-key", "test")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var m map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen[str(asMap(asSlice(m["content"])[0])["text"])]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("distinct replies %d, want %d: %v", len(seen), n, seen)
	}
	for k, v := range seen {
		if v != 1 {
			t.Errorf("reply %q served %d times", k, v)
		}
	}
	for i, r := range llm.Requests() {
		if r.Seq != i {
			t.Errorf("request %d has Seq %d", i, r.Seq)
		}
	}
}

func TestWaitFor(t *testing.T) {
	llm := New(t)
	go func() {
		time.Sleep(10 * time.Millisecond)
		resp, err := http.Post(llm.OpenAIBaseURL()+"/responses", "application/json", strings.NewReader(`{"model":"m","input":"hello"}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	r, err := llm.WaitFor(ctx, func(r Request) bool { return r.API == APIResponses })
	if err != nil {
		t.Fatal(err)
	}
	if r.LastUserText() != "hello" || r.Stream() {
		t.Errorf("request %s", r.summary())
	}

	short, cancel2 := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel2()
	if _, err := llm.WaitFor(short, func(r Request) bool { return r.API == APIChat }); err == nil {
		t.Error("WaitFor without a match succeeded")
	}
}

func TestCloseEndsPendingDelays(t *testing.T) {
	// No side rules: these tool-less requests must take the steps.
	llm, err := Start(WithScenario(Scenario{
		Steps: []Step{Text("late").WithDelay(time.Hour), Text("slow").WithEventDelay(time.Hour)},
		Side:  []SideRule{},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer llm.Close()

	errs := make(chan error, 2)
	go func() {
		resp, err := http.Post(llm.URL()+"/v1/messages", "application/json", strings.NewReader(`{"stream":true,"messages":[]}`))
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		errs <- err
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := llm.WaitFor(ctx, nil); err != nil {
		t.Fatal(err)
	}

	// The second step streams its first event, then waits between events.
	resp, err := http.Post(llm.URL()+"/v1/messages", "application/json", strings.NewReader(`{"stream":true,"messages":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "event: message_start\n" {
		t.Fatalf("first line %q, %v", line, err)
	}

	done := make(chan struct{})
	go func() { llm.Close(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Close hangs on a delayed reply")
	}
	if err := <-errs; err == nil {
		t.Error("the delayed request completed")
	}
}

func TestUnknownRoutesAndProbes(t *testing.T) {
	llm := New(t)
	// Amp pointed at the fake server: recorded, answered 404.
	resp := post(t, llm.URL()+"/api/internal?getUserInfo", map[string]any{"method": "getUserInfo", "params": map[string]any{}}, "Authorization", "Bearer test")
	if resp.StatusCode != 404 || asMap(decode(t, resp)["error"])["message"] == nil {
		t.Errorf("unknown route: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodHead, llm.URL()+"/", nil)
	head, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != 200 {
		t.Errorf("HEAD / = %d", head.StatusCode)
	}
	// Bad JSON on a model route is a provider-shaped 400 and consumes nothing.
	bad := post(t, llm.URL()+"/v1/messages", "not an object", anthropicHeaders...)
	if bad.StatusCode != 400 || decode(t, bad)["type"] != "error" {
		t.Errorf("bad body: %d", bad.StatusCode)
	}

	reqs := llm.Requests()
	if len(reqs) != 3 || reqs[0].Path != "/api/internal" || reqs[0].Query != "getUserInfo" || reqs[0].Served != ServedOther ||
		reqs[0].JSON["method"] != "getUserInfo" || reqs[0].Header.Get("Authorization") != "Bearer test" {
		t.Errorf("recorded %+v", reqs)
	}
	if len(llm.ModelRequests()) != 0 {
		t.Error("no model request was made")
	}
}

func TestWithHandlerGzipAndLogging(t *testing.T) {
	var logged []string
	var mu sync.Mutex
	var onReq []Request
	llm := New(t,
		WithHandler("/api/internal", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"ok":true,"result":{}}`)
		})),
		WithLogf(func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			logged = append(logged, fmt.Sprintf(format, args...))
		}),
		WithOnRequest(func(r Request) {
			mu.Lock()
			defer mu.Unlock()
			onReq = append(onReq, r)
		}),
	)
	resp := post(t, llm.URL()+"/api/internal?loadSkills", map[string]any{})
	if m := decode(t, resp); m["ok"] != true {
		t.Errorf("custom handler: %v", m)
	}

	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"model":"m","stream":false,"messages":[{"role":"user","content":"zipped"}]}`))
	_ = zw.Close()
	req, _ := http.NewRequest(http.MethodPost, llm.OpenAIBaseURL()+"/chat/completions", &buf)
	req.Header.Set("Content-Encoding", "gzip")
	gz, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Body.Close()
	if gz.StatusCode != 200 {
		t.Errorf("gzip body: %d", gz.StatusCode)
	}
	if r := llm.Requests()[1]; r.LastUserText() != "zipped" || r.Served != ServedSide {
		t.Errorf("gzip request %s", r.summary())
	}

	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 2 || !strings.Contains(logged[1], "POST /v1/chat/completions → side") || len(onReq) != 2 {
		t.Errorf("logged %q, onReq %d", logged, len(onReq))
	}
}

func TestStartRejectsNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:80"} {
		if s, err := Start(WithAddr(addr)); err == nil {
			s.Close()
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
	s, err := Start(WithAddr("127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close() // idempotent
	if _, err := Start(WithScenario(Script(Step{Calls: []Call{{}}}))); err == nil {
		t.Error("an invalid scenario started")
	}
}
