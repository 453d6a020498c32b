package opencode

import (
	"encoding/json"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// toolInput holds the arguments of OpenCode's built-in tools that the
// transcript shows beyond the raw call: bash {command, description},
// write {filePath, content}, edit {filePath, oldString, newString},
// read {filePath}.
type toolInput struct {
	Command     string `json:"command"`
	Description string `json:"description"`
	FilePath    string `json:"filePath"`
	Content     string `json:"content"`
	OldString   string `json:"oldString"`
	NewString   string `json:"newString"`
}

// callParts is a tool call's content: the call itself, then what it is
// about (a command, a file write or patch with its diff, a file read).
func callParts(name string, input json.RawMessage, callID string) []schema.ContentPart {
	parts := []schema.ContentPart{schema.ToolCall(name, string(input), callID)}
	var in toolInput
	if json.Unmarshal(input, &in) != nil {
		return parts
	}
	switch name {
	case "bash":
		cmd := map[string]string{"command": in.Command}
		if in.Description != "" {
			cmd["description"] = in.Description
		}
		parts = append(parts, schema.JSONPart(cmd))
	case "write":
		if in.FilePath != "" {
			parts = append(parts, schema.FileRef(in.FilePath, schema.FileWrite, agent.WriteDiff(in.FilePath, in.Content)))
		}
	case "edit":
		if in.FilePath != "" {
			parts = append(parts, schema.FileRef(in.FilePath, schema.FilePatch, agent.EditDiff(in.FilePath, agent.Edit{Old: in.OldString, New: in.NewString})))
		}
	case "read":
		if in.FilePath != "" {
			parts = append(parts, schema.FileRef(in.FilePath, schema.FileRead, nil))
		}
	}
	return parts
}

// resultExtras adds to a tool result what its metadata tells: a command's
// exit code and output, the diff OpenCode computed for an edit.
func resultExtras(name string, input json.RawMessage, st *toolState) []schema.ContentPart {
	var in toolInput
	_ = json.Unmarshal(input, &in)
	var md struct {
		Exit      *int    `json:"exit"`
		Output    *string `json:"output"`
		Truncated bool    `json:"truncated"`
		Diff      string  `json:"diff"`
		FilePath  string  `json:"filepath"`
	}
	_ = json.Unmarshal(st.Metadata, &md)
	switch name {
	case "bash":
		res := map[string]any{"command": in.Command, "exitCode": md.Exit}
		if md.Output != nil {
			res["output"] = *md.Output
		}
		if md.Truncated {
			res["truncated"] = true
		}
		return []schema.ContentPart{schema.JSONPart(res)}
	case "edit":
		path := in.FilePath
		if path == "" {
			path = md.FilePath
		}
		if path != "" && md.Diff != "" {
			return []schema.ContentPart{schema.FileRef(path, schema.FilePatch, schema.Ptr(md.Diff))}
		}
	}
	return nil
}
