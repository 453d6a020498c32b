package schema

import (
	"encoding/json"
	"testing"
)

// The exact bytes matter: 0.1.11 clients rely on which keys are present as
// null and which are omitted.
func TestWireShapes(t *testing.T) {
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"item with nulls", Item{ItemID: "itm_1", Kind: KindMessage, Status: StatusInProgress},
			`{"item_id":"itm_1","native_item_id":null,"parent_id":null,"kind":"message","role":null,"content":[],"status":"in_progress"}`},
		{"text", Text("hi"), `{"type":"text","text":"hi"}`},
		{"json", JSONPart(map[string]bool{"ok": true}), `{"type":"json","json":{"ok":true}}`},
		{"tool_call", ToolCall("bash", `{"c":1}`, "c1"), `{"type":"tool_call","name":"bash","arguments":"{\"c\":1}","call_id":"c1"}`},
		{"tool_result", ToolResult("c1", "out"), `{"type":"tool_result","call_id":"c1","output":"out"}`},
		{"file_ref", FileRef("/a", FileWrite, nil), `{"type":"file_ref","path":"/a","action":"write","diff":null}`},
		{"reasoning", Reasoning("r", VisibilityPrivate), `{"type":"reasoning","text":"r","visibility":"private"}`},
		{"image", Image("/i.png", Ptr("image/png")), `{"type":"image","path":"/i.png","mime":"image/png"}`},
		{"status", Status("Indexing", nil), `{"type":"status","label":"Indexing","detail":null}`},
		{"session.started", &SessionStartedData{}, `{"metadata":null}`},
		{"session.ended", &SessionEndedData{Reason: EndTerminated, TerminatedBy: ByDaemon}, `{"reason":"terminated","terminated_by":"daemon"}`},
		{"session.ended error", &SessionEndedData{Reason: EndError, TerminatedBy: ByAgent, Message: Ptr("x"), ExitCode: Ptr(2),
			Stderr: &StderrOutput{Head: Ptr("h"), Truncated: false, TotalLines: Ptr(1)}},
			`{"reason":"error","terminated_by":"agent","message":"x","exit_code":2,"stderr":{"head":"h","truncated":false,"total_lines":1}}`},
		{"turn", &TurnEventData{Phase: PhaseStarted}, `{"phase":"started"}`},
		{"delta", &ItemDeltaData{ItemID: "itm_1", Delta: "d"}, `{"item_id":"itm_1","native_item_id":null,"delta":"d"}`},
		{"error", &ErrorData{Message: "m"}, `{"message":"m","code":null,"details":null}`},
		{"permission", &PermissionEventData{PermissionID: "p", Action: "a", Status: PermissionRequested}, `{"permission_id":"p","action":"a","status":"requested","metadata":null}`},
		{"question", &QuestionEventData{QuestionID: "q", Prompt: "?", Status: QuestionRequested}, `{"question_id":"q","prompt":"?","options":[],"response":null,"status":"requested"}`},
		{"unparsed", &AgentUnparsedData{Error: "e", Location: "l"}, `{"error":"e","location":"l","raw_hash":null}`},
		{"envelope", Event{EventID: "evt_1", Sequence: 1, Time: "t", SessionID: "s", Source: SourceDaemon, Synthetic: true,
			Type: EventTurnEnded, Data: &TurnEventData{Phase: PhaseEnded}},
			`{"event_id":"evt_1","sequence":1,"time":"t","session_id":"s","native_session_id":null,"synthetic":true,"source":"daemon","type":"turn.ended","data":{"phase":"ended"},"raw":null}`},
		{"session info", SessionInfo{SessionID: "s", Agent: "mock", AgentMode: "build", PermissionMode: "default"},
			`{"sessionId":"s","agent":"mock","agentMode":"build","permissionMode":"default","model":null,"variant":null,"nativeSessionId":null,"ended":false,"eventCount":0,"createdAt":0,"updatedAt":0,"directory":null,"title":null}`},
		{"agent info", AgentInfo{ID: "mock"}, `{"id":"mock","installed":false,"credentialsAvailable":false,"capabilities":{"planMode":false,"permissions":false,"questions":false,"toolCalls":false,"toolResults":false,"textMessages":false,"images":false,"fileAttachments":false,"sessionLifecycle":false,"errorEvents":false,"reasoning":false,"status":false,"commandExecution":false,"fileChanges":false,"mcpTools":false,"streamingDeltas":false,"itemStarted":false,"sharedProcess":false}}`},
		{"mcp local", McpServerConfig{Type: McpLocal, Command: []string{"npx"}}, `{"type":"local","command":"npx"}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.v)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(b) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, b, c.want)
		}
	}
}

func TestEventRoundTrip(t *testing.T) {
	in := `{"event_id":"evt_3","sequence":3,"time":"t","session_id":"s","native_session_id":"n","synthetic":false,"source":"agent","type":"item.completed","data":{"item":{"item_id":"itm_1","native_item_id":"x","parent_id":null,"kind":"tool_result","role":"tool","content":[{"type":"tool_result","call_id":"c","output":"o"},{"type":"file_ref","path":"/p","action":"patch","diff":"@@"}],"status":"failed"}},"raw":{"a":1}}`
	var ev Event
	if err := json.Unmarshal([]byte(in), &ev); err != nil {
		t.Fatal(err)
	}
	d, ok := ev.Data.(*ItemEventData)
	if !ok || d.Item.Content[1].Action != FilePatch || *d.Item.Content[1].Diff != "@@" {
		t.Fatalf("decoded %#v", ev.Data)
	}
	out, _ := json.Marshal(ev)
	if string(out) != in {
		t.Fatalf("round trip:\n got %s\nwant %s", out, in)
	}
	for _, bad := range []string{
		`{"type":"nope","data":{}}`,
		`{"type":"item.completed","data":{"item":{"content":[{"type":"video"}]}}}`,
	} {
		if json.Unmarshal([]byte(bad), &ev) == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestMcpAliases(t *testing.T) {
	var c McpServerConfig
	in := `{"type":"http","url":"https://x","bearer_token_env_var":"T","env_http_headers":{"A":"B"},"timeout":5,"oauth":false}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(c)
	if want := `{"type":"remote","url":"https://x","bearerTokenEnvVar":"T","envHeaders":{"A":"B"},"oauth":false,"timeoutMs":5}`; string(out) != want {
		t.Fatalf("got %s", out)
	}
	for _, bad := range []string{`{"type":"local","command":[]}`, `{"type":"local"}`, `{"type":"remote"}`, `{"type":"x"}`, `{"type":"remote","url":"u","transport":"ws"}`} {
		if json.Unmarshal([]byte(bad), &c) == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
