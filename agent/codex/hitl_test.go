package codex

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/jsonrpc"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

type nopHandler struct{}

func (nopHandler) Notification(string, json.RawMessage, []byte)             {}
func (nopHandler) Request(json.RawMessage, string, json.RawMessage, []byte) {}
func (nopHandler) Invalid([]byte, error)                                    {}

// answerLine holds one request, answers it and returns what the CLI got.
func answerLine(t *testing.T, method string, params string, r agent.Reply) string {
	t.Helper()
	inR, inW := io.Pipe()   // what the CLI would read
	outR, outW := io.Pipe() // what the CLI would write
	rc := &rpc{jsonrpc.New(outR, inW, nopHandler{}, jsonrpc.Options{OmitVersion: true})}
	t.Cleanup(func() { outW.Close(); inW.Close(); <-rc.Done() })

	c := &conn{pending: map[string]pendingReq{}, conv: NewConverter("t1"), sink: agent.SinkFunc(func(agent.Draft) {})}
	var drafts []agent.Draft
	h, err := c.conv.Request(json.RawMessage(`7`), method, json.RawMessage(params), nil)
	if err != nil {
		t.Fatal(err)
	}
	drafts = h.Drafts
	if len(drafts) != 1 {
		t.Fatalf("drafts %v", drafts)
	}
	c.hold(h.ID, pendingReq{rpc: rc, id: json.RawMessage(`7`), method: method, qids: h.QuestionIDs})
	r.ID = h.ID
	got := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(inR).ReadString('\n')
		got <- l
	}()
	if err := c.Answer(t.Context(), r); err != nil {
		t.Fatalf("Answer: %v", err)
	}
	if err := c.Answer(t.Context(), r); err == nil {
		t.Errorf("a second answer to %s was accepted", h.ID)
	}
	return <-got
}

func TestPermissionDecisions(t *testing.T) {
	params := `{"threadId":"t1","turnId":"u","itemId":"call_1","command":"ls","cwd":"/w"}`
	for reply, want := range map[schema.PermissionReply]string{
		schema.ReplyOnce:   `{"id":7,"result":{"decision":"accept"}}` + "\n",
		schema.ReplyAlways: `{"id":7,"result":{"decision":"acceptForSession"}}` + "\n",
		schema.ReplyReject: `{"id":7,"result":{"decision":"decline"}}` + "\n",
	} {
		for _, method := range []string{reqCommandApproval, reqFileApproval} {
			got := answerLine(t, method, params, agent.Reply{Kind: agent.ReplyPermission, Permission: reply})
			if got != want {
				t.Errorf("%s %s: CLI got %s, want %s", method, reply, got, want)
			}
		}
	}
}

func TestQuestionAnswers(t *testing.T) {
	params := `{"threadId":"t1","itemId":"call_2","questions":[{"id":"color","header":"Color","question":"Which?","options":[{"label":"Red"}]},{"id":"size","header":"Size","question":"How big?","options":null}]}`
	got := answerLine(t, reqUserInput, params, agent.Reply{Kind: agent.ReplyQuestion, Answers: [][]string{{"Red"}, {"S", "M"}}})
	if want := `{"id":7,"result":{"answers":{"color":{"answers":["Red"]},"size":{"answers":["S","M"]}}}}` + "\n"; got != want {
		t.Errorf("answered: CLI got %s, want %s", got, want)
	}
	got = answerLine(t, reqUserInput, params, agent.Reply{Kind: agent.ReplyQuestion, Reject: true})
	if want := `{"id":7,"result":{"answers":{}}}` + "\n"; got != want {
		t.Errorf("rejected: CLI got %s, want %s", got, want)
	}
}

func TestPolicyFor(t *testing.T) {
	for mode, want := range map[string]policy{
		"":                               {approval: "untrusted", sandbox: "danger-full-access"},
		schema.PermissionModeAcceptEdits: {approval: "untrusted", sandbox: "danger-full-access", autoEdits: true},
		schema.PermissionModePlan:        {approval: "untrusted", sandbox: "read-only", plan: true},
		schema.PermissionModeBypass:      {approval: "never", sandbox: "danger-full-access"},
	} {
		if got, err := policyFor(mode); err != nil || got != want {
			t.Errorf("policyFor(%q) = %+v, %v; want %+v", mode, got, err, want)
		}
	}
	if _, err := policyFor("yolo"); err == nil {
		t.Error("policyFor(yolo) accepted")
	}
}

func TestPlanOf(t *testing.T) {
	for params, want := range map[string]string{
		`{"item":{"type":"agentMessage","id":"m","text":"<proposed_plan>\n1. a\n</proposed_plan>"}}`: "1. a",
		`{"item":{"type":"plan","id":"p","text":" 2. b "}}`:                                          "2. b",
		`{"item":{"type":"agentMessage","id":"m","text":"no plan"}}`:                                 "",
	} {
		if got := planOf(json.RawMessage(params)); got != want {
			t.Errorf("planOf(%s) = %q, want %q", params, got, want)
		}
	}
}

func TestProviderArgs(t *testing.T) {
	home := t.TempDir()
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("CODEX_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv("CODEX_HOME", home)
	if got := providerArgs(nil); got != nil {
		t.Errorf("no key, no URL: %q, want the user's own config", got)
	}
	want := []string{"-c", `model_providers.sandbox-agent={name="sandbox-agent", base_url="http://127.0.0.1:1/v1", wire_api="responses", env_key="OPENAI_API_KEY"}`, "-c", `model_provider="sandbox-agent"`}
	if got := providerArgs([]string{"OPENAI_API_KEY=k", "OPENAI_BASE_URL=http://127.0.0.1:1/v1"}); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("key and URL: %q, want %q", got, want)
	}
	if got := providerArgs([]string{"CODEX_API_KEY=k"}); len(got) != 4 || !strings.Contains(got[1], `base_url="https://api.openai.com/v1"`) || !strings.Contains(got[1], `env_key="CODEX_API_KEY"`) {
		t.Errorf("key only: %q, want the OpenAI API with CODEX_API_KEY", got)
	}
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte("model = \"m\"\nmodel_provider = \"mine\"\n[model_providers.mine]\nname = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := providerArgs([]string{"OPENAI_API_KEY=k"}); got != nil {
		t.Errorf("key and a provider of the user's: %q, want the user's config to stand", got)
	}
	if got := providerArgs([]string{"OPENAI_API_KEY=k", "OPENAI_BASE_URL=http://127.0.0.1:1/v1"}); len(got) != 4 {
		t.Errorf("an explicit OPENAI_BASE_URL: %q, want our provider", got)
	}
	if err := os.Remove(filepath.Join(home, "config.toml")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "auth.json"), []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := providerArgs([]string{"OPENAI_API_KEY=k"}); got != nil {
		t.Errorf("key and a codex login: %q, want the login to stand", got)
	}
}
