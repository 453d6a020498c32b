package cli

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// terminal is the CLI running on a pseudo-terminal: what it prints is
// collected, what the test types goes to its stdin.
type terminal struct {
	t    *testing.T
	ptmx *os.File
	cmd  *exec.Cmd

	mu   sync.Mutex
	out  bytes.Buffer
	read int // how far expect has consumed out
	done chan struct{}
}

func runOnTerminal(t *testing.T, c cli, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, ptmx: ptmx, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		ptmx.Close()
	})
	return term
}

// expect waits until the output after the last match holds s.
func (term *terminal) expect(s string) {
	term.t.Helper()
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		term.mu.Lock()
		rest := term.out.String()[term.read:]
		term.mu.Unlock()
		if i := strings.Index(rest, s); i >= 0 {
			term.read += i + len(s)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	term.t.Fatalf("the terminal never showed %q; it shows:\n%s", s, term.out.String())
}

func (term *terminal) typeLine(s string) {
	term.t.Helper()
	if _, err := io.WriteString(term.ptmx, s+"\n"); err != nil {
		term.t.Fatal(err)
	}
}

// wait waits for the command to exit and returns its status.
func (term *terminal) wait() int {
	term.t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- term.cmd.Wait() }()
	select {
	case err := <-errc:
		<-term.done
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			term.t.Fatal(err)
		}
		return 0
	case <-time.After(patience):
		term.t.Fatalf("the command did not exit; the terminal shows:\n%s", term.out.String())
		return -1
	}
}

// On a terminal, a streamed turn asks the permission and question prompts
// there, sends the answers, and goes on to the end of the turn.
func TestInteractiveAnswers(t *testing.T) {
	f := newAPIFixture(t)
	f.ok(t, "api", "sessions", "create", "tty", "-a", "mock")

	term := runOnTerminal(t, f.cli, "api", "sessions", "send-message-stream", "tty", "-m", "permissions")
	term.expect("? permission mock_1_permission: command_execution (command: echo mock)")
	term.expect("Allow? [o]nce, [a]lways, [r]eject: ")
	term.typeLine("maybe") // not an answer: asked again
	term.expect("Allow? [o]nce, [a]lways, [r]eject: ")
	term.typeLine("o")
	// The mock asks both before it hears an answer, so the first one's
	// resolution may be shown before or after the second prompt.
	term.expect("? permission mock_1_permission_denied: file_change (path: mock_1/deny.txt)")
	term.expect("Allow? [o]nce, [a]lways, [r]eject: ")
	term.typeLine("r")
	term.expect("Run `echo mock`: allowed once")
	term.expect("Write mock_1/deny.txt: rejected")
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"  permission mock_1_permission: accept\r\n", "  permission mock_1_permission_denied: reject\r\n"} {
		if !strings.Contains(term.out.String(), want) {
			t.Fatalf("the terminal lacks %q:\n%s", want, term.out.String())
		}
	}

	term = runOnTerminal(t, f.cli, "api", "sessions", "send-message-stream", "tty", "-m", "questions")
	term.expect("? question mock_2_question: Choose a color")
	term.expect("2) Blue")
	term.expect("empty to decline): ")
	term.typeLine("2")
	term.expect("? question mock_2_question_reject: Allow mock experiment?")
	term.expect("empty to decline): ")
	term.typeLine("")
	term.expect("Choose a color You answered: Blue.")
	term.expect("Allow mock experiment? You rejected the question.")
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// What the terminal answered is what the server recorded.
	page, err := f.sdk.Events(t.Context(), "tty", client.EventsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var resolved []string
	for _, ev := range page.Events {
		switch d := ev.Data.(type) {
		case *schema.PermissionEventData:
			if ev.Type == schema.EventPermissionResolved {
				resolved = append(resolved, d.PermissionID+"="+string(d.Status))
			}
		case *schema.QuestionEventData:
			if ev.Type == schema.EventQuestionResolved {
				resolved = append(resolved, d.QuestionID+"="+string(d.Status)+":"+deref(d.Response, ""))
			}
		}
	}
	want := "mock_1_permission=accept mock_1_permission_denied=reject mock_2_question=answered:Blue mock_2_question_reject=rejected:"
	if got := strings.Join(resolved, " "); got != want {
		t.Fatalf("resolved %s\nwant     %s", got, want)
	}
}

// Ctrl-C at a prompt ends the command (status 130) and leaves the request
// pending, rather than hanging in the read of the answer.
func TestInteractiveCtrlC(t *testing.T) {
	f := newAPIFixture(t)
	f.ok(t, "api", "sessions", "create", "cc", "-a", "mock")
	term := runOnTerminal(t, f.cli, "api", "sessions", "send-message-stream", "cc", "-m", "permission")
	term.expect("Allow? [o]nce, [a]lways, [r]eject: ")
	if _, err := term.ptmx.Write([]byte{3}); err != nil { // ^C
		t.Fatal(err)
	}
	if code := term.wait(); code != 130 {
		t.Fatalf("exit %d after ^C", code)
	}
	term.expect("sandbox-agent api sessions reply-permission cc mock_1_permission")
	f.ok(t, "api", "sessions", "reply-permission", "cc", "mock_1_permission", "-r", "reject")
}

// On a terminal lists are tables; piped, they are JSON (TestAPISessions).
func TestTablesOnATerminal(t *testing.T) {
	f := newAPIFixture(t)
	f.ok(t, "api", "sessions", "create", "tabled", "-a", "mock")
	term := runOnTerminal(t, f.cli, "api", "sessions", "list")
	term.expect("SESSION  AGENT  MODE   EVENTS  ENDED  CREATED")
	term.expect("tabled   mock   build  1       no")
	if code := term.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	term = runOnTerminal(t, f.cli, "api", "agents", "list")
	term.expect("AGENT")
	term.expect("mock          yes        builtin  yes") // padded to the longest id, opencode-acp
	term.wait()
	term = runOnTerminal(t, f.cli, "api", "agents", "list", "--json")
	term.expect(`"agents": [`)
	term.wait()
}
