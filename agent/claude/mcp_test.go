package claude

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/agent/streamjson"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// The session's timeoutMs is the CLI's per-server `timeout` (proven on
// 2.1.332 by the claude-mcp e2e row: a slow tool call ends with "timed
// out after 1s"). 0 is left out: the CLI silently drops a server whose
// timeout is not positive. JavaScript timers cap what is passed on.
func TestMCPConfigTimeout(t *testing.T) {
	cfg := mcpConfig(map[string]schema.McpServerConfig{
		"local":  {Type: schema.McpLocal, Command: []string{"stub"}, TimeoutMs: schema.Ptr(uint64(1500))},
		"remote": {Type: schema.McpRemote, URL: "http://127.0.0.1:1/mcp", TimeoutMs: schema.Ptr(uint64(90000))},
		"zero":   {Type: schema.McpLocal, Command: []string{"stub"}, TimeoutMs: schema.Ptr(uint64(0))},
		"huge":   {Type: schema.McpLocal, Command: []string{"stub"}, TimeoutMs: schema.Ptr(uint64(1) << 40)},
	})
	want := `{"mcpServers":{` +
		`"huge":{"command":"stub","timeout":2147483647},` +
		`"local":{"command":"stub","timeout":1500},` +
		`"remote":{"timeout":90000,"type":"http","url":"http://127.0.0.1:1/mcp"},` +
		`"zero":{"command":"stub"}}}`
	if cfg != want {
		t.Errorf("mcp config\n got %s\nwant %s", cfg, want)
	}
}

func statusItems(t *testing.T, c *Converter, line string) []schema.ContentPart {
	t.Helper()
	var out []schema.ContentPart
	for _, d := range c.Line([]byte(line)) {
		if d.Type == schema.EventAgentUnparsed {
			t.Fatalf("unparsed: %s", line)
		}
		if d.Type != schema.EventItemCompleted {
			continue
		}
		if it := d.Data.(*schema.ItemEventData).Item; it.Kind == schema.KindStatus {
			out = append(out, it.Content...)
		}
	}
	return out
}

// An MCP server the CLI could not use is reported once, as a status item;
// the CLI repeats its init line every turn, and a server that recovered or
// is still pending says nothing.
func TestMCPServerFailuresReportedOnce(t *testing.T) {
	c := NewConverter()
	init := func(servers string) string {
		return `{"type":"system","subtype":"init","session_id":"s1","uuid":"u","model":"m","mcp_servers":` + servers + `}`
	}
	got := statusItems(t, c, init(`[{"name":"ok","status":"connected","source":"dynamic"},{"name":"broken","status":"failed","source":"dynamic"},{"name":"slow","status":"pending"}]`))
	if len(got) != 1 || got[0].Label != "mcp_server_failed" || !strings.Contains(schema.Deref(got[0].Detail), `"broken"`) {
		t.Fatalf("first init: status parts %+v", got)
	}
	got = statusItems(t, c, init(`[{"name":"ok","status":"connected"},{"name":"broken","status":"failed"},{"name":"slow","status":"needs-auth"}]`))
	if len(got) != 1 || got[0].Label != "mcp_server_needs_auth" || !strings.Contains(schema.Deref(got[0].Detail), `"slow"`) {
		t.Fatalf("second init: status parts %+v", got)
	}
	if got := statusItems(t, c, init(`[{"name":"broken","status":"failed"}]`)); len(got) != 0 {
		t.Errorf("a failure was reported twice: %+v", got)
	}
	if got := statusItems(t, NewConverter(), init(`[]`)); len(got) != 0 {
		t.Errorf("no servers: %+v", got)
	}
}

// What the CLI reported at init, skills included, is the session's
// metadata.
func TestSessionStartedMetadataHasSkills(t *testing.T) {
	ds := NewConverter().Line([]byte(`{"type":"system","subtype":"init","session_id":"s1","model":"m","skills":["e2e-greeter","debug"],"mcp_servers":[{"name":"stub","status":"connected"}]}`))
	if len(ds) != 1 || ds[0].Type != schema.EventSessionStarted {
		t.Fatalf("drafts %+v", ds)
	}
	var md struct {
		Skills     []string `json:"skills"`
		MCPServers []struct {
			Name, Status string
		} `json:"mcpServers"`
	}
	if err := json.Unmarshal(ds[0].Data.(*schema.SessionStartedData).Metadata, &md); err != nil {
		t.Fatal(err)
	}
	if strings.Join(md.Skills, ",") != "e2e-greeter,debug" || len(md.MCPServers) != 1 || md.MCPServers[0].Status != "connected" {
		t.Errorf("metadata %+v", md)
	}
}

// ToolSearch's result is a list of tool_reference blocks (how 2.1.332
// loads deferred MCP tools); its output text is the tools' names.
func TestResultTextToolReferences(t *testing.T) {
	got := streamjson.ResultText(json.RawMessage(`[{"type":"tool_reference","tool_name":"mcp__stub__echo"},{"type":"tool_reference","tool_name":"mcp__stub__fail"}]`))
	if got != "mcp__stub__echo\nmcp__stub__fail" {
		t.Errorf("resultText = %q", got)
	}
	// A reference without a name stays visible as JSON.
	if got := streamjson.ResultText(json.RawMessage(`[{"type":"tool_reference"}]`)); got != `{"type":"tool_reference"}` {
		t.Errorf("nameless reference = %q", got)
	}
}
