package mock

import (
	"fmt"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// script is what one message makes the mock do.
type script struct {
	steps []agent.Draft
	// follow continues a turn whose steps end with permission or question
	// requests, once every request has an answer. It receives the replies
	// by request id.
	follow func(replies map[string]agent.Reply) []agent.Draft
	// then continues the turn after steps (and follow) were played; the
	// demo uses it to ask, wait for the answers, and go on.
	then *script
}

// The exact prompts of the upstream test suite (compared case-insensitively
// after trimming).
const (
	promptOK        = "Reply with exactly the single word OK."
	promptFirst     = "Reply with exactly the word FIRST."
	promptSecond    = "Reply with exactly the word SECOND."
	promptReasoning = "Answer briefly and include your reasoning."
	promptStatus    = "Provide a short status update."
	promptListFiles = "List files in the current directory using available tools."
	promptBash      = "Use the bash tool to run `ls` in the current directory. Do not answer without using the tool."
	promptAsk1      = "Use the AskUserQuestion tool to ask exactly one yes/no question, then wait for a reply. Do not answer yourself."
	promptAsk2      = "Call the AskUserQuestion tool with exactly one yes/no question and wait for a reply. Do not answer yourself."
)

// helpText lists the commands.
const helpText = `Mock agent commands:
- help: list these commands
- demo: every building block below, each after a marker message; it waits
  for answers to its permissions and questions, as a real agent would
- markdown: a streamed markdown document
- tool, tools, tooling: a tool call and a failed tool result with file references
- status: a status item
- image: a message with an image
- unknown: an item of unknown kind
- permission, permissions: two permission requests
- question, questions: two questions
- error: an error event and an unparsed agent payload
- unparsed: an unparsed agent payload
- end, ended, session.end: end the session
- echo, say <text>: repeat the text
Anything else is echoed back.`

// scriptFor chooses the script for a message; p is the turn's id prefix.
func scriptFor(p, text string) script {
	trimmed := strings.TrimSpace(text)
	is := func(prompt string) bool { return strings.EqualFold(trimmed, prompt) }
	switch {
	case is(promptOK):
		return script{steps: assistantMessage(p+"_ok", "OK")}
	case is(promptFirst):
		return script{steps: assistantMessage(p+"_first", "FIRST")}
	case is(promptSecond):
		return script{steps: assistantMessage(p+"_second", "SECOND")}
	case is(promptReasoning):
		return script{steps: richMessage(p)}
	case is(promptStatus):
		return script{steps: statusItem(p)}
	case is(promptListFiles), is(promptBash):
		return script{steps: singlePermission(p), follow: followCommand(p)}
	case is(promptAsk1), is(promptAsk2):
		return script{steps: singleQuestion(p), follow: followQuestions(p)}
	}

	var word, rest string
	if f := strings.Fields(trimmed); len(f) > 0 {
		word, rest = f[0], strings.TrimSpace(trimmed[len(f[0]):])
	}
	switch strings.ToLower(word) {
	case "help":
		return script{steps: assistantMessage(p+"_help", helpText)}
	case "demo":
		return demo(p)
	case "markdown":
		return script{steps: markdownMessage(p)}
	case "tool", "tools", "tooling":
		return script{steps: toolSequence(p)}
	case "status":
		return script{steps: statusItem(p)}
	case "image":
		return script{steps: imageMessage(p)}
	case "unknown":
		return script{steps: unknownItem(p)}
	case "permission", "permissions":
		return script{steps: permissions(p), follow: followPermissions(p)}
	case "question", "questions":
		return script{steps: questions(p), follow: followQuestions(p)}
	case "error":
		return script{steps: errorEvents()}
	case "unparsed":
		return script{steps: []agent.Draft{unparsed()}}
	case "end", "ended", "session.end":
		return script{steps: []agent.Draft{sessionEnded()}}
	case "echo", "say":
		if rest == "" {
			rest = "Nothing to echo: send `echo <text>`."
		}
		return script{steps: assistantMessage(p+"_echo", rest)}
	}
	if trimmed == "" {
		return script{steps: assistantMessage(p+"_reply", "Empty message. Send `help` to list the mock commands.")}
	}
	return script{steps: assistantMessage(p+"_reply", trimmed)}
}

// demo plays every building block, each announced by a marker message. Like
// a real agent it stops at its permission requests and at its questions
// until every one is answered, says what the answers were, and goes on.
func demo(p string) script {
	blocks := []struct {
		name  string
		title string
		steps []agent.Draft
	}{
		{"system", "System message", systemMessage(p)},
		{"rich", "Rich assistant message", richMessage(p)},
		{"status", "Status item", statusItem(p)},
		{"markdown", "Markdown", markdownMessage(p)},
		{"tool", "Tool call and result", toolSequence(p)},
		{"image", "Image", imageMessage(p)},
		{"unknown", "Unknown item", unknownItem(p)},
		{"permissions", "Permission requests", permissions(p)},
		{"questions", "Questions", questions(p)},
		{"error", "Error events", errorEvents()},
	}
	var stages [3][]agent.Draft // up to the permissions, the questions, the rest
	stage := 0
	for _, b := range blocks {
		stages[stage] = append(stages[stage], assistantMessage(p+"_marker_"+b.name, "Demo: "+b.title)...)
		stages[stage] = append(stages[stage], b.steps...)
		if b.name == "permissions" || b.name == "questions" {
			stage++
		}
	}
	return script{steps: stages[0], follow: followPermissions(p),
		then: &script{steps: stages[1], follow: followQuestions(p),
			then: &script{steps: stages[2]}}}
}

// approved says whether a permission reply lets the action run.
func approved(r agent.Reply) bool {
	return !r.Reject && (r.Permission == schema.ReplyOnce || r.Permission == schema.ReplyAlways)
}

// followCommand runs `ls` once allowed, or says it was not allowed.
func followCommand(p string) func(map[string]agent.Reply) []agent.Draft {
	return func(replies map[string]agent.Reply) []agent.Draft {
		if approved(replies[p+"_permission"]) {
			return lsToolSequence(p)
		}
		return assistantMessage(p+"_denied", "Permission denied: `ls` was not run.")
	}
}

// followPermissions reports what was allowed.
func followPermissions(p string) func(map[string]agent.Reply) []agent.Draft {
	return func(replies map[string]agent.Reply) []agent.Draft {
		lines := []string{
			"Run `echo mock`: " + verdict(replies[p+"_permission"]),
			"Write " + p + "/deny.txt: " + verdict(replies[p+"_permission_denied"]),
		}
		return assistantMessage(p+"_permission_result", strings.Join(lines, "\n"))
	}
}

func verdict(r agent.Reply) string {
	switch {
	case !approved(r):
		return "rejected"
	case r.Permission == schema.ReplyAlways:
		return "allowed for the session"
	default:
		return "allowed once"
	}
}

// followQuestions echoes the answers to the turn's questions.
func followQuestions(p string) func(map[string]agent.Reply) []agent.Draft {
	return func(replies map[string]agent.Reply) []agent.Draft {
		var lines []string
		for _, id := range []string{p + "_question", p + "_question_reject"} {
			if r, ok := replies[id]; ok {
				lines = append(lines, answerText(r))
			}
		}
		return assistantMessage(p+"_answer", strings.Join(lines, "\n"))
	}
}

func answerText(r agent.Reply) string {
	prompt := r.ID
	if r.QuestionRequest != nil {
		prompt = r.QuestionRequest.Prompt
	}
	if r.Reject {
		return fmt.Sprintf("%s You rejected the question.", prompt)
	}
	var picked []string
	for _, a := range r.Answers {
		picked = append(picked, a...)
	}
	if len(picked) == 0 {
		return fmt.Sprintf("%s You gave no answer.", prompt)
	}
	return fmt.Sprintf("%s You answered: %s.", prompt, strings.Join(picked, ", "))
}
