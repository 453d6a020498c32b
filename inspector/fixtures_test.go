package inspector

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/claude"
	"github.com/sandbox-agent/sandbox-agent/agent/codex"
	"github.com/sandbox-agent/sandbox-agent/agent/mock"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/session"
)

// The transcript renderer's component tests (src/transcript/*.test.tsx)
// run over universal event sequences made here, by the real code: the
// Claude Code captures (agent/claude/testdata, from
// shared/fixtures/native/claude and the e2e harness) through the real
// converter and the real session pipeline, each permission and question
// answered as the user in the capture answered it; the Codex captures
// (agent/codex/testdata) the same way; and the mock agent's demo. Vitest's
// global setup (src/test/globalSetup.ts) runs
//
//	go test ./inspector -run TestTranscriptFixtures -args -fixtures DIR
//
// to write them, one JSON file per capture, into DIR (inspector/.fixtures,
// not committed: the renderer is always tested on what the converters make
// today). Without -fixtures the test still replays every capture and
// checks each log.
var fixturesOut = flag.String("fixtures", "", "write the event sequences, one JSON file per capture, into this directory")

func TestTranscriptFixtures(t *testing.T) {
	captures, err := filepath.Glob("../agent/claude/testdata/claude-*.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range captures {
		if strings.HasSuffix(path, ".stdin.jsonl") {
			continue
		}
		name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".jsonl"), ".stdout")
		t.Run(name, func(t *testing.T) {
			stdin := strings.TrimSuffix(strings.TrimSuffix(path, ".jsonl"), ".stdout") + ".stdin.jsonl"
			writeFixture(t, name, replayClaude(t, name, path, stdin))
		})
	}
	codexCaptures, err := filepath.Glob("../agent/codex/testdata/codex-*.stdout.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range codexCaptures {
		name := strings.TrimSuffix(filepath.Base(path), ".stdout.jsonl")
		t.Run(name, func(t *testing.T) {
			events := replayCodex(t, name, path, strings.TrimSuffix(path, ".stdout.jsonl")+".stdin.jsonl")
			if events == nil {
				t.Skip("two threads: two sessions, not replayed")
			}
			writeFixture(t, name, events)
		})
	}
	t.Run("mock-demo", func(t *testing.T) { writeFixture(t, "mock-demo", mockDemo(t)) })
	if len(captures) < 10 || len(codexCaptures) < 10 {
		t.Fatalf("found %d Claude and %d Codex captures; the component tests want them all", len(captures), len(codexCaptures))
	}
}

