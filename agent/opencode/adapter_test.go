package opencode

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

func TestReadSSE(t *testing.T) {
	body := ": comment\nevent: x\ndata: {\"a\":1}\n\ndata: line1\ndata: line2\nid: 7\n\n\ndata: last"
	var got []string
	if err := readSSE(strings.NewReader(body), func(d []byte) { got = append(got, string(d)) }); err != nil {
		t.Fatal(err)
	}
	if want := []string{`{"a":1}`, "line1\nline2", "last"}; !cmp.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestRecentDeduplicates(t *testing.T) {
	r := newRecent(2)
	if !r.add("a") || r.add("a") || !r.add("b") || !r.add("c") {
		t.Fatal("recent did not report new and seen ids")
	}
	if !r.add("a") { // forgotten: only the last two are kept
		t.Error("the oldest id was not forgotten")
	}
}

func TestPromptFor(t *testing.T) {
	spec := agent.Spec{Dir: "/work", PermissionMode: schema.PermissionModePlan, Model: "fake/fake-model", Variant: "high"}
	body, err := promptFor(spec, agent.Prompt{Text: "hi", Attachments: []schema.MessageAttachment{
		{Path: "notes.md"}, {Path: "data:image/png;base64,AAAA"}, {Path: "https://example.test/a.txt", MIME: schema.Ptr("text/plain")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := promptBody{Agent: "plan", Variant: "high", Model: &modelRef{ProviderID: "fake", ModelID: "fake-model"}, Parts: []promptPart{
		{Type: "file", Mime: "text/markdown; charset=utf-8", Filename: "notes.md", URL: "file:///work/notes.md"},
		{Type: "file", Mime: "image/png", Filename: "attachment", URL: "data:image/png;base64,AAAA"},
		{Type: "file", Mime: "text/plain", Filename: "attachment", URL: "https://example.test/a.txt"},
		{Type: "text", Text: "hi"},
	}}
	if d := cmp.Diff(want, body); d != "" {
		t.Errorf("prompt (-want +got):\n%s", d)
	}
	if _, err := promptFor(agent.Spec{Model: "no-provider"}, agent.Prompt{}); err == nil {
		t.Error("a model without provider/ was accepted")
	}
}

func TestMCPFor(t *testing.T) {
	local, err := mcpFor("s", schema.McpServerConfig{Type: schema.McpLocal, Command: []string{"stub"}, Args: []string{"-x"},
		Env: map[string]string{"A": "1"}, TimeoutMs: schema.Ptr(uint64(1500))}, nil)
	if err != nil || !cmp.Equal(local.Command, []string{"stub", "-x"}) || local.Type != "local" || *local.Timeout != 1500 || local.Environment["A"] != "1" {
		t.Errorf("local: %+v %v", local, err)
	}
	remote, err := mcpFor("r", schema.McpServerConfig{Type: schema.McpRemote, URL: "http://127.0.0.1:1/mcp",
		Headers: map[string]string{"X": "y"}, BearerTokenEnvVar: schema.Ptr("TOK"), EnvHeaders: map[string]string{"X-Key": "KEY"}},
		[]string{"TOK=secret", "KEY=k1"})
	if err != nil || remote.Headers["Authorization"] != "Bearer secret" || remote.Headers["X-Key"] != "k1" || remote.Headers["X"] != "y" {
		t.Errorf("remote: %+v %v", remote, err)
	}
	if _, err := mcpFor("bad", schema.McpServerConfig{Type: schema.McpLocal}, nil); err == nil {
		t.Error("a local server without command was accepted")
	}
}

func TestModesAndModels(t *testing.T) {
	modes := primaryModes([]agentInfo{{Name: "build", Mode: "primary", Description: "B"}, {Name: "explore", Mode: "subagent"},
		{Name: "title", Mode: "primary", Hidden: true}, {Name: "mine", Mode: "all"}})
	if want := []agent.Mode{{ID: "build", Name: "Build", Description: "B"}, {ID: "mine", Name: "Mine"}}; !cmp.Equal(modes, want) {
		t.Errorf("modes %+v", modes)
	}
	var prov providersResponse
	if err := json.Unmarshal([]byte(`{"providers":[{"id":"fake","models":{"m2":{"name":"M2","variants":{"low":{},"high":{}}},"m1":{}}}],"default":{"fake":"m1"}}`), &prov); err != nil {
		t.Fatal(err)
	}
	ml := modelList(prov, "")
	if len(ml.Models) != 2 || ml.Models[0].ID != "fake/m1" || ml.Models[1].ID != "fake/m2" || !cmp.Equal(ml.Models[1].Variants, []string{"high", "low"}) ||
		schema.Deref(ml.DefaultModel) != "fake/m1" {
		t.Errorf("models %+v default %v", ml.Models, ml.DefaultModel)
	}
	if ml := modelList(prov, "fake/m2"); schema.Deref(ml.DefaultModel) != "fake/m2" {
		t.Errorf("the configured model is not the default: %v", ml.DefaultModel)
	}
}

func TestPermissionRules(t *testing.T) {
	if r := permissionRules(schema.PermissionModeBypass); len(r) != 1 || r[0].Permission != "*" || r[0].Action != "allow" {
		t.Errorf("bypass %+v", r)
	}
	for _, mode := range []string{"", schema.PermissionModeDefault, schema.PermissionModePlan} {
		for _, r := range permissionRules(mode) {
			if r.Action != "ask" {
				t.Errorf("%q: %+v does not ask", mode, r)
			}
		}
	}
	edits := permissionRules(schema.PermissionModeAcceptEdits)
	if edits[len(edits)-1] != (permissionRule{Permission: "edit", Pattern: "*", Action: "allow"}) {
		t.Errorf("acceptEdits %+v", edits)
	}
}
