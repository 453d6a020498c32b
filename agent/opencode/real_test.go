package opencode

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
)

// TestRealServer drives a real `opencode serve` when OPENCODE_BIN names
// one (the e2e suite covers it against fakellm; this is for debugging).
func TestRealServer(t *testing.T) {
	bin := os.Getenv("OPENCODE_BIN")
	if bin == "" {
		t.Skip("OPENCODE_BIN not set")
	}
	home := t.TempDir()
	a := New(Options{Binary: bin, Env: []string{"HOME=" + home, "XDG_CONFIG_HOME=" + home + "/.config",
		"XDG_DATA_HOME=" + home + "/.local/share", "OPENCODE_DISABLE_MODELS_FETCH=1", "NPM_CONFIG_REGISTRY=http://127.0.0.1:9/"},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t0 := time.Now()
	modes, err := a.Modes(ctx)
	t.Logf("modes after %s", time.Since(t0))
	if err != nil {
		t.Fatal(err)
	}
	if !hasMode(modes, "build") || !hasMode(modes, "plan") || hasMode(modes, "title") {
		t.Errorf("modes %+v: want the primary agents build and plan, not the hidden title agent", modes)
	}
	c, err := a.Open(ctx, agent.Spec{Dir: t.TempDir()}, agent.SinkFunc(func(d agent.Draft) { t.Logf("draft %s", d.Type) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("open after %s", time.Since(t0))
	st, _ := a.Status(ctx)
	if !st.Installed || st.Server == nil || st.Server.Status != "running" || st.Server.BaseURL == nil {
		t.Errorf("status %+v, want installed with a running server", st)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