// writeFixture checks a replayed log (it ends with session.ended; every
// request was resolved) and, with -fixtures, writes it.
func writeFixture(t *testing.T, name string, events []schema.Event) {
	t.Helper()
	open := map[string]bool{}
	for _, e := range events {
		switch d := e.Data.(type) {
		case *schema.PermissionEventData:
			open[d.PermissionID] = e.Type == schema.EventPermissionRequested
		case *schema.QuestionEventData:
			open[d.QuestionID] = e.Type == schema.EventQuestionRequested
		}
	}
	for id, pending := range open {
		if pending {
			t.Errorf("request %s was never resolved", id)
		}
	}
	if len(events) == 0 || events[len(events)-1].Type != schema.EventSessionEnded {
		t.Fatalf("the log does not end with session.ended: %d events", len(events))
	}
	if *fixturesOut == "" {
		return
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range events {
		events[i].Raw = nil // the renderer does not read it; it would triple the size
		// Times from the sequence, 5 ms apart: how often the session
		// reads its clock is none of the renderer's business.
		events[i].Time = base.Add(time.Duration(events[i].Sequence) * 5 * time.Millisecond).Format("2006-01-02T15:04:05.000000000Z")
	}
	out, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(*fixturesOut, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*fixturesOut, name+".json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// clock is a deterministic time source: each reading is 5 ms after the last.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(5 * time.Millisecond)
	return c.t
}

func newManager(t *testing.T, ad agent.Adapter) *session.Manager {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	m := session.NewManager(session.Config{Registry: agent.NewRegistry(ad), Dir: t.TempDir(), Now: c.now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { m.Shutdown(context.Background()) })
	return m
}

// waitFor reads a session's events until done says the log is complete.
func waitFor(t *testing.T, s *session.Session, done func([]schema.Event) bool) []schema.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		evs, _, err := s.Events(ctx, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		if done(evs) {
			return evs
		}
		if !s.Wait(ctx, uint64(len(evs))) {
			t.Fatalf("timed out; %d events so far", len(evs))
		}
	}
}

func count(evs []schema.Event, typ schema.EventType) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// mockDemo runs the mock agent's demo through a session, allowing the first
// permission once and rejecting the second, answering the first question
// (Blue) and rejecting the second, then terminates the session.
func mockDemo(t *testing.T) []schema.Event {
	m := newManager(t, mock.New(mock.Options{Interval: -1}))
	ctx := t.Context()
	s, err := m.Create(ctx, "mock-demo", schema.CreateSessionRequest{Agent: "mock"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, agent.Prompt{Text: "demo"}); err != nil {
		t.Fatal(err)
	}
	// Each stage asks two things at once; answering only once both are
	// asked keeps the log's order the same from run to run.
	answered := map[string]bool{}
	waitFor(t, s, func(evs []schema.Event) bool {
		var perms []*schema.PermissionEventData
		var quests []*schema.QuestionEventData
		for _, e := range evs {
			switch d := e.Data.(type) {
			case *schema.PermissionEventData:
				if e.Type == schema.EventPermissionRequested && !answered[d.PermissionID] {
					perms = append(perms, d)
				}
			case *schema.QuestionEventData:
				if e.Type == schema.EventQuestionRequested && !answered[d.QuestionID] {
					quests = append(quests, d)
				}
			}
		}
		if len(perms) == 2 {
			for _, d := range perms {
				answered[d.PermissionID] = true
				reply := schema.ReplyOnce
				if strings.HasSuffix(d.PermissionID, "_denied") {
					reply = schema.ReplyReject
				}
				if err := s.ReplyPermission(ctx, d.PermissionID, reply); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(quests) == 2 {
			for _, d := range quests {
				answered[d.QuestionID] = true
				reject := strings.HasSuffix(d.QuestionID, "_reject")
				var answers [][]string
				if !reject {
					answers = [][]string{{"Blue"}}
				}
				if err := s.ReplyQuestion(ctx, d.QuestionID, answers, reject); err != nil {
					t.Fatal(err)
				}
			}
		}
		return count(evs, schema.EventTurnEnded) == 1
	})
	if err := s.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	return waitFor(t, s, func(evs []schema.Event) bool { return count(evs, schema.EventSessionEnded) == 1 })
}

// replayClaude plays a Claude Code capture through the real converter and
// a session: each user message of the capture's stdin is sent, and the
// adapter emits the converter's drafts of the stdout lines up to the end
// of that turn. Permission and question requests are answered as the
// capture's stdin answered them.
func replayClaude(t *testing.T, name, stdoutPath, stdinPath string) []schema.Event {
	var stdin [][]byte
	if _, err := os.Stat(stdinPath); err == nil {
		stdin = readLines(t, stdinPath)
	}
	prompts, decisions := readStdin(t, stdin)
	conv := claude.NewConverter()
	var lines [][]agent.Draft
	for _, l := range readLines(t, stdoutPath) {
		lines = append(lines, conv.Line(l))
	}
	lines = append(lines, conv.Flush())
	ad := claude.New(claude.Options{})
	return replay(t, name, ad.Info(), ad, splitTurns(lines), prompts, decisions)
}

// replayCodex does the same for a Codex app-server capture of one thread:
// its JSON-RPC notifications and requests through the real converter, the
// requests answered as the JSON-RPC responses in stdin answered them. It
// returns nil for a capture of two threads (two sessions).
func replayCodex(t *testing.T, name, stdoutPath, stdinPath string) []schema.Event {
	convs := map[string]*codex.Converter{}
	held := map[string]codex.HeldRequest{} // by JSON-RPC id
	var lines [][]agent.Draft
	for _, l := range readLines(t, stdoutPath) {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal(l, &m); err != nil || m.Method == "" {
			continue // a response
		}
		var env struct {
			ThreadID string `json:"threadId"`
			Thread   *struct {
				ID string `json:"id"`
			} `json:"thread"`
		}
		_ = json.Unmarshal(m.Params, &env)
		thread := env.ThreadID
		if thread == "" && env.Thread != nil {
			thread = env.Thread.ID
		}
		if thread == "" {
			continue
		}
		c := convs[thread]
		if c == nil {
			if len(convs) > 0 {
				return nil // two threads: two sessions in one capture
			}
			c = codex.NewConverter(thread)
			convs[thread] = c
		}
		if len(m.ID) > 0 {
			h, err := c.Request(m.ID, m.Method, m.Params, l)
			if err != nil {
				t.Fatalf("request %s: %v", m.Method, err)
			}
			held[string(m.ID)] = h
			lines = append(lines, h.Drafts)
			continue
		}
		lines = append(lines, c.Notification(m.Method, m.Params, l))
	}
	var prompts []string
	decisions := map[string]decision{}
	for _, l := range readLines(t, stdinPath) {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				Input []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"input"`
			} `json:"params"`
			Result *struct {
				Decision string `json:"decision"`
				Answers  map[string]struct {
					Answers []string `json:"answers"`
				} `json:"answers"`
			} `json:"result"`
		}
		if json.Unmarshal(l, &m) != nil {
			continue
		}
		if m.Method == "turn/start" {
			text := ""
			for _, in := range m.Params.Input {
				text += in.Text
			}
			prompts = append(prompts, text)
		}
		h, ok := held[string(m.ID)]
		if m.Method != "" || m.Result == nil || !ok {
			continue // not our answer to a request of the app-server
		}
		d := decision{permission: schema.ReplyOnce, answers: map[string]string{}}
		switch m.Result.Decision {
		case "acceptForSession":
			d.permission = schema.ReplyAlways
		case "decline", "cancel":
			d.permission = schema.ReplyReject
		}
		if m.Result.Answers != nil {
			if len(m.Result.Answers) == 0 {
				d.permission = schema.ReplyReject // how the adapter rejects questions
			}
			i := 0
			for _, dr := range h.Drafts {
				if q, ok := dr.Data.(*schema.QuestionEventData); ok && i < len(h.QuestionIDs) {
					d.answers[q.Prompt] = strings.Join(m.Result.Answers[h.QuestionIDs[i]].Answers, ", ")
					i++
				}
			}
		}
		decisions[h.ID] = d
	}
	ad := codex.New(codex.Options{})
	return replay(t, name, ad.Info(), ad, splitTurns(lines), prompts, decisions)
}

// splitTurns groups the drafts of a capture's lines into turns, each ending
// with the line that ended it; what follows the last turn's end (a
// background sub-agent, the CLI's own turn) is played right after it.
func splitTurns(lines [][]agent.Draft) [][][]agent.Draft {
	var turns [][][]agent.Draft
	var cur [][]agent.Draft
	for _, ds := range lines {
		cur = append(cur, ds)
		for _, d := range ds {
			if d.Type == schema.EventTurnEnded {
				turns = append(turns, cur)
				cur = nil
				break
			}
		}
	}
	if len(turns) == 0 {
		return [][][]agent.Draft{cur}
	}
	turns[len(turns)-1] = append(turns[len(turns)-1], cur...)
	return turns
}

// replay plays prepared turns through a session of an adapter with the
// given Info and modes: each prompt is sent, and the turn's drafts are
// emitted as the agent's stdout reader would. Requests are answered as the
// capture's user answered them (decisions by request id).
func replay(t *testing.T, name string, info agent.Info, modes interface {
	Modes(context.Context) ([]agent.Mode, error)
}, turns [][][]agent.Draft, prompts []string, decisions map[string]decision) []schema.Event {
	ad := &replayAdapter{info: info, modes: modes, turns: turns}
	m := newManager(t, ad)
	ctx := t.Context()
	s, err := m.Create(ctx, name, schema.CreateSessionRequest{Agent: ad.info.ID})
	if err != nil {
		t.Fatal(err)
	}
	ad.answer = func(d agent.Draft) bool {
		switch data := d.Data.(type) {
		case *schema.PermissionEventData:
			dec, ok := decisions[data.PermissionID]
			if d.Type != schema.EventPermissionRequested || !ok {
				return false
			}
			// An "always" earlier in the session may have answered it already.
			_ = s.ReplyPermission(ctx, data.PermissionID, dec.permission)
			return true
		case *schema.QuestionEventData:
			reqID, _, _ := strings.Cut(data.QuestionID, ".q")
			dec, ok := decisions[reqID]
			if d.Type != schema.EventQuestionRequested || !ok {
				return false
			}
			if dec.permission == schema.ReplyReject {
				_ = s.ReplyQuestion(ctx, data.QuestionID, nil, true)
				return true
			}
			answer := dec.answers[data.Prompt]
			if answer == "" && len(data.Options) > 0 {
				answer = data.Options[0] // a plan approval: "approve"
			}
			_ = s.ReplyQuestion(ctx, data.QuestionID, [][]string{strings.Split(answer, ", ")}, false)
			return true
		}
		return false
	}
	ends := 0 // turn.ended drafts played so far
	for i, turn := range turns {
		prompt := "continue"
		if i < len(prompts) {
			prompt = prompts[i]
		}
		if err := s.Send(ctx, agent.Prompt{Text: prompt}); err != nil {
			t.Fatalf("turn %d: %v", i+1, err)
		}
		<-ad.played
		for _, line := range turn {
			for _, d := range line {
				if d.Type == schema.EventTurnEnded {
					ends++
				}
			}
		}
		// The session may still hold drafts back while it forwards a
		// reply: the turn is over when its end is in the log.
		waitFor(t, s, func(evs []schema.Event) bool { return count(evs, schema.EventTurnEnded) >= ends })
	}
	if err := s.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	return waitFor(t, s, func(evs []schema.Event) bool { return count(evs, schema.EventSessionEnded) == 1 })
}

// readLines reads a JSONL file's lines.
func readLines(t *testing.T, path string) [][]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out
}

type decision struct {
	permission schema.PermissionReply
	answers    map[string]string // question prompt → answer, for AskUserQuestion
}

// readStdin reads the user messages and the control responses the CLI was sent.
func readStdin(t *testing.T, lines [][]byte) (prompts []string, decisions map[string]decision) {
	decisions = map[string]decision{}
	for _, l := range lines {
		var line struct {
			Type    string `json:"type"`
			Message struct {
				Content json.RawMessage `json:"content"`
			} `json:"message"`
			Response struct {
				RequestID string `json:"request_id"`
				Response  struct {
					Behavior     string `json:"behavior"`
					UpdatedInput struct {
						Answers map[string]string `json:"answers"`
					} `json:"updatedInput"`
					UpdatedPermissions []struct {
						Type     string `json:"type"`
						Behavior string `json:"behavior"`
					} `json:"updatedPermissions"`
				} `json:"response"`
			} `json:"response"`
		}
		if err := json.Unmarshal(l, &line); err != nil {
			t.Fatalf("stdin line %s: %v", l, err)
		}
		switch line.Type {
		case "user":
			var text string
			if json.Unmarshal(line.Message.Content, &text) != nil {
				var blocks []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				}
				_ = json.Unmarshal(line.Message.Content, &blocks)
				for _, b := range blocks {
					if b.Type == "text" {
						text += b.Text
					}
				}
			}
			prompts = append(prompts, text)
		case "control_response":
			r := line.Response.Response
			d := decision{permission: schema.ReplyOnce, answers: r.UpdatedInput.Answers}
			switch {
			case r.Behavior == "deny":
				d.permission = schema.ReplyReject
			case r.Behavior != "allow":
				continue // not an answer to a request of the CLI
			}
			for _, u := range r.UpdatedPermissions {
				if u.Type == "addRules" && u.Behavior == "allow" {
					d.permission = schema.ReplyAlways
				}
			}
			decisions[line.Response.RequestID] = d
		}
	}
	return prompts, decisions
}

// replayAdapter stands in for the Claude adapter: it has its Info and emits
// prepared drafts, one turn per message sent.
type replayAdapter struct {
	info  agent.Info
	modes interface {
		Modes(context.Context) ([]agent.Mode, error)
	}
	turns [][][]agent.Draft
	// answer replies to a request as the capture did; false when the
	// draft is no request or the capture has no answer to it.
	answer func(agent.Draft) bool
	played chan struct{}
}

func (a *replayAdapter) Info() agent.Info { return a.info }
func (a *replayAdapter) Status(context.Context) (agent.InstallStatus, error) {
	return agent.InstallStatus{Installed: true, Version: "replay"}, nil
}
func (a *replayAdapter) Modes(ctx context.Context) ([]agent.Mode, error) { return a.modes.Modes(ctx) }
func (a *replayAdapter) Models(context.Context) (agent.ModelList, error) {
	return agent.ModelList{}, nil
}
func (a *replayAdapter) Open(_ context.Context, _ agent.Spec, sink agent.Sink) (agent.Conn, error) {
	a.played = make(chan struct{})
	return &replayConn{a: a, sink: sink}, nil
}

type replayConn struct {
	a       *replayAdapter
	sink    agent.Sink
	next    int
	mu      sync.Mutex
	replies map[string]chan struct{}
}

// Send plays the next turn's lines on a goroutine of its own, as the CLI's
// stdout reader would, answering requests after the line that made them.
func (c *replayConn) Send(context.Context, agent.Prompt) error {
	if c.next >= len(c.a.turns) {
		return fmt.Errorf("the capture has %d turns", len(c.a.turns))
	}
	turn := c.a.turns[c.next]
	c.next++
	go func() {
		for _, line := range turn {
			for _, d := range line {
				c.sink.Emit(d)
			}
			// Like the CLI, wait for the answers before reading on (an
			// "always" may answer by itself, a withdrawn request never is).
			for _, d := range line {
				if c.a.answer(d) {
					select {
					case <-c.answered(requestID(d)):
					case <-time.After(5 * time.Second):
					}
				}
			}
		}
		c.a.played <- struct{}{}
	}()
	return nil
}

// answered returns the channel closed when the request is answered.
func (c *replayConn) answered(id string) chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.replies == nil {
		c.replies = map[string]chan struct{}{}
	}
	ch, ok := c.replies[id]
	if !ok {
		ch = make(chan struct{})
		c.replies[id] = ch
	}
	return ch
}

func requestID(d agent.Draft) string {
	switch data := d.Data.(type) {
	case *schema.PermissionEventData:
		return data.PermissionID
	case *schema.QuestionEventData:
		return data.QuestionID
	}
	return ""
}

func (c *replayConn) Answer(_ context.Context, r agent.Reply) error {
	ch := c.answered(r.ID)
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
	return nil
}
func (c *replayConn) Interrupt(context.Context) error { return nil }
func (c *replayConn) Close(context.Context) error     { return nil }
