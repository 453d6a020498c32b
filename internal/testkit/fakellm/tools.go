package fakellm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// toolCall is a Call resolved against one request: the exact tool name and
// arguments to put on the wire.
type toolCall struct {
	ID   string
	Name string
	// Args is the JSON argument object of a function call.
	Args string
	// Custom marks a Responses custom_tool_call whose input is Raw.
	Custom bool
	Raw    string
}

// Tool names the agents use for each action, in the order they are looked
// for in the request's tools list. Claude Code uses the capitalized names,
// OpenCode the lower-case ones, Codex exec_command and friends.
var (
	shellTools = []string{"Bash", "bash", "exec_command", "shell_command", "shell", "run_shell_command"}
	writeTools = []string{"Write", "write", "write_file"}
	editTools  = []string{"Edit", "edit", "replace"}
	readTools  = []string{"Read", "read", "read_file"}
	askTools   = []string{"AskUserQuestion", "question", "request_user_input"}
	planTools  = []string{"ExitPlanMode", "plan_exit", "exit_plan_mode"}
)

// defaults are the tool names assumed when the request offers none of the
// candidates, by API.
var defaults = map[Action]map[API]string{
	ActBash:     {APIAnthropic: "Bash", APIResponses: "exec_command", APIChat: "bash", APIGemini: "run_shell_command"},
	ActWrite:    {APIAnthropic: "Write", APIChat: "write", APIGemini: "write_file"},
	ActEdit:     {APIAnthropic: "Edit", APIChat: "edit", APIGemini: "replace"},
	ActRead:     {APIAnthropic: "Read", APIChat: "read", APIGemini: "read_file"},
	ActAsk:      {APIAnthropic: "AskUserQuestion", APIResponses: "request_user_input", APIChat: "question"},
	ActExitPlan: {APIAnthropic: "ExitPlanMode", APIChat: "plan_exit"},
}

// resolveCalls turns c into the wire tool calls for r (one, except for an
// exit-plan proposal that first writes Claude Code's plan file), or into
// plain text when the agent has no tool for the action (Codex plan
// proposals).
func resolveCalls(c Call, r *Request) ([]*toolCall, string) {
	if c.Do == ActExitPlan {
		return exitPlanCalls(c, r)
	}
	call, text := resolveCall(c, r)
	if call == nil {
		return nil, text
	}
	return []*toolCall{call}, ""
}

// planFileRE finds the plan file Claude Code names in its plan-mode
// reminder ("You should create your plan at <path> using the Write tool",
// "A plan file already exists at <path>").
var planFileRE = regexp.MustCompile(`(?:create your plan at|plan file already exists at) (/[^\s"\\]+?\.md)\b`)

// exitPlanCalls proposes c.Plan. Claude Code from 2.1.2xx on takes no plan
// argument: ExitPlanMode is a deferred tool that reads the plan from the
// plan file its plan-mode reminder names, and drops unknown input keys, so
// the plan must be written there first. When the request names such a
// file, the reply is two calls, Write(plan file) then ExitPlanMode, which
// the CLI runs in order (Write is not concurrency-safe).
func exitPlanCalls(c Call, r *Request) ([]*toolCall, string) {
	name, spec, ok := pickTool(r, c.Name, planTools, ActExitPlan)
	if name == "" {
		// Codex has no exit-plan tool: in plan mode it reads the plan
		// from a <proposed_plan> block of the assistant text.
		return nil, "<proposed_plan>\n" + c.Plan + "\n</proposed_plan>"
	}
	args := map[string]any{}
	p := props(spec)
	if (ok && (p == nil || p["plan"] != nil)) || (!ok && name == "ExitPlanMode") {
		args["plan"] = c.Plan
	}
	exit := funcCall(name, args)
	if r.API != APIAnthropic || (ok && p["plan"] != nil) {
		return []*toolCall{exit}, ""
	}
	m := planFileRE.FindSubmatch(r.Body)
	if m == nil {
		return []*toolCall{exit}, ""
	}
	write, _ := resolveCall(Call{Do: ActWrite, Path: string(m[1]), Content: c.Plan + "\n"}, r)
	return []*toolCall{write, exit}, ""
}

// resolveCall turns one call other than ActExitPlan into a wire tool call.
func resolveCall(c Call, r *Request) (*toolCall, string) {
	switch c.Do {
	case ActBash:
		return shellCall(c.Name, c.Command, r), ""
	case ActWrite:
		name, spec, ok := pickTool(r, c.Name, writeTools, ActWrite)
		if name == "" {
			return patchCall(r, AddFilePatch(c.Path, c.Content)), ""
		}
		p := props(spec)
		args := map[string]any{
			pathKey(p, ok, name):          c.Path,
			pick(p, "content", "content"): c.Content,
		}
		return funcCall(name, args), ""
	case ActEdit:
		name, spec, ok := pickTool(r, c.Name, editTools, ActEdit)
		if name == "" {
			return patchCall(r, UpdateFilePatch(c.Path, c.Old, c.New)), ""
		}
		p := props(spec)
		camel := !ok && name == "edit"
		args := map[string]any{
			pathKey(p, ok, name): c.Path,
			pick(p, ifElse(camel, "oldString", "old_string"), "old_string", "oldString"): c.Old,
			pick(p, ifElse(camel, "newString", "new_string"), "new_string", "newString"): c.New,
		}
		if p["instruction"] != nil { // Gemini CLI's replace requires one
			args["instruction"] = "Replace the text in " + c.Path
		}
		return funcCall(name, args), ""
	case ActRead:
		name, spec, ok := pickTool(r, c.Name, readTools, ActRead)
		if name == "" {
			return shellCall("", "cat "+shellQuote(c.Path), r), ""
		}
		return funcCall(name, map[string]any{pathKey(props(spec), ok, name): c.Path}), ""
	case ActAsk:
		name, _, _ := pickTool(r, c.Name, askTools, ActAsk)
		return funcCall(name, map[string]any{"questions": questionsFor(name, c.Questions)}), ""
	}
	return literalCall(c, r), ""
}

