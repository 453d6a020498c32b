package cli

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// apiFixture is a running server (the real binary, mock agent) and the CLI
// pointed at it through the environment.
type apiFixture struct {
	cli
	base string
	sdk  *client.Client
	home string
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	bin := binary(t)
	home := t.TempDir()
	base := startBinary(t, cleanEnv(home), "tok").base
	return &apiFixture{
		cli:  cli{bin: bin, env: cleanEnv(home, "SANDBOX_AGENT_ENDPOINT="+base, "SANDBOX_AGENT_TOKEN=tok")},
		base: base, sdk: client.New(base, client.WithToken("tok")), home: home,
	}
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("stdout is not the expected JSON: %v\n%s", err, r.stdout)
	}
	return v
}

// jsonLines decodes the events of a --json stream.
func jsonLines(t *testing.T, s string) []schema.Event {
	t.Helper()
	var evs []schema.Event
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var ev schema.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not an event line: %v\n%q", err, line)
		}
		evs = append(evs, ev)
	}
	return evs
}

func types(evs []schema.Event) []schema.EventType {
	var out []schema.EventType
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// waitFor polls the session's events until one satisfies pred.
func (f *apiFixture) waitFor(t *testing.T, sid string, pred func(schema.Event) bool) schema.Event {
	t.Helper()
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		page, err := f.sdk.Events(context.Background(), sid, client.EventsQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			if pred(ev) {
				return ev
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no matching event in session %s", sid)
	return schema.Event{}
}

func assistantSays(text string) func(schema.Event) bool {
	return func(ev schema.Event) bool {
		d, ok := ev.Data.(*schema.ItemEventData)
		return ok && ev.Type == schema.EventItemCompleted && d.Item.Role != nil && *d.Item.Role == schema.RoleAssistant &&
			strings.Contains(d.Item.Text(), text)
	}
}

func TestAPIAgentsAndHealth(t *testing.T) {
	f := newAPIFixture(t)
	if h := decode[schema.HealthResponse](t, f.ok(t, "api", "health")); h.Status != "ok" {
		t.Fatalf("health: %+v", h)
	}
	agents := decode[schema.AgentListResponse](t, f.ok(t, "api", "agents", "list"))
	i := slices.IndexFunc(agents.Agents, func(a schema.AgentInfo) bool { return a.ID == "mock" })
	if i < 0 || !agents.Agents[i].Installed || len(agents.Agents) < 5 {
		t.Fatalf("agents: %+v", agents)
	}
	modes := decode[schema.AgentModesResponse](t, f.ok(t, "api", "agents", "modes", "mock"))
	if len(modes.Modes) != 2 || modes.Modes[0].ID != "build" || modes.Modes[1].ID != "plan" {
		t.Fatalf("modes: %+v", modes)
	}
	models := decode[schema.AgentModelsResponse](t, f.ok(t, "api", "agents", "models", "mock", "--json"))
	if models.DefaultModel == nil || *models.DefaultModel != "mock" {
		t.Fatalf("models: %+v", models)
	}
	if r := f.ok(t, "api", "agents", "install", "mock"); r.stdout != "" {
		t.Fatalf("install printed %q", r.stdout)
	}
	f.fails(t, 1, []string{"api", "agents", "modes", "nope"}, "error: ", "nope")
	// The endpoint and token flags override the environment.
	bad := cli{bin: f.bin, env: cleanEnv(f.home, "SANDBOX_AGENT_ENDPOINT=http://127.0.0.1:1", "SANDBOX_AGENT_TOKEN=wrong")}
	bad.fails(t, 1, []string{"api", "agents", "list", "--endpoint", f.base}, "Token Invalid (401)")
	bad.ok(t, "api", "agents", "list", "-e", f.base, "-t", "tok")
	bad.fails(t, 1, []string{"api", "health"}, "cannot reach the server")
}

func TestAPISessions(t *testing.T) {
	f := newAPIFixture(t)
	mcp := filepath.Join(t.TempDir(), "mcp.json")
	if err := os.WriteFile(mcp, []byte(`{"docs":{"type":"remote","url":"http://127.0.0.1:9/mcp"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	created := decode[schema.CreateSessionResponse](t, f.ok(t, "api", "sessions", "create", "s1", "-a", "mock", "-g", "plan",
		"--title", "CLI test", "--mcp-config", mcp, "-p", "default"))
	if !created.Healthy {
		t.Fatalf("create: %+v", created)
	}
	info := decode[schema.SessionInfo](t, f.ok(t, "api", "sessions", "get", "s1"))
	if info.Agent != "mock" || info.AgentMode != "plan" || info.Title == nil || *info.Title != "CLI test" || info.MCP["docs"].URL == "" {
		t.Fatalf("get: %+v", info)
	}
	list := decode[schema.SessionListResponse](t, f.ok(t, "api", "sessions", "list"))
	if len(list.Sessions) != 1 || list.Sessions[0].SessionID != "s1" {
		t.Fatalf("list: %+v", list)
	}

	t.Run("send-message then events", func(t *testing.T) {
		if r := f.ok(t, "api", "sessions", "send-message", "s1", "-m", "echo from the CLI"); r.stdout != "" {
			t.Fatalf("send-message printed %q", r.stdout)
		}
		done := f.waitFor(t, "s1", assistantSays("from the CLI"))
		page := decode[schema.EventsResponse](t, f.ok(t, "api", "sessions", "events", "s1", "--offset", "1", "--limit", "2"))
		if len(page.Events) != 2 || page.Events[0].Sequence != 2 || !page.HasMore {
			t.Fatalf("page: %+v", page)
		}
		all := decode[schema.EventsResponse](t, f.ok(t, "api", "sessions", "get-messages", "s1", "--include-raw"))
		if all.Events[len(all.Events)-1].Sequence < done.Sequence {
			t.Fatalf("events end before %d", done.Sequence)
		}
	})

	t.Run("send-message-stream prints the text", func(t *testing.T) {
		r := f.ok(t, "api", "sessions", "send-message-stream", "s1", "-m", "echo streamed words")
		if r.stdout != "streamed words\n" {
			t.Fatalf("stdout %q", r.stdout)
		}
		r = f.ok(t, "api", "sessions", "send-message-stream", "s1", "-m", "tool")
		for _, want := range []string{"-> mock.search {\"query\":\"example\"}", "<- mock search results", "   write mock_", "(failed)"} {
			if !strings.Contains(r.stdout, want) {
				t.Fatalf("tool turn lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("send-message-stream follows the turn past an error event to its end", func(t *testing.T) {
		// The server's turn stream closes at the error event; the CLI goes
		// on reading the session until the turn ends.
		r := f.ok(t, "api", "sessions", "send-message-stream", "s1", "-m", "error")
		if r.stdout != "! error: Mock error event. (mock_error)\n! unparsed agent output at mock.stream: unsupported payload\n" {
			t.Fatalf("stdout %q", r.stdout)
		}
		evs := jsonLines(t, f.ok(t, "api", "sessions", "send-message-stream", "s1", "-m", "error", "--json").stdout)
		if got := types(evs); !slices.Equal(got[len(got)-3:], []schema.EventType{schema.EventError, schema.EventAgentUnparsed, schema.EventTurnEnded}) {
			t.Fatalf("types: %v", got)
		}
	})

	t.Run("send-message-stream --json is JSON lines of one turn", func(t *testing.T) {
		r := f.ok(t, "api", "sessions", "send-message-stream", "s1", "-m", "Answer briefly and include your reasoning.", "--json")
		evs := jsonLines(t, r.stdout)
		if evs[len(evs)-1].Type != schema.EventTurnEnded || !slices.Contains(types(evs), schema.EventItemDelta) {
			t.Fatalf("types: %v", types(evs))
		}
	})

	t.Run("a permission without a terminal stops with a hint, reply-permission answers it", func(t *testing.T) {
		r := f.ok(t, "api", "sessions", "send-message-stream", "s1", "-m", "permission")
		if !strings.Contains(r.stdout, "? permission mock_") || !strings.Contains(r.stdout, "command_execution") ||
			!strings.Contains(r.stderr, "sandbox-agent api sessions reply-permission s1 mock_") {
			t.Fatalf("stdout: %s\nstderr: %s", r.stdout, r.stderr)
		}
		id := strings.Fields(r.stderr[strings.Index(r.stderr, "reply-permission s1 "):])[2]
		f.ok(t, "api", "sessions", "reply-permission", "s1", id, "--reply", "ALWAYS")
		f.waitFor(t, "s1", func(ev schema.Event) bool {
			d, ok := ev.Data.(*schema.PermissionEventData)
			return ok && d.PermissionID == id && d.Status == schema.PermissionAcceptForSession
		})
		f.fails(t, 1, []string{"api", "sessions", "reply-permission", "s1", id, "-r", "once"}, "Invalid Request (400)", id)
		// The mock asks a second time in that turn; the turn ends once both are answered.
		f.waitFor(t, "s1", func(ev schema.Event) bool {
			d, ok := ev.Data.(*schema.PermissionEventData)
			return ok && d.PermissionID == id+"_denied"
		})
		f.ok(t, "api", "sessions", "reply-permission", "s1", id+"_denied", "-r", "reject")
		f.waitFor(t, "s1", assistantSays("Run `echo mock`: allowed for the session\nWrite "))
		f.waitFor(t, "s1", assistantSays("deny.txt: rejected"))
	})

	t.Run("questions: reply-question and reject-question", func(t *testing.T) {
		evs := jsonLines(t, f.ok(t, "api", "sessions", "send-message-stream", "s1", "-m", "questions", "--json").stdout)
		q := evs[len(evs)-1].Data.(*schema.QuestionEventData)
		f.ok(t, "api", "sessions", "reply-question", "s1", q.QuestionID, "--answers", `[["Blue"]]`)
		second := f.waitFor(t, "s1", func(ev schema.Event) bool {
			d, ok := ev.Data.(*schema.QuestionEventData)
			return ok && ev.Type == schema.EventQuestionRequested && d.QuestionID != q.QuestionID && strings.HasPrefix(d.QuestionID, strings.TrimSuffix(q.QuestionID, "_question"))
		}).Data.(*schema.QuestionEventData)
		f.ok(t, "api", "sessions", "reject-question", "s1", second.QuestionID)
		f.waitFor(t, "s1", assistantSays("You answered: Blue."))
		f.waitFor(t, "s1", assistantSays("You rejected the question."))
		f.fails(t, 2, []string{"api", "sessions", "reply-question", "s1", "x", "--answers", "[[1]]"}, "--answers")
	})

	t.Run("events-sse follows until the session ends", func(t *testing.T) {
		cmd := exec.Command(f.bin, "api", "sessions", "events-sse", "s1", "--json")
		cmd.Env = f.env
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		if !sc.Scan() { // the replay has begun: the stream is open
			t.Fatal("no event")
		}
		f.ok(t, "api", "sessions", "terminate", "s1")
		var last schema.Event
		n := 1
		for sc.Scan() {
			if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("events-sse: %v", err)
		}
		if last.Type != schema.EventSessionEnded || uint64(n) != last.Sequence {
			t.Fatalf("%d events, last %+v", n, last)
		}
	})

	t.Run("interrupt, delete", func(t *testing.T) {
		f.ok(t, "api", "sessions", "create", "s2", "--agent", "mock")
		f.ok(t, "api", "sessions", "send-message", "s2", "-m", "demo")
		f.waitFor(t, "s2", func(ev schema.Event) bool { return ev.Type == schema.EventTurnStarted })
		f.ok(t, "api", "sessions", "interrupt", "s2")
		f.waitFor(t, "s2", func(ev schema.Event) bool { return ev.Type == schema.EventTurnEnded })
		f.ok(t, "api", "sessions", "delete", "s2")
		f.fails(t, 1, []string{"api", "sessions", "get", "s2"}, "Session Not Found (404)")
	})

	t.Run("usage errors exit 2", func(t *testing.T) {
		f.fails(t, 2, []string{"api", "sessions", "create", "s3"}, `"agent" not set`)
		f.fails(t, 2, []string{"api", "sessions", "reply-permission", "s1", "p", "-r", "maybe"}, "once, always or reject")
		f.fails(t, 2, []string{"api", "sessions", "get"}, "session-id")
		f.fails(t, 2, []string{"api", "sessions", "list", "--nope"}, "unknown flag")
		f.fails(t, 2, []string{"api", "sesions"}, `did you mean sessions?`)
		f.fails(t, 2, []string{"api", "sessions", "create", "s3", "-a", "mock", "--mcp-config", "/nonexistent.json"}, "--mcp-config")
	})

	t.Run("problems name the field", func(t *testing.T) {
		f.fails(t, 1, []string{"api", "sessions", "create", "s4", "-a", "mock", "-p", "sideways"}, "Invalid Request (400)", "permissionMode")
	})
}

func TestAPIFs(t *testing.T) {
	f := newAPIFixture(t)
	dir := t.TempDir()
	p := func(rel string) string { return filepath.Join(dir, rel) }

	w := decode[schema.FsWriteResponse](t, f.ok(t, "api", "fs", "write", p("a/b.txt"), "--content", "hello"))
	if w.BytesWritten != 5 {
		t.Fatalf("write: %+v", w)
	}
	local := filepath.Join(t.TempDir(), "local.bin")
	if err := os.WriteFile(local, []byte("from a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.ok(t, "api", "fs", "write", p("c.bin"), "--from-file", local)
	r := f.run(t, "piped", "api", "fs", "write", p("d.txt"), "--from-file", "-")
	if r.code != 0 {
		t.Fatalf("stdin write: %+v", r)
	}
	for file, want := range map[string]string{"a/b.txt": "hello", "c.bin": "from a file", "d.txt": "piped"} {
		if got := f.ok(t, "api", "fs", "read", p(file)).stdout; got != want {
			t.Fatalf("read %s = %q, want %q", file, got, want)
		}
	}
	entries := decode[[]schema.FsEntry](t, f.ok(t, "api", "fs", "entries", "--path", dir))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"a", "c.bin", "d.txt"}) {
		t.Fatalf("entries: %v", names)
	}
	st := decode[schema.FsStat](t, f.ok(t, "api", "fs", "stat", p("c.bin")))
	if st.Size != 11 || st.EntryType != schema.FsEntryType("file") {
		t.Fatalf("stat: %+v", st)
	}
	f.ok(t, "api", "fs", "mkdir", p("x/y"))
	f.fails(t, 1, []string{"api", "fs", "move", p("c.bin"), p("d.txt")}, "d.txt")
	mv := decode[schema.FsMoveResponse](t, f.ok(t, "api", "fs", "move", p("c.bin"), p("d.txt"), "--overwrite"))
	if mv.To != p("d.txt") {
		t.Fatalf("move: %+v", mv)
	}
	f.fails(t, 1, []string{"api", "fs", "delete", p("a")}, "Invalid Request")
	f.ok(t, "api", "fs", "delete", p("a"), "--recursive")
	f.fails(t, 1, []string{"api", "fs", "stat", p("a")}, "path not found")

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range map[string]string{"up/one.txt": "1", "up/two.txt": "22"} {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(body))
	}
	_ = tw.Close()
	archive := filepath.Join(t.TempDir(), "up.tar")
	if err := os.WriteFile(archive, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	up := decode[schema.FsUploadBatchResponse](t, f.ok(t, "api", "fs", "upload-batch", "--tar", archive, "--path", p("x")))
	if len(up.Paths) != 2 {
		t.Fatalf("upload: %+v", up)
	}
	if got := f.ok(t, "api", "fs", "read", p("x/up/two.txt")).stdout; got != "22" {
		t.Fatalf("unpacked: %q", got)
	}

	// Relative paths resolve in a session's directory.
	f.ok(t, "api", "sessions", "create", "fs", "-a", "mock", "--directory", p("x"))
	if got := f.ok(t, "api", "fs", "read", "up/one.txt", "--session-id", "fs").stdout; got != "1" {
		t.Fatalf("session-relative read: %q", got)
	}
	f.fails(t, 2, []string{"api", "fs", "write", p("z"), "--content", "a", "--from-file", local}, "not both")
	f.fails(t, 2, []string{"api", "fs", "write", p("z")}, "--content or --from-file")
}
