package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent/claude"
)

// A stand-in for the claude CLI, for the scaling and latency parts of the
// report: the bench test binary itself, run through a link named "claude"
// (the adapter also runs `claude --version`, which must not start the
// tests). It answers initialize, and a user message
//
//	burst <n>         streams one assistant message of n deltas as fast as
//	                  its stdout takes them (written through a 256 KiB buffer)
//	paced <n> <rate>  streams n deltas at rate per second, each written on
//	                  its own; a delta's text is "t<unix nanoseconds> ", the
//	                  moment it was written
//
// then ends the turn with a result line, as the CLI does (claudeTurn).

// isFakeClaude reports whether this process runs as the fake CLI.
func isFakeClaude() bool { return filepath.Base(os.Args[0]) == "claude" }

func fakeClaude() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println("2.1.332 (Claude Code)")
		return
	}
	out := bufio.NewWriterSize(os.Stdout, 256<<10)
	write := func(line []byte) {
		out.Write(line)
		out.WriteByte('\n')
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	turns := 0
	for sc.Scan() {
		var l struct {
			Type      string `json:"type"`
			RequestID string `json:"request_id"`
			Message   struct {
				Content json.RawMessage `json:"content"`
			} `json:"message"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		switch l.Type {
		case "control_request":
			write([]byte(`{"type":"control_response","response":{"subtype":"success","request_id":"` + l.RequestID + `","response":{"commands":[],"models":[]}}}`))
			out.Flush()
		case "user":
			var text string
			if json.Unmarshal(l.Message.Content, &text) != nil {
				continue
			}
			turns++
			id := fmt.Sprintf("msg_bench_%d", turns)
			f := strings.Fields(text)
			n := 0
			if len(f) > 1 {
				n, _ = strconv.Atoi(f[1])
			}
			switch {
			case f[0] == "paced" && len(f) == 3:
				rate, _ := strconv.Atoi(f[2])
				interval := time.Second / time.Duration(max(rate, 1))
				start := time.Now()
				i := 0
				claudeTurn(func(line []byte) {
					write(line)
					out.Flush()
				}, id, n, func(_ int, buf []byte) []byte {
					time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
					i++
					return append(strconv.AppendInt(append(buf, 't'), time.Now().UnixNano(), 10), ' ')
				})
			default: // burst
				claudeTurn(write, id, n, tokText)
				out.Flush()
			}
		}
	}
}

// fakeClaudeAdapter is the Claude adapter running the fake CLI.
func fakeClaudeAdapter(tb testing.TB) *claude.Adapter {
	tb.Helper()
	return claude.New(claude.Options{Binary: selfAs(tb, "claude")})
}

// selfAs returns a link, named name, to the test binary: run through it,
// TestMain plays that part instead of running the tests.
func selfAs(tb testing.TB, name string) string {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	link := filepath.Join(tb.TempDir(), name)
	if err := os.Symlink(self, link); err != nil {
		tb.Fatal(err)
	}
	return link
}
