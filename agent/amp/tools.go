package amp

import (
	"encoding/json"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Tool-specific content of tool_call and tool_result items, for Amp's own
// tool names and argument keys (as its tools declare them):
//
//   - Bash {cmd, cwd?}: the call gets a json part {"command", "cwd"?}; its
//     result (Amp's {"output", "exitCode"} rendered as JSON text) a json
//     part {"command", "exitCode", "stdout"?}; exitCode is null when
//     unknown (rejected, cancelled).
//   - create_file {path, content}: a file_ref part (write) with an
//     all-added diff.
//   - edit_file {path, old_str, new_str}: a file_ref part (patch) with a
//     -/+ hunk.
//   - Read {path}: a file_ref part (read).
func callParts(name string, input json.RawMessage, id string) []schema.ContentPart {
	parts := []schema.ContentPart{schema.ToolCall(name, string(input), id)}
	var in struct {
		Cmd     string `json:"cmd"`
		Cwd     string `json:"cwd"`
		Path    string `json:"path"`
		Content string `json:"content"`
		OldStr  string `json:"old_str"`
		NewStr  string `json:"new_str"`
	}
	if json.Unmarshal(input, &in) != nil {
		return parts
	}
	switch name {
	case "Bash":
		cmd := map[string]string{"command": in.Cmd}
		if in.Cwd != "" {
			cmd["cwd"] = in.Cwd
		}
		parts = append(parts, schema.JSONPart(cmd))
	case "create_file":
		if in.Path != "" {
			parts = append(parts, schema.FileRef(in.Path, schema.FileWrite, agent.WriteDiff(in.Path, in.Content)))
		}
	case "edit_file":
		if in.Path != "" {
			parts = append(parts, schema.FileRef(in.Path, schema.FilePatch, agent.EditDiff(in.Path, agent.Edit{Old: in.OldStr, New: in.NewStr})))
		}
	case "Read":
		if in.Path != "" {
			parts = append(parts, schema.FileRef(in.Path, schema.FileRead, nil))
		}
	}
	return parts
}

// resultExtras is what a tool_result item carries besides its output.
func resultExtras(call toolUse, output string, isError bool) []schema.ContentPart {
	if call.name != "Bash" {
		return nil
	}
	var in struct {
		Cmd string `json:"cmd"`
	}
	_ = json.Unmarshal(call.input, &in)
	res := map[string]any{"command": in.Cmd, "exitCode": nil}
	var out struct {
		Output   *string `json:"output"`
		ExitCode *int    `json:"exitCode"`
	}
	if !isError && json.Unmarshal([]byte(output), &out) == nil {
		if out.Output != nil {
			res["stdout"] = *out.Output
		}
		if out.ExitCode != nil {
			res["exitCode"] = *out.ExitCode
		}
	}
	return []schema.ContentPart{schema.JSONPart(res)}
}
