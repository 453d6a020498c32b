package mock

import (
	"encoding/json"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// The building blocks of the scripts. Each returns the drafts of one
// transcript feature, with the reference's native ids (<prefix>_<name>) and
// contents. Items are started with the content they complete with unless a
// block says otherwise; the session fills in missing deltas itself.

// assistantMessage is a plain assistant text message.
func assistantMessage(id, text string) []agent.Draft {
	return startComplete(agent.Message(id, schema.RoleAssistant, schema.Text(text)))
}

// startComplete starts and completes one item.
func startComplete(it schema.Item) []agent.Draft {
	return []agent.Draft{agent.ItemStarted(it, nil), agent.ItemCompleted(it, nil)}
}

// richMessage is an assistant message with reasoning and json parts,
// streamed as two deltas.
func richMessage(p string) []agent.Draft {
	id := p + "_assistant_rich"
	it := agent.Message(id, schema.RoleAssistant,
		schema.Text("Mock assistant response with rich content."),
		schema.Reasoning("Public reasoning: the question is simple, so a short answer will do.", schema.VisibilityPublic),
		schema.Reasoning("Private reasoning: hidden from the user by default.", schema.VisibilityPrivate),
		schema.JSONPart(json.RawMessage(`{"stage":"analysis","ok":true}`)),
	)
	return []agent.Draft{
		agent.ItemStarted(it, nil),
		agent.Delta(id, "Mock assistant ", nil),
		agent.Delta(id, "streaming delta.", nil),
		agent.ItemCompleted(it, nil),
	}
}

// statusItem is a status line whose detail changes on completion.
func statusItem(p string) []agent.Draft {
	it := schema.Item{
		NativeItemID: schema.Ptr(p + "_status"), Kind: schema.KindStatus, Role: schema.Ptr(schema.RoleAssistant),
		Content: []schema.ContentPart{schema.Status("Indexing", schema.Ptr("2 files"))},
	}
	done := it
	done.Content = []schema.ContentPart{schema.Status("Indexing", schema.Ptr("Done"))}
	return []agent.Draft{agent.ItemStarted(it, nil), agent.ItemCompleted(done, nil)}
}

// systemMessage is a system item.
func systemMessage(p string) []agent.Draft {
	return startComplete(schema.Item{
		NativeItemID: schema.Ptr(p + "_system"), Kind: schema.KindSystem, Role: schema.Ptr(schema.RoleSystem),
		Content: []schema.ContentPart{schema.Text("System message from the mock agent.")},
	})
}

// markdownChunks are streamed one delta each; joined they are the document.
var markdownChunks = []string{
	"# Mock markdown\n\n",
	"This message exercises **bold**, *italic*, ~~strikethrough~~ and `inline code`.\n\n",
	"## Lists\n\n- first item\n- second item\n  - nested item\n\n",
	"1. step one\n2. step two\n\n",
	"## Code\n\n```go\nfmt.Println(\"hello from the mock agent\")\n```\n\n",
	"> A quote with a [link](https://sandboxagent.dev).\n\n",
	"| name | value |\n| ---- | ----- |\n| mock | true  |\n\n",
	"---\n\nEnd of the mock markdown document.\n",
}

// markdownMessage starts with a placeholder, streams eight deltas and
// completes with the whole document.
func markdownMessage(p string) []agent.Draft {
	id := p + "_markdown"
	full := strings.Join(markdownChunks, "")
	out := []agent.Draft{agent.ItemStarted(agent.Message(id, schema.RoleAssistant, schema.Text("Rendering markdown...")), nil)}
	for _, c := range markdownChunks {
		out = append(out, agent.Delta(id, c, nil))
	}
	return append(out, agent.ItemCompleted(agent.Message(id, schema.RoleAssistant, schema.Text(full)), nil))
}

// toolCall is a tool_call item.
func toolCall(p, name, arguments string) []agent.Draft {
	return startComplete(schema.Item{
		NativeItemID: schema.Ptr(p + "_tool_call"), Kind: schema.KindToolCall, Role: schema.Ptr(schema.RoleAssistant),
		Content: []schema.ContentPart{schema.ToolCall(name, arguments, p+"_call")},
	})
}

// toolSequence is the reference's tool block: a search call and a result
// carrying file references that ends failed.
func toolSequence(p string) []agent.Draft {
	res := schema.Item{
		NativeItemID: schema.Ptr(p + "_tool_result"), Kind: schema.KindToolResult, Role: schema.Ptr(schema.RoleTool),
		Content: []schema.ContentPart{
			schema.ToolResult(p+"_call", "mock search results"),
			schema.FileRef(p+"/readme.md", schema.FileRead, nil),
			schema.FileRef(p+"/output.txt", schema.FileWrite, schema.Ptr("+mock output\n")),
			schema.FileRef(p+"/patch.txt", schema.FilePatch, schema.Ptr("@@ -1,1 +1,1 @@\n-old\n+new\n")),
		},
	}
	failed := res
	failed.Status = schema.StatusFailed
	out := toolCall(p, "mock.search", `{"query":"example"}`)
	return append(out, agent.ItemStarted(res, nil), agent.ItemCompleted(failed, nil))
}

// lsListing is what the approved `ls` "prints".
const lsListing = "README.md\nmain.go\nmock.txt\n"

// lsToolSequence is the tool run after an approved `ls` permission.
func lsToolSequence(p string) []agent.Draft {
	out := toolCall(p, "bash", `{"command":"ls"}`)
	return append(out, startComplete(schema.Item{
		NativeItemID: schema.Ptr(p + "_tool_result"), Kind: schema.KindToolResult, Role: schema.Ptr(schema.RoleTool),
		Content: []schema.ContentPart{schema.ToolResult(p+"_call", lsListing)},
	})...)
}

// imageMessage is an assistant message with an image part.
func imageMessage(p string) []agent.Draft {
	return startComplete(agent.Message(p+"_image", schema.RoleAssistant,
		schema.Text("Here is a mock image."),
		schema.Image(p+"/image.png", schema.Ptr("image/png")),
	))
}

// unknownItem is an item of a kind the schema does not know.
func unknownItem(p string) []agent.Draft {
	return startComplete(schema.Item{
		NativeItemID: schema.Ptr(p + "_unknown"), Kind: schema.KindUnknown, Role: schema.Ptr(schema.RoleAssistant),
		Content: []schema.ContentPart{schema.Text("Mock item of an unknown kind.")},
	})
}

func permissionRequest(id, action, metadata string) agent.Draft {
	return agent.Draft{Type: schema.EventPermissionRequested, Data: &schema.PermissionEventData{
		PermissionID: id, Action: action, Status: schema.PermissionRequested, Metadata: json.RawMessage(metadata),
	}}
}

// singlePermission asks to run `ls`.
func singlePermission(p string) []agent.Draft {
	return []agent.Draft{permissionRequest(p+"_permission", "command_execution",
		`{"codexRequestKind":"commandExecution","command":"ls"}`)}
}

// permissions asks to run a command and to change a file.
func permissions(p string) []agent.Draft {
	return []agent.Draft{
		permissionRequest(p+"_permission", "command_execution",
			`{"codexRequestKind":"commandExecution","command":"echo mock"}`),
		permissionRequest(p+"_permission_denied", "file_change",
			`{"codexRequestKind":"fileChange","path":"`+p+`/deny.txt"}`),
	}
}

func questionRequest(id, prompt string, options ...string) agent.Draft {
	return agent.Draft{Type: schema.EventQuestionRequested, Data: &schema.QuestionEventData{
		QuestionID: id, Prompt: prompt, Options: options, Status: schema.QuestionRequested,
	}}
}

// singleQuestion asks a yes/no question.
func singleQuestion(p string) []agent.Draft {
	return []agent.Draft{questionRequest(p+"_question", "Proceed?", "Yes", "No")}
}

// questions asks two questions.
func questions(p string) []agent.Draft {
	return []agent.Draft{
		questionRequest(p+"_question", "Choose a color", "Red", "Blue"),
		questionRequest(p+"_question_reject", "Allow mock experiment?", "Yes", "No"),
	}
}

// unparsed is an agent payload the mock pretends it could not read.
func unparsed() agent.Draft {
	return agent.Unparsed("mock.stream", "unsupported payload", json.RawMessage(`{"raw":"mock"}`))
}

// errorEvents is a synthetic error followed by an unparsed payload.
func errorEvents() []agent.Draft {
	e := agent.ErrorEvent("Mock error event.", "mock_error", json.RawMessage(`{"mock":true}`), nil)
	e.Synthetic = true
	return []agent.Draft{e, unparsed()}
}

// sessionEnded ends the session as completed by the agent.
func sessionEnded() agent.Draft {
	d := agent.SessionEnded(schema.SessionEndedData{Reason: schema.EndCompleted, TerminatedBy: schema.ByAgent})
	d.Synthetic = true
	return d
}
