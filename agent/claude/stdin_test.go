package claude

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

func TestControlLines(t *testing.T) {
	cases := map[string]struct {
		got  []byte
		want string
	}{
		"initialize": {InitializeLine("i1"), `{"type":"control_request","request_id":"i1","request":{"subtype":"initialize","hooks":null}}`},
		"interrupt":  {InterruptLine("x1"), `{"type":"control_request","request_id":"x1","request":{"subtype":"interrupt"}}`},
		"mode":       {SetPermissionModeLine("m1", "plan"), `{"type":"control_request","request_id":"m1","request":{"subtype":"set_permission_mode","mode":"plan"}}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assertJSONEqual(t, []byte(tc.want), tc.got) })
	}
}

func TestUserLineAttachments(t *testing.T) {
	dir := t.TempDir()
	png := []byte("\x89PNG\r\n\x1a\nfake")
	if err := os.WriteFile(filepath.Join(dir, "shot.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.md"), []byte("# Notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blob.bin"), []byte{0xff, 0xfe, 0x00}, 0o644); err != nil {
		t.Fatal(err)
	}
	pdf := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4"))
	p := agent.Prompt{Text: "look", Attachments: []schema.MessageAttachment{
		{Path: "shot.png"},
		{Path: filepath.Join(dir, "notes.md")},
		{Path: "https://example.com/cat.jpg"},
		{Path: "data:application/pdf;base64," + pdf, Filename: schema.Ptr("spec.pdf")},
		{Path: "blob.bin", MIME: schema.Ptr("application/octet-stream")},
		{Path: "https://example.com/report", MIME: schema.Ptr("application/pdf")},
	}}
	line, err := UserLine(p, "sess-1", dir)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"user","parent_tool_use_id":null,"session_id":"sess-1","message":{"role":"user","content":[
		{"type":"text","text":"look"},
		{"type":"image","source":{"type":"base64","media_type":"image/png","data":"` + base64.StdEncoding.EncodeToString(png) + `"}},
		{"type":"document","source":{"type":"text","media_type":"text/plain","data":"# Notes\n"},"title":"notes.md"},
		{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},
		{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"` + pdf + `"},"title":"spec.pdf"},
		{"type":"text","text":"Attached file: ` + filepath.Join(dir, "blob.bin") + ` (application/octet-stream, 3 bytes)"},
		{"type":"document","source":{"type":"url","url":"https://example.com/report"}}
	]}}`
	assertJSONEqual(t, []byte(want), line)
}

func TestUserLineMissingAttachment(t *testing.T) {
	_, err := UserLine(agent.Prompt{Text: "x", Attachments: []schema.MessageAttachment{{Path: "/nonexistent/file.png"}}}, "", "")
	if !errors.Is(err, agent.ErrInvalidRequest) {
		t.Errorf("err = %v, want invalid request", err)
	}
	_, err = UserLine(agent.Prompt{Text: "x", Attachments: []schema.MessageAttachment{{Path: "data:image/png;base64,%%%"}}}, "", "")
	if !errors.Is(err, agent.ErrInvalidRequest) {
		t.Errorf("bad data URL: err = %v, want invalid request", err)
	}
}

func TestUserMessageItem(t *testing.T) {
	c := NewConverter()
	c.SetSessionID("s1")
	ds := c.UserMessage(agent.Prompt{Text: "hi", Attachments: []schema.MessageAttachment{
		{Path: "/w/a.png"}, {Path: "/w/b.txt"}, {Path: "data:image/jpeg;base64,AAAA", Filename: schema.Ptr("c.jpg")},
	}})
	if len(ds) != 2 || ds[0].Type != schema.EventItemStarted || ds[1].Type != schema.EventItemCompleted {
		t.Fatalf("drafts = %+v", ds)
	}
	it := ds[1].Data.(*schema.ItemEventData).Item
	want := schema.Item{
		NativeItemID: schema.Ptr("user_1"), Kind: schema.KindMessage, Role: schema.Ptr(schema.RoleUser), Status: schema.StatusCompleted,
		Content: []schema.ContentPart{
			schema.Text("hi"),
			schema.Image("/w/a.png", schema.Ptr("image/png")),
			schema.FileRef("/w/b.txt", schema.FileRead, nil),
			schema.Image("c.jpg", schema.Ptr("image/jpeg")),
		},
	}
	if diff := cmp.Diff(want, it); diff != "" {
		t.Errorf("item (-want +got):\n%s", diff)
	}
	if ds[0].NativeSessionID != "s1" {
		t.Errorf("native session id = %q", ds[0].NativeSessionID)
	}
	if id := *c.UserMessage(agent.Prompt{Text: "again"})[0].Data.(*schema.ItemEventData).Item.NativeItemID; id != "user_2" {
		t.Errorf("second user item id = %q", id)
	}
}

func TestResultErrors(t *testing.T) {
	cases := []struct {
		name, line, code string
	}{
		{"max turns", `{"type":"result","subtype":"error_max_turns","is_error":true,"errors":["Reached maximum number of turns (3)"]}`, "error_max_turns"},
		{"not logged in", `{"type":"result","subtype":"success","is_error":true,"result":"Not logged in · Please run /login"}`, CodeAuthentication},
		{"overloaded", `{"type":"result","subtype":"success","is_error":true,"api_error_status":529,"result":"API Error: 529 Overloaded"}`, CodeOverloaded},
		{"server", `{"type":"result","subtype":"success","is_error":true,"api_error_status":500,"result":"API Error: 500"}`, CodeServerError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ds := NewConverter().Line([]byte(tc.line))
			if len(ds) != 2 || ds[0].Type != schema.EventError || ds[1].Type != schema.EventTurnEnded {
				t.Fatalf("drafts = %+v", ds)
			}
			if code := schema.Deref(ds[0].Data.(*schema.ErrorData).Code); code != tc.code {
				t.Errorf("code = %q, want %q", code, tc.code)
			}
		})
	}
}

func TestInterruptedTurnHasNoError(t *testing.T) {
	c := NewConverter()
	c.NoteInterrupt()
	ds := c.Line([]byte(`{"type":"result","subtype":"error_during_execution","is_error":true,"errors":[]}`))
	if len(ds) != 1 || ds[0].Type != schema.EventTurnEnded {
		t.Fatalf("drafts = %+v", ds)
	}
	var meta map[string]any
	_ = json.Unmarshal(ds[0].Data.(*schema.TurnEventData).Metadata, &meta)
	if meta["interrupted"] != true {
		t.Errorf("metadata = %v", meta)
	}
	// The next turn's failure is reported again.
	ds = c.Line([]byte(`{"type":"result","subtype":"error_during_execution","is_error":true,"errors":["boom"]}`))
	if len(ds) != 2 || ds[0].Type != schema.EventError {
		t.Fatalf("drafts = %+v", ds)
	}
}

func TestFlushCompletesAnInterruptedToolCall(t *testing.T) {
	c := NewConverter()
	for _, l := range []string{
		`{"type":"stream_event","event":{"type":"message_start","message":{"id":"m1"}}}`,
		`{"type":"stream_event","event":{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"Bash","input":{}}}}`,
		`{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"command\":\"ls\"}"}}}`,
	} {
		c.Line([]byte(l))
	}
	ds := c.Flush()
	if len(ds) != 2 {
		t.Fatalf("drafts = %+v", ds)
	}
	call := ds[0].Data.(*schema.ItemEventData).Item
	if call.Status != schema.StatusFailed || call.Content[0].Arguments != `{"command":"ls"}` {
		t.Errorf("call = %+v", call)
	}
	if msg := ds[1].Data.(*schema.ItemEventData).Item; schema.Deref(msg.NativeItemID) != "m1" || msg.Status != schema.StatusFailed {
		t.Errorf("message = %+v", msg)
	}
}

func TestSessionStartedOncePerNativeSession(t *testing.T) {
	c := NewConverter()
	init := func(id string) int {
		n := 0
		for _, d := range c.Line([]byte(`{"type":"system","subtype":"init","session_id":"` + id + `","model":"m"}`)) {
			if d.Type == schema.EventSessionStarted {
				n++
			}
		}
		return n
	}
	if init("a") != 1 || init("a") != 0 || init("b") != 1 {
		t.Error("session.started not once per native session id")
	}
	if c.SessionID() != "b" {
		t.Errorf("SessionID = %q", c.SessionID())
	}
}
