package claude

import (
	"encoding/json"
	"regexp"
	"strconv"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Tool-specific content of tool_call and tool_result items.
//
//   - Bash: the call gets a json part {"command", "description"?}; its
//     result a json part {"command", "exitCode", "stdout"?, "stderr"?,
//     "interrupted"?}. exitCode is 0 for a successful run, the number the
//     CLI reports ("Exit code N") for a failed one, null when unknown
//     (denied, interrupted).
//   - Write, Edit, MultiEdit, NotebookEdit: the call gets a file_ref part
//     (action write or patch) with a unified-style diff derived from the
//     input: Write as an all-added hunk, Edit/MultiEdit as one -/+ hunk per
//     edit (the CLI does not tell line numbers in the call), NotebookEdit
//     without a diff.
//   - Read: the call gets a file_ref part with action read.

// callParts is the content of a tool_call item.
func callParts(name string, input json.RawMessage, id string) []schema.ContentPart {
	parts := []schema.ContentPart{schema.ToolCall(name, string(input), id)}
	var in struct {
		Command      string `json:"command"`
		Description  string `json:"description"`
		FilePath     string `json:"file_path"`
		NotebookPath string `json:"notebook_path"`
		Content      string `json:"content"`
		OldString    string `json:"old_string"`
		NewString    string `json:"new_string"`
		Edits        []edit `json:"edits"`
	}
	if json.Unmarshal(input, &in) != nil {
		return parts
	}
	switch name {
	case "Bash":
		cmd := map[string]string{"command": in.Command}
		if in.Description != "" {
			cmd["description"] = in.Description
		}
		parts = append(parts, schema.JSONPart(cmd))
	case "Write":
		if in.FilePath != "" {
			parts = append(parts, schema.FileRef(in.FilePath, schema.FileWrite, agent.WriteDiff(in.FilePath, in.Content)))
		}
	case "Edit":
		if in.FilePath != "" {
			parts = append(parts, schema.FileRef(in.FilePath, schema.FilePatch,
				editDiff(in.FilePath, []edit{{OldString: in.OldString, NewString: in.NewString}})))
		}
	case "MultiEdit":
		if in.FilePath != "" {
			parts = append(parts, schema.FileRef(in.FilePath, schema.FilePatch, editDiff(in.FilePath, in.Edits)))
		}
	case "NotebookEdit":
		if in.NotebookPath != "" {
			parts = append(parts, schema.FileRef(in.NotebookPath, schema.FilePatch, nil))
		}
	case "Read":
		if in.FilePath != "" {
			parts = append(parts, schema.FileRef(in.FilePath, schema.FileRead, nil))
		}
	}
	return parts
}

type edit struct {
	OldString string `json:"old_string"`
	NewString string `json:"new_string"`
}

func editDiff(path string, edits []edit) *string {
	es := make([]agent.Edit, len(edits))
	for i, e := range edits {
		es[i] = agent.Edit{Old: e.OldString, New: e.NewString}
	}
	return agent.EditDiff(path, es...)
}

var exitCodeRe = regexp.MustCompile(`(?m)^(?:Error: )?Exit code (-?\d+)`)

// resultExtras is what a tool_result item carries besides its output.
func resultExtras(call toolUse, output string, isError bool, side json.RawMessage) []schema.ContentPart {
	if call.name != "Bash" {
		return nil
	}
	var in struct {
		Command string `json:"command"`
	}
	_ = json.Unmarshal(call.input, &in)
	res := map[string]any{"command": in.Command, "exitCode": nil}
	var s struct {
		Stdout      *string `json:"stdout"`
		Stderr      *string `json:"stderr"`
		Interrupted bool    `json:"interrupted"`
	}
	if json.Unmarshal(side, &s) == nil {
		if s.Stdout != nil {
			res["stdout"] = *s.Stdout
		}
		if s.Stderr != nil {
			res["stderr"] = *s.Stderr
		}
		if s.Interrupted {
			res["interrupted"] = true
		}
	}
	switch m := exitCodeRe.FindStringSubmatch(output); {
	case m != nil:
		if n, err := strconv.Atoi(m[1]); err == nil {
			res["exitCode"] = n
		}
	case !isError && !s.Interrupted:
		res["exitCode"] = 0
	}
	return []schema.ContentPart{schema.JSONPart(res)}
}
