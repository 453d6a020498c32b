package opencode

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// realBinary is OPENCODE_BIN, or the pinned opencode the e2e suite
// installed into its cache; "" when there is none.
func realBinary() string {
	if bin := os.Getenv("OPENCODE_BIN"); bin != "" {
		return bin
	}
	cache := os.Getenv("SANDBOX_AGENT_E2E_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache", "sandbox-agent-e2e")
	}
	found, _ := filepath.Glob(filepath.Join(cache, "agents", "opencode@*", "opencode"))
	for _, f := range found {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return f
		}
	}
	return ""
}

// cutter remembers the open event stream bodies so a test can cut them.
type cutter struct {
	mu     sync.Mutex
	bodies []io.ReadCloser
	opened chan struct{}
}

func (c *cutter) wrap(b io.ReadCloser) io.ReadCloser {
	c.mu.Lock()
	c.bodies = append(c.bodies, b)
	c.mu.Unlock()
	select {
	case c.opened <- struct{}{}:
	default:
	}
	return b
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.bodies {
		b.Close()
	}
	c.bodies = nil
}

// TestReconnectMidTurnIsLossless cuts a real `opencode serve`'s event stream
// while a reply streams in chunks: the adapter reconnects, catches up from
// the server's copy of the messages, and the deltas it drafted spell the
// whole reply exactly once (nothing lost in the gap, nothing repeated).
func TestReconnectMidTurnIsLossless(t *testing.T) {
	bin := realBinary()
	if bin == "" {
		t.Skip("no opencode binary (OPENCODE_BIN, or the e2e suite's cache)")
	}
	chunks := make([]string, 24)
	for i := range chunks {
		chunks[i] = string(rune('a'+i)) + " "
	}
	want := strings.Join(chunks, "")
	llm := fakellm.New(t, fakellm.WithScenario(fakellm.Script(fakellm.TextChunks(chunks...).WithEventDelay(150*time.Millisecond))))
	home := t.TempDir()
	cfg := `{"provider":{"fake":{"npm":"@ai-sdk/openai-compatible","name":"Fake LLM","options":{"baseURL":"` + llm.OpenAIBaseURL() +
		`","apiKey":"test"},"models":{"fake-model":{"name":"Fake Model","tool_call":true,"limit":{"context":100000,"output":4096}}}}},` +
		`"model":"fake/fake-model","small_model":"fake/fake-model","autoupdate":false,"share":"disabled"}`
	if err := os.MkdirAll(filepath.Join(home, ".config", "opencode"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".config", "opencode", "opencode.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cut := &cutter{opened: make(chan struct{}, 8)}
	eventStreamHook = cut.wrap
	t.Cleanup(func() { eventStreamHook = nil })

	a := New(Options{Binary: bin, Env: []string{"HOME=" + home, "XDG_CONFIG_HOME=" + home + "/.config",
		"XDG_DATA_HOME=" + home + "/.local/share", "XDG_CACHE_HOME=" + home + "/.cache", "XDG_STATE_HOME=" + home + "/.local/state",
		"OPENCODE_DISABLE_AUTOUPDATE=1", "OPENCODE_DISABLE_MODELS_FETCH=1", "OPENCODE_DISABLE_LSP_DOWNLOAD=1",
		"OPENCODE_DISABLE_SHARE=1", "OPENCODE_DISABLE_DEFAULT_PLUGINS=1",
		"NPM_CONFIG_REGISTRY=http://127.0.0.1:9/", "npm_config_registry=http://127.0.0.1:9/"}})
	// Bounds a hang only: a loaded machine takes long to start opencode.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var mu sync.Mutex
	var drafts []agent.Draft
	firstDelta, ended := make(chan struct{}), make(chan struct{})
	var onceDelta, onceEnd sync.Once
	sink := agent.SinkFunc(func(d agent.Draft) {
		mu.Lock()
		drafts = append(drafts, d)
		mu.Unlock()
		if dd, ok := d.Data.(*schema.ItemDeltaData); ok && dd.Delta != "" {
			onceDelta.Do(func() { close(firstDelta) })
		}
		if d.Type == schema.EventTurnEnded {
			onceEnd.Do(func() { close(ended) })
		}
	})
	c, err := a.Open(ctx, agent.Spec{Dir: t.TempDir(), Model: "fake/fake-model"}, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// The last session's lease gone, the server is stopped: no
		// opencode process outlives the test.
		if err := c.Close(context.Background()); err != nil {
			t.Error(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for process.Live() != 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := process.Live(); n != 0 {
			t.Errorf("%d processes left after the session closed", n)
		}
	}()
	<-cut.opened // the first stream
	if err := c.Send(ctx, agent.Prompt{Text: "Spell the alphabet."}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-firstDelta:
	case <-ctx.Done():
		t.Fatal("no delta before the deadline")
	}
	cut.cut() // mid-reply; the adapter waits 200 ms, then reconnects
	select {
	case <-ended:
	case <-ctx.Done():
		t.Fatal("the turn never ended")
	}

	mu.Lock()
	defer mu.Unlock()
	var assistant string
	var deltas strings.Builder
	var completed []string
	for _, d := range drafts {
		switch data := d.Data.(type) {
		case *schema.ItemEventData:
			it := data.Item
			if d.Type == schema.EventItemStarted && it.Role != nil && *it.Role == schema.RoleAssistant && it.Kind == schema.KindMessage {
				assistant = *it.NativeItemID
			}
			if d.Type == schema.EventItemCompleted && it.NativeItemID != nil && *it.NativeItemID == assistant {
				for _, p := range it.Content {
					completed = append(completed, p.Text)
				}
			}
		case *schema.ItemDeltaData:
			if data.NativeItemID != nil && *data.NativeItemID == assistant {
				deltas.WriteString(data.Delta)
			}
		}
	}
	if assistant == "" {
		t.Fatalf("no assistant message among %d drafts", len(drafts))
	}
	if deltas.String() != want {
		t.Errorf("the deltas spell %q, want %q (lost or repeated across the reconnect)", deltas.String(), want)
	}
	if len(completed) != 1 || completed[0] != want {
		t.Errorf("completed %q, want [%q]", completed, want)
	}
	if n := len(cut.bodies); n == 0 {
		t.Error("the event stream was not reopened after the cut")
	}
}
