package fakellm

import (
	"encoding/json"
	"strings"
)

// Markers returns a Step that reads its reply from markers in the newest user
// text, the convention of the fake server the fixtures in
// shared/fixtures/native were captured with. It suits prompt-driven tests
// and manual runs, where the prompt rather than a script says what happens:
//
//	FAKE_BASH: <command>            run command with the shell tool
//	FAKE_WRITE: <path> <content>    write a file with the write tool
//	FAKE_PATCH: <path> <content>    Codex apply_patch adding the file
//	FAKE_TOOL: <name> <json>        call any tool with that exact input
//	FAKE_TEXT: <text>               reply with text
//
// A marker's value runs to the end of its line; one trailing double quote is
// dropped because `opencode run` quotes the prompt. When the request carries
// tool results sent since the model's last reply, the answer is instead
// "FAKE_DONE: " and the first 200 characters of the newest result. Without a
// marker the reply is Text(DefaultText).
func Markers() Step { return Step{Markers: true} }

func markersReply(r *Request) Step {
	if res := r.LatestToolResults(); len(res) > 0 {
		out := []rune(res[len(res)-1].Output)
		if len(out) > 200 {
			out = out[:200]
		}
		return Text("FAKE_DONE: " + string(out))
	}
	kind, value := findMarker(r.LastUserText())
	switch kind {
	case "FAKE_BASH:":
		return Bash(value)
	case "FAKE_WRITE:":
		path, content, _ := strings.Cut(value, " ")
		return Write(path, content)
	case "FAKE_PATCH:":
		path, content, _ := strings.Cut(value, " ")
		return ApplyPatch(AddFilePatch(path, content))
	case "FAKE_TOOL:":
		name, input, _ := strings.Cut(value, " ")
		input = strings.TrimSpace(input)
		if input == "" || !json.Valid([]byte(input)) {
			input = "{}"
		}
		return Tool(name, json.RawMessage(input))
	case "FAKE_TEXT:":
		return Text(value)
	}
	return Text(DefaultText)
}

var markerKinds = []string{"FAKE_BASH:", "FAKE_WRITE:", "FAKE_PATCH:", "FAKE_TOOL:", "FAKE_TEXT:"}

// findMarker returns the first marker in text and its value.
func findMarker(text string) (kind, value string) {
	at := -1
	for _, k := range markerKinds {
		if i := strings.Index(text, k); i >= 0 && (at < 0 || i < at) {
			at, kind = i, k
		}
	}
	if at < 0 {
		return "", ""
	}
	value = text[at+len(kind):]
	if nl := strings.IndexByte(value, '\n'); nl >= 0 {
		value = value[:nl]
	}
	value = strings.TrimSpace(value)
	value = strings.TrimSuffix(value, `"`)
	return kind, value
}
