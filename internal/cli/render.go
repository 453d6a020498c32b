package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// renderer prints events: one JSON line each, or for a person text as it
// arrives, tool calls and results, HITL prompts and errors, one per line.
type renderer struct {
	w        io.Writer
	json     bool
	showUser bool // print the user's own messages (a transcript, not a turn)

	kinds    map[string]schema.ItemKind
	thinking map[string]bool // items holding reasoning: their deltas are thoughts
	streamed map[string]bool // items whose text came as deltas
	current  string          // the item the last delta belonged to
	midLine  bool            // the last write did not end a line
}

func newRenderer(w io.Writer, jsonLines, showUser bool) *renderer {
	return &renderer{w: w, json: jsonLines, showUser: showUser, kinds: map[string]schema.ItemKind{},
		thinking: map[string]bool{}, streamed: map[string]bool{}}
}

func (r *renderer) event(ev schema.Event) error {
	if r.json {
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(r.w, "%s\n", b)
		return err
	}
	switch d := ev.Data.(type) {
	case *schema.ItemEventData:
		if ev.Type == schema.EventItemStarted {
			r.kinds[d.Item.ItemID] = d.Item.Kind
			for _, p := range d.Item.Content {
				if p.Type == schema.PartReasoning {
					r.thinking[d.Item.ItemID] = true
				}
			}
			return nil
		}
		r.item(d.Item)
	case *schema.ItemDeltaData:
		if k, ok := r.kinds[d.ItemID]; ok && k != schema.KindMessage || d.Delta == "" {
			return nil
		}
		if r.current != d.ItemID {
			r.endLine() // another item was streaming
			r.current = d.ItemID
		}
		if !r.streamed[d.ItemID] && r.thinking[d.ItemID] {
			io.WriteString(r.w, "(thinking) ")
		}
		r.streamed[d.ItemID] = true
		r.midLine = !strings.HasSuffix(d.Delta, "\n")
		_, err := io.WriteString(r.w, d.Delta)
		return err
	case *schema.ErrorData:
		code := ""
		if d.Code != nil {
			code = " (" + *d.Code + ")"
		}
		r.line("! error: %s%s", d.Message, code)
	case *schema.AgentUnparsedData:
		r.line("! unparsed agent output at %s: %s", d.Location, d.Error)
	case *schema.PermissionEventData:
		if ev.Type == schema.EventPermissionRequested {
			r.line("? permission %s: %s%s", d.PermissionID, d.Action, summary(d.Metadata))
		} else {
			r.line("  permission %s: %s", d.PermissionID, d.Status)
		}
	case *schema.QuestionEventData:
		if ev.Type == schema.EventQuestionRequested {
			r.line("? question %s: %s", d.QuestionID, d.Prompt)
			for i, opt := range d.Options {
				r.line("    %d) %s", i+1, opt)
			}
		} else {
			r.line("  question %s: %s %s", d.QuestionID, d.Status, deref(d.Response, ""))
		}
	case *schema.SessionEndedData:
		msg := fmt.Sprintf("-- session ended: %s (by %s)", d.Reason, d.TerminatedBy)
		if d.Message != nil {
			msg += ": " + *d.Message
		}
		if d.ExitCode != nil {
			msg += fmt.Sprintf(", exit code %d", *d.ExitCode)
		}
		r.line("%s", msg)
	}
	return nil
}

// item prints a completed item.
func (r *renderer) item(it schema.Item) {
	role := schema.ItemRole("")
	if it.Role != nil {
		role = *it.Role
	}
	switch it.Kind {
	case schema.KindMessage, schema.KindUnknown, schema.KindSystem:
		if role == schema.RoleUser && !r.showUser {
			return
		}
		prefix := ""
		switch {
		case role == schema.RoleUser:
			prefix = "> "
		case it.Kind == schema.KindSystem:
			prefix = "[system] "
		}
		if r.streamed[it.ItemID] {
			// The deltas were the text (or the thoughts).
			r.endLine()
			r.parts(it.Content, schema.PartText, schema.PartReasoning)
			return
		}
		if t := it.Text(); t != "" {
			r.line("%s%s", prefix, t)
		}
		r.parts(it.Content, schema.PartText)
	case schema.KindToolCall, schema.KindToolResult, schema.KindStatus:
		// A tool's JSON part repeats its arguments or output in full.
		r.parts(it.Content, schema.PartJSON)
		if it.Status == schema.StatusFailed {
			r.line("  (failed)")
		}
	}
}

// parts prints the content parts other than those of the skipped types.
func (r *renderer) parts(ps []schema.ContentPart, skip ...schema.PartType) {
outer:
	for _, p := range ps {
		for _, s := range skip {
			if p.Type == s {
				continue outer
			}
		}
		switch p.Type {
		case schema.PartText:
			r.line("%s", p.Text)
		case schema.PartReasoning:
			r.line("(thinking) %s", p.Text)
		case schema.PartToolCall:
			r.line("-> %s %s", p.Name, p.Arguments)
		case schema.PartToolResult:
			r.line("<- %s", indentTail(p.Output, 12))
		case schema.PartFileRef:
			r.line("   %s %s", p.Action, p.Path)
		case schema.PartImage:
			r.line("[image %s]", p.Path)
		case schema.PartStatus:
			r.line("· %s%s", p.Label, prefixed(": ", p.Detail))
		case schema.PartJSON:
			var b bytes.Buffer
			if json.Compact(&b, p.JSON) != nil {
				b.Reset()
				b.Write(p.JSON)
			}
			r.line("%s", b.String())
		}
	}
}

func (r *renderer) endLine() {
	if r.midLine {
		fmt.Fprintln(r.w)
		r.midLine = false
	}
	r.current = ""
}

func (r *renderer) line(format string, a ...any) {
	r.endLine()
	fmt.Fprintf(r.w, format+"\n", a...)
}

func prefixed(pre string, s *string) string {
	if s == nil || *s == "" {
		return ""
	}
	return pre + *s
}

// summary renders a permission's metadata as " (k: v, ...)" for the
// scalar values.
func summary(raw json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range []string{"command", "path", "tool", "toolName", "description"} {
		if v, ok := m[k].(string); ok && v != "" {
			parts = append(parts, k+": "+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// indentTail keeps at most n lines of s, indenting the continuation lines.
func indentTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("… %d more lines", len(lines)-n))
	}
	return strings.Join(lines, "\n   ")
}
