package amp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A stand-in for the amp CLI: the test binary run with FAKE_AMP=1 (never
// recursing: TestMain runs the fake and exits before any test). It prints
// a help text like the pinned version's, and in execute mode reads the
// prompt from stdin (--stream-json-input) and acts by its first word:
//
//	hello   init, an assistant reply, a success result
//	refuse  what the CLI does when Amp's service answers 404: an error on
//	        stderr, exit 1, nothing on stdout
//	hang    init, then waits for a signal and ends with the CLI's
//	        cancellation result
//	slow    like hello, after 300 ms
//
// FAKE_AMP_ARGS (a file) gets one line of arguments per run;
// FAKE_AMP_SETTINGS (a file) a copy of the settings file it was given.
func TestMain(m *testing.M) {
	if os.Getenv("FAKE_AMP") == "1" {
		os.Exit(fakeAmp())
	}
	os.Exit(m.Run())
}

const fakeHelp = `Amp CLI

Options:

  -m, --mode <value>
      Set the agent mode (low, medium, high, ultra, or a plugin mode by key or label, case-insensitive) — controls the
      model, system prompt, and tool selection
  -x, --execute [message]
      Use execute mode, optionally with user message.
  --stream-json
      When used with --execute, output in Claude Code-compatible stream JSON format instead of plain text.
  --stream-json-thinking
      Include thinking blocks in stream JSON output (non-Claude Code extension). Implies --stream-json.
  --stream-json-input
      Read JSON Lines user messages from stdin. Requires both --execute and --stream-json.
`

func fakeAmp() int {
	args := os.Args[1:]
	if f := os.Getenv("FAKE_AMP_ARGS"); f != "" {
		if fh, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(fh, strings.Join(args, " "))
			fh.Close()
		}
	}
	if len(args) > 0 && args[0] == "--help" {
		fmt.Print(fakeHelp)
		return 0
	}
	if f := os.Getenv("FAKE_AMP_SETTINGS"); f != "" {
		if b, err := os.ReadFile(os.Getenv("AMP_SETTINGS_FILE")); err == nil {
			_ = os.WriteFile(f, b, 0o600)
		}
	}
	thread := "T-fake-1"
	for i, a := range args {
		if a == "continue" && i+1 < len(args) {
			thread = args[i+1]
		}
	}
	sc := bufio.NewScanner(os.Stdin)
	var in struct {
		Message struct {
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"message"`
	}
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &in) != nil || len(in.Message.Content) == 0 {
		fmt.Fprintln(os.Stderr, "Error: No valid messages found in stdin")
		return 1
	}
	prompt := in.Message.Content[0].Text
	send := func(v any) {
		b, _ := json.Marshal(v)
		os.Stdout.Write(append(b, '\n'))
	}
	initRec := map[string]any{"type": "system", "subtype": "init", "cwd": ".", "session_id": thread, "tools": []string{"Bash"}, "mcp_servers": []any{}, "agent_mode": "medium"}
	reply := func(text string) {
		send(map[string]any{"type": "assistant", "message": map[string]any{"type": "message", "role": "assistant",
			"content": []any{map[string]any{"type": "text", "text": text}}, "stop_reason": "end_turn"}, "parent_tool_use_id": nil, "session_id": thread})
		send(map[string]any{"type": "result", "subtype": "success", "duration_ms": 1, "is_error": false, "num_turns": 1, "result": text, "session_id": thread})
	}
	switch strings.Fields(prompt + " x")[0] {
	case "refuse":
		fmt.Fprintln(os.Stderr, "Error: API request for getUserInfo failed: 404")
		return 1
	case "hang":
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		send(initRec)
		<-sig
		send(map[string]any{"type": "result", "subtype": "error_during_execution", "duration_ms": 1, "is_error": true, "num_turns": 0, "error": "User cancelled (SIGINT/SIGTERM)", "session_id": thread})
		return 1
	case "slow":
		time.Sleep(300 * time.Millisecond)
		send(initRec)
		reply("slow reply")
	default:
		send(initRec)
		reply("hello back")
	}
	return 0
}