func literalCall(c Call, r *Request) *toolCall {
	if c.Raw != "" {
		spec, offered := r.Tool(c.Name)
		if r.API == APIResponses && (!offered || spec.Type == "custom") {
			return &toolCall{Name: c.Name, Custom: true, Raw: c.Raw}
		}
		return funcCall(c.Name, map[string]any{"input": c.Raw})
	}
	args := "{}"
	switch {
	case len(c.Input) == 0:
	case json.Valid(c.Input):
		args = compactJSON(json.RawMessage(c.Input))
	default:
		// Sent as is, so a test can feed an agent malformed arguments.
		args = string(c.Input)
	}
	return &toolCall{Name: c.Name, Args: args}
}

// shellCall runs command with the agent's shell tool, building the arguments
// from that tool's schema: `command` or `cmd`, an argv array when the schema
// says array, and a description when the schema has one.
func shellCall(override, command string, r *Request) *toolCall {
	name, spec, ok := pickTool(r, override, shellTools, ActBash)
	if name == "" {
		name = "bash"
	}
	p := props(spec)
	key := pick(p, ifElse(name == "exec_command", "cmd", "command"), "command", "cmd")
	var value any = command
	if str(asMap(p[key])["type"]) == "array" || (!ok && name == "shell") {
		value = []string{"bash", "-lc", command}
	}
	args := map[string]any{key: value}
	if p["description"] != nil || (!ok && (name == "Bash" || name == "bash")) {
		args["description"] = "Run " + command
	}
	return funcCall(name, args)
}

// patchCall sends an apply_patch: a custom tool call unless the agent
// offered apply_patch as a JSON function tool taking {input}.
func patchCall(r *Request, patch string) *toolCall {
	return literalCall(Call{Name: "apply_patch", Raw: patch}, r)
}

// pickTool finds the tool for an action: the override name, else the first
// offered candidate, else the usual tool of the request's API (empty when
// that API has none, e.g. a write tool for Codex). ok reports whether the
// returned tool was offered, i.e. whether spec is real.
func pickTool(r *Request, override string, candidates []string, act Action) (name string, spec ToolSpec, ok bool) {
	if override != "" {
		spec, ok = r.Tool(override)
		return override, spec, ok
	}
	for _, c := range candidates {
		if spec, ok = r.Tool(c); ok {
			return c, spec, true
		}
	}
	return defaults[act][r.API], ToolSpec{}, false
}

func props(spec ToolSpec) map[string]any { return asMap(spec.Schema["properties"]) }

// pick returns the first candidate key present in props, else def.
func pick(props map[string]any, def string, candidates ...string) string {
	for _, c := range candidates {
		if _, ok := props[c]; ok {
			return c
		}
	}
	return def
}

// pathKey is the file-path argument name: from the schema when the tool was
// offered, else Claude's file_path for capitalized names and OpenCode's
// filePath for lower-case ones.
func pathKey(p map[string]any, offered bool, name string) string {
	def := "file_path"
	if !offered && name != "" && name[0] >= 'a' && name[0] <= 'z' {
		def = "filePath"
	}
	return pick(p, def, "file_path", "filePath", "path", "absolute_path")
}

func funcCall(name string, args map[string]any) *toolCall {
	return &toolCall{Name: name, Args: compactJSON(args)}
}

// questionsFor shapes questions for the named tool: Codex request_user_input
// wants {id, header, question, options}, OpenCode question {question, header,
// options[, multiple]}, Claude AskUserQuestion {question, header, options,
// multiSelect}.
func questionsFor(tool string, qs []Question) []map[string]any {
	out := make([]map[string]any, 0, len(qs))
	for i, q := range qs {
		header := firstNonEmpty(q.Header, "Question")
		opts := make([]map[string]any, 0, len(q.Options))
		for _, o := range q.Options {
			opts = append(opts, map[string]any{"label": o.Label, "description": o.Description})
		}
		m := map[string]any{"question": q.Question, "header": header, "options": opts}
		switch tool {
		case "request_user_input":
			m["id"] = firstNonEmpty(q.ID, slug(q.Header), fmt.Sprintf("q%d", i+1))
		case "question":
			if q.MultiSelect {
				m["multiple"] = true
			}
		default:
			m["multiSelect"] = q.MultiSelect
		}
		out = append(out, m)
	}
	return out
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(nonWord.ReplaceAllString(strings.ToLower(s), "_"), "_")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func ifElse(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// AddFilePatch returns an apply_patch document that creates path with
// content.
func AddFilePatch(path, content string) string {
	var b strings.Builder
	b.WriteString("*** Begin Patch\n*** Add File: " + path + "\n")
	for _, line := range splitLines(content) {
		b.WriteString("+" + line + "\n")
	}
	b.WriteString("*** End Patch")
	return b.String()
}

// UpdateFilePatch returns an apply_patch document that replaces the lines
// old with the lines new in path.
func UpdateFilePatch(path, old, new string) string {
	var b strings.Builder
	b.WriteString("*** Begin Patch\n*** Update File: " + path + "\n@@\n")
	for _, line := range splitLines(old) {
		b.WriteString("-" + line + "\n")
	}
	for _, line := range splitLines(new) {
		b.WriteString("+" + line + "\n")
	}
	b.WriteString("*** End Patch")
	return b.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
