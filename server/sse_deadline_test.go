package server_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// TestSSEStalledReaderIsDropped: a reader that stops taking the stream
// cannot pin its handler. Once a write has waited longer than the write
// timeout the server gives up on the connection; the reader, when it comes
// back, gets what the socket buffers held and then EOF, not an endless
// stream.
func TestSSEStalledReaderIsDropped(t *testing.T) {
	e := startAPI(t, apiOpts{writeTimeout: 300 * time.Millisecond, keepAlive: 50 * time.Millisecond})
	e.create("big", schema.CreateSessionRequest{Agent: "mock"})
	u, _ := url.Parse(e.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /v1/sessions/big/events/sse HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	if status, err := br.ReadString('\n'); err != nil || !strings.Contains(status, "200") {
		t.Fatalf("status line %q, %v", status, err)
	}
	// Far more than loopback socket buffers hold: each echo of 1 MiB is
	// two events carrying the whole text (the delta and the completed item).
	const turns = 16
	text := strings.Repeat("x", 1<<20)
	for range turns {
		e.send("big", "echo "+text)
	}
	sess, err := e.mgr.Get("big")
	if err != nil {
		t.Fatal(err)
	}
	for sess.LastSequence() < turns*5 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // the reader stalls well past the write timeout

	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	n, err := io.Copy(io.Discard, br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the stream went on (%d bytes read) although its reader had stalled past the write timeout", n)
	}
	if total := int64(turns * 2 << 20); n >= total {
		t.Fatalf("read %d bytes: everything arrived, so the reader never stalled the server", n)
	}
}
