package server_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/mock"
	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/server"
	"github.com/sandbox-agent/sandbox-agent/session"
)

// syncBuf is a goroutine-safe log sink for http.Server.ErrorLog.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestClientGoneMidBodyWritesNoLateStatus: a client that leaves while a
// large JSON body is being written (a page of events) made huma set a 499
// status after the 200 and part of the body were already sent, which
// net/http logs as "superfluous response.WriteHeader call" (seen under
// load). A write error mid-body made huma panic instead ("http: panic
// serving"). Neither may reach the server's error log: the status is sent
// once, and a response that cannot be finished is aborted quietly.
func TestClientGoneMidBodyWritesNoLateStatus(t *testing.T) {
	mgr := session.NewManager(session.Config{Registry: agent.NewRegistry(mock.New(mock.Options{Interval: -1})),
		Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := server.New(server.Config{Manager: mgr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), HomeDir: t.TempDir()})
	var errLog syncBuf
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ErrorLog = log.New(&errLog, "", 0)
	ts.Start()
	tr := &http.Transport{}
	c := client.New(ts.URL, client.WithHTTPClient(&http.Client{Transport: tr}))
	t.Cleanup(func() {
		mgr.Shutdown(context.Background())
		ts.CloseClientConnections()
		ts.Close()
		tr.CloseIdleConnections()
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.CreateSession(ctx, "big", schema.CreateSessionRequest{Agent: "mock"}); err != nil {
		t.Fatal(err)
	}
	// Each 512 KiB echo puts the text into the log several times: a page of
	// events is far more than loopback socket buffers hold.
	text := strings.Repeat("x", 512<<10)
	for range 4 {
		if err := c.SendMessage(ctx, "big", schema.MessageRequest{Message: "echo " + text}); err != nil {
			t.Fatal(err)
		}
	}
	sess, err := mgr.Get("big")
	if err != nil {
		t.Fatal(err)
	}
	for sess.LastSequence() < 4*5 {
		time.Sleep(10 * time.Millisecond)
	}
	host := strings.TrimPrefix(ts.URL, "http://")
	for range 2 {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, "GET /v1/sessions/big/events HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		if status, err := br.ReadString('\n'); err != nil || !strings.Contains(status, "200") {
			t.Fatalf("status line %q, %v", status, err)
		}
		if _, err := io.CopyN(io.Discard, br, 64<<10); err != nil {
			t.Fatal(err)
		}
		_ = conn.(*net.TCPConn).SetLinger(0) // leave with a reset, mid-body
		conn.Close()
	}
	// The server still answers; give the handlers a moment to notice.
	for range 20 {
		if _, err := c.Health(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if l := errLog.String(); strings.Contains(l, "superfluous") || strings.Contains(l, "panic") {
		t.Fatalf("the server logged a late status or a panic after the client left:\n%s", l)
	}
}
