package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Helpers of the rows several agents have in their own tables (attachments,
// models, interrupts, API errors), beside the shared table's in
// scenarios_test.go.

// --- attachments

// pixelPNG is a 1×1 PNG.
var pixelPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

const attachedText = "e2e attachment: the secret number is 4711.\n"

// writeAttachments puts att/pixel.png (pixelPNG) and att/notes.txt
// (attachedText) into the session directory.
func (r *Run) writeAttachments() {
	r.T.Helper()
	if err := os.MkdirAll(filepath.Join(r.Work, "att"), 0o755); err != nil {
		r.T.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Work, "att", "pixel.png"), pixelPNG, 0o644); err != nil {
		r.T.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Work, "att", "notes.txt"), []byte(attachedText), 0o644); err != nil {
		r.T.Fatal(err)
	}
}

// sendAttachments sends, in a new session, an image as a data URL, an
// image file and a text file (paths relative to the session directory) and
// the extra attachments, and returns the turn's events; an error in the
// turn fails the row.
func (r *Run) sendAttachments(extra ...schema.MessageAttachment) []schema.Event {
	r.T.Helper()
	r.writeAttachments()
	r.CreateSession()
	mark := r.Mark()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	err := r.C.SendMessage(ctx, r.SessionID, schema.MessageRequest{
		Message: "Describe the attachments.",
		Attachments: append([]schema.MessageAttachment{
			{Path: "data:image/png;base64," + base64.StdEncoding.EncodeToString(pixelPNG), Filename: schema.Ptr("inline.png")},
			{Path: "att/pixel.png"},
			{Path: "att/notes.txt", MIME: schema.Ptr("text/plain")},
		}, extra...),
	})
	if err != nil {
		r.T.Fatalf("send with attachments: %v", err)
	}
	evs := r.turnEnded(mark)
	if len(ofType(evs, schema.EventError)) > 0 {
		r.T.Errorf("the turn had an error: %s", r.dumpFrom(mark))
	}
	return evs
}

// --- models and interrupts

// models returns the server's model list for the row's agent, and its ids.
func (r *Run) models() (schema.AgentModelsResponse, []string) {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	ml, err := r.C.AgentModels(ctx, r.Agent.Name)
	if err != nil {
		r.T.Fatalf("models: %v", err)
	}
	var ids []string
	for _, m := range ml.Models {
		ids = append(ids, m.ID)
	}
	return ml, ids
}

// interrupt asks the server to interrupt the session's turn.
func (r *Run) interrupt() {
	r.T.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, waitTimeout)
	defer cancel()
	if err := r.C.Interrupt(ctx, r.SessionID); err != nil {
		r.T.Fatalf("interrupt: %v", err)
	}
}

// --- API errors

// apiFailure is a model API error that the prompt "Fail with <status>."
// gets, and the error event the agent is to make of it: its code, and text
// in its message or details ("" for any).
type apiFailure struct {
	err        fakellm.APIError
	code, text string
}

func (f apiFailure) prompt() string { return fmt.Sprintf("Fail with %d.", f.err.Status) }

// apiFailures answers each failure's prompt with its error, and anything
// else with "Fine again.".
func apiFailures(fs ...apiFailure) fakellm.Step {
	return fakellm.Func(func(q *fakellm.Request) fakellm.Step {
		t := q.LastUserText()
		for _, f := range fs {
			if strings.HasSuffix(t, f.prompt()) {
				err := f.err
				return fakellm.Step{Error: &err}
			}
		}
		return fakellm.Text("Fine again.")
	})
}

// checkAPIFailures sends each failure's prompt (model steps from
// apiFailures): each turn ends with an error event of the failure's code,
// and the session goes on.
func (r *Run) checkAPIFailures(fs ...apiFailure) {
	r.T.Helper()
	r.CreateSession()
	for _, f := range fs {
		mark := r.Mark()
		r.Send(f.prompt())
		evs := r.turnEnded(mark)
		errs := ofType(evs, schema.EventError)
		if len(errs) == 0 {
			r.T.Errorf("%s: no error event: %s", f.prompt(), r.dumpFrom(mark))
			continue
		}
		e := errorOf(errs[0])
		if schema.Deref(e.Code) != f.code || !strings.Contains(e.Message+string(e.Details), f.text) {
			r.T.Errorf("%s: error %q code %q, want code %q: %s", f.prompt(), e.Message, schema.Deref(e.Code), f.code, brief(errs[0]))
		}
	}
	if got := assistantText(r.turn("Are you fine now?")); !strings.Contains(got, "Fine again.") {
		r.T.Errorf("the turn after the errors said %q", got)
	}
}
