package cli

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
}

func TestServerBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := binary(t)
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "SANDBOX_AGENT_TOKEN=")

	t.Run("refuses to start without a token choice", func(t *testing.T) {
		cmd := exec.Command(bin, "server", "--port", freePort(t))
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "--token") || !strings.Contains(string(out), "--no-token") {
			t.Fatalf("err=%v out=%s", err, out)
		}
	})

	t.Run("serves, then shuts down gracefully with a stream open", func(t *testing.T) {
		port := freePort(t)
		cmd := exec.Command(bin, "server", "--port", port, "--token", "tok")
		cmd.Env = env
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		logs := make(chan string, 100)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				logs <- sc.Text()
			}
			close(logs)
		}()
		base := "http://127.0.0.1:" + port
		c := client.New(base, client.WithToken("tok"))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for {
			if _, err := c.Health(ctx); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatal("server never became healthy")
			case <-time.After(20 * time.Millisecond):
			}
		}
		if _, err := client.New(base).Agents(ctx); client.Kind(err) != "token_invalid" {
			t.Fatalf("no token: %v", err)
		}
		if _, err := c.CreateSession(ctx, "s", schema.CreateSessionRequest{Agent: "mock"}); err != nil {
			t.Fatal(err)
		}
		// An open SSE stream must not hold up shutdown.
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/sessions/s/events/sse", nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit: %v", err)
			}
		case <-time.After(8 * time.Second):
			t.Fatal("server did not exit within 8s of SIGTERM")
		}
		_, _ = io.Copy(io.Discard, resp.Body) // the stream ended
		var all []string
		for l := range logs {
			all = append(all, l)
		}
		joined := strings.Join(all, "\n")
		// The command embeds the inspector: the log says where it is.
		if !strings.Contains(joined, "server listening") || !strings.Contains(joined, "url=http://127.0.0.1:"+port) || !strings.Contains(joined, "inspector=http://127.0.0.1:"+port+"/ui/") || !strings.Contains(joined, "shutting down") {
			t.Fatalf("logs:\n%s", joined)
		}
	})
}
