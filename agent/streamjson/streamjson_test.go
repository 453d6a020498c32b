package streamjson

import (
	"encoding/json"
	"testing"
)

func TestBlocks(t *testing.T) {
	bs, err := Blocks(json.RawMessage(`"hi"`))
	if err != nil || len(bs) != 1 || bs[0].Type != "text" || bs[0].Text != "hi" || string(bs[0].Raw) != `{"text":"hi","type":"text"}` {
		t.Fatalf("string content: %+v %v", bs, err)
	}
	bs, err = Blocks(json.RawMessage(`[{"type":"text","text":"a"},{"type":"tool_use","id":"t1","name":"Bash","input":{"cmd":"ls"}},{"type":"text","text":"b"}]`))
	if err != nil || len(bs) != 3 || bs[1].ID != "t1" || string(bs[1].Raw) != `{"type":"tool_use","id":"t1","name":"Bash","input":{"cmd":"ls"}}` {
		t.Fatalf("block list: %+v %v", bs, err)
	}
	if got := BlocksText(bs); got != "a\nb" {
		t.Errorf("BlocksText = %q", got)
	}
	if _, err := Blocks(json.RawMessage(`{"type":"text"}`)); err == nil {
		t.Error("an object is not content")
	}
	if bs, err := Blocks(json.RawMessage(`null`)); err != nil || bs != nil {
		t.Errorf("null content: %v %v", bs, err)
	}
}

func TestResultText(t *testing.T) {
	for in, want := range map[string]string{
		`"plain"`: "plain",
		`[{"type":"text","text":"a"},{"type":"image","source":{}},{"type":"tool_reference","tool_name":"Grep"},{"type":"other","x":1}]`: "a\n[image]\nGrep\n" + `{"type":"other","x":1}`,
		`{"k": 1}`: `{"k":1}`,
		``:         "",
	} {
		if got := ResultText(json.RawMessage(in)); got != want {
			t.Errorf("ResultText(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestHelpers(t *testing.T) {
	if !IsNull(nil) || !IsNull(json.RawMessage(" null ")) || IsNull(json.RawMessage("0")) {
		t.Error("IsNull")
	}
	if string(CompactJSON(json.RawMessage("{ \"a\" : 1 }"))) != `{"a":1}` || string(CompactJSON(json.RawMessage("{"))) != "{}" {
		t.Error("CompactJSON")
	}
	if string(RawOr(nil, "[]")) != "[]" || string(RawOr(json.RawMessage("1"), "[]")) != "1" {
		t.Error("RawOr")
	}
	if string(JSONString([]byte(`a"b`))) != `"a\"b"` {
		t.Error("JSONString")
	}
	if !IsToolUse("mcp_tool_use") || IsToolUse("tool_result") || !IsToolResult("web_search_tool_result") {
		t.Error("IsToolUse/IsToolResult")
	}
}
