package cli

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestIdleAndHeaderTimeouts: the real server closes keep-alive connections
// left idle and connections whose request headers never complete, so idle
// or slow clients cannot hold connections (and goroutines) forever.
func TestIdleAndHeaderTimeouts(t *testing.T) {
	s := startBinary(t, baseEnv(t), "", "--idle-timeout", "300ms", "--read-header-timeout", "300ms")
	addr := strings.TrimPrefix(s.base, "http://")

	closedWithin := func(t *testing.T, c net.Conn, r *bufio.Reader) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, r)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("the server kept the connection open")
		}
	}

	t.Run("idle keep-alive", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
		r := bufio.NewReader(c)
		resp, err := http.ReadResponse(r, nil)
		if err != nil || resp.StatusCode != 200 || resp.Close {
			t.Fatalf("health: %v %v", resp, err)
		}
		io.Copy(io.Discard, resp.Body)
		closedWithin(t, c, r)
	})

	t.Run("headers never finish", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /v1/health HTTP/1.1\r\nHost: x\r\n")
		closedWithin(t, c, bufio.NewReader(c))
	})
}
