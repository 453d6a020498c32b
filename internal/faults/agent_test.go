package faults

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// fakeAgent speaks just enough of Claude Code's stream-json protocol to
// start and take turns, then misbehaves as its --model says:
//
//	ok        answers every turn (the control case)
//	hang      starts the turn, then never ends it and ignores interrupts
//	deaf      answers initialize, then never reads stdin again
//	flood     floods stdout with deltas until killed
//	crash     dies mid-turn with status 3
//	children  spawns a child that ignores SIGTERM (its pid in FAULT_PIDS),
//	          ignores SIGTERM itself, and hangs the turn
//	noinit    never answers initialize (says why on stderr)
func fakeAgent() {
	mode, sid := "ok", fmt.Sprintf("fault-%d", os.Getpid())
	for i, a := range os.Args {
		if a == "--model" && i+1 < len(os.Args) {
			mode = os.Args[i+1]
		}
		if a == "--resume" && i+1 < len(os.Args) {
			sid = os.Args[i+1]
		}
	}
	var wmu sync.Mutex
	send := func(v map[string]any) {
		wmu.Lock()
		defer wmu.Unlock()
		b, _ := json.Marshal(v)
		os.Stdout.Write(append(b, '\n'))
	}
	if mode == "noinit" {
		fmt.Fprintln(os.Stderr, "fault: waiting for a login that never comes")
		select {}
	}
	if mode == "children" {
		signal.Ignore(syscall.SIGTERM)
		cmd := exec.Command("/bin/sh", "-c", `trap "" TERM; while :; do sleep 1; done`)
		if err := cmd.Start(); err == nil {
			if f, err := os.OpenFile(os.Getenv("FAULT_PIDS"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				fmt.Fprintln(f, cmd.Process.Pid)
				f.Close()
			}
		}
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		var l struct {
			Type      string `json:"type"`
			RequestID string `json:"request_id"`
			Request   struct {
				Subtype string `json:"subtype"`
			} `json:"request"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		switch {
		case l.Type == "control_request" && l.Request.Subtype == "initialize":
			send(map[string]any{"type": "control_response", "response": map[string]any{"subtype": "success", "request_id": l.RequestID,
				"response": map[string]any{"commands": []any{}, "models": []any{}, "pid": os.Getpid()}}})
			if mode == "deaf" {
				select {}
			}
		case l.Type == "control_request":
			send(map[string]any{"type": "control_response", "response": map[string]any{"subtype": "success", "request_id": l.RequestID, "response": map[string]any{}}})
		case l.Type == "user":
			send(map[string]any{"type": "system", "subtype": "init", "session_id": sid, "model": mode, "tools": []any{}, "cwd": "/"})
			delta := func(text string) {
				send(map[string]any{"type": "stream_event", "session_id": sid, "parent_tool_use_id": nil,
					"event": map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": text}}})
			}
			send(map[string]any{"type": "stream_event", "session_id": sid, "parent_tool_use_id": nil,
				"event": map[string]any{"type": "message_start", "message": map[string]any{"id": "msg_1", "role": "assistant", "content": []any{}}}})
			switch mode {
			case "ok":
				delta("fine")
				send(map[string]any{"type": "result", "subtype": "success", "is_error": false, "result": "fine", "session_id": sid})
			case "crash":
				fmt.Fprintln(os.Stderr, "fault: crashing mid-turn")
				os.Exit(3)
			case "flood":
				go func() {
					chunk := strings.Repeat("flood ", 20)
					for i := 0; i < 20000; i++ {
						delta(chunk)
					}
					time.Sleep(time.Hour)
				}()
			default: // hang, children: never end the turn
				delta("working")
			}
		}
	}
	if mode == "hang" || mode == "children" || mode == "flood" {
		select {} // ignores end of input too
	}
}
