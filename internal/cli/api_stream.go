package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

func newSendMessageStreamCmd(o *apiOptions) *cobra.Command {
	var (
		m       messageFlags
		raw     bool
		noInput bool
	)
	cmd := apiCmd("postMessageStream", &cobra.Command{
		Use:   "send-message-stream <session-id>",
		Short: "Send a message and print the turn as it happens",
		Long: `Send a message and print the turn as it happens: the agent's text as it
arrives, tool calls and results, permission requests and questions.

On a terminal a permission request or question is asked there and the
answer sent; the turn then goes on until it ends. Elsewhere (or with
--no-input or --json) the command stops at the request and says how to
answer it. --json prints every event as one JSON line.`,
		Example: `  sandbox-agent api sessions send-message-stream demo -m "list the files here"
  sandbox-agent api sessions send-message-stream demo -m permissions --json | jq -r .type`,
		Args: exactArgs(1, "session-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t := &turn{o: o, cmd: cmd, sid: args[0], c: o.client(),
				r: newRenderer(cmd.OutOrStdout(), o.json, false)}
			if !o.json && !noInput && isTerminal(cmd.InOrStdin()) {
				t.in = bufio.NewReader(cmd.InOrStdin())
			}
			return t.run(cmd.Context(), m.request(), raw)
		},
	})
	m.register(cmd)
	cmd.Flags().BoolVar(&raw, "include-raw", false, "include each event's native payload (with --json)")
	cmd.Flags().BoolVar(&noInput, "no-input", false, "never ask on the terminal; stop at a permission request or question")
	return cmd
}

// turn follows one turn: the server's turn stream, then (after a human
// answered, or an error event closed it early) the session's event stream
// until the turn ends.
type turn struct {
	o   *apiOptions
	cmd *cobra.Command
	sid string
	c   *client.Client
	r   *renderer
	in  *bufio.Reader // nil: not interactive
}

func (t *turn) run(ctx context.Context, req schema.MessageRequest, raw bool) error {
	var last uint64
	for ev, err := range t.c.StreamTurn(ctx, t.sid, req, raw) {
		if err != nil {
			return err
		}
		last = ev.Sequence
		if stop, err := t.handle(ctx, ev); stop || err != nil {
			return interrupted(ctx, err)
		}
	}
	if last == 0 {
		return interrupted(ctx, errors.New("the server closed the turn stream before any event"))
	}
	for ev, err := range t.c.StreamEvents(ctx, t.sid, client.StreamOptions{Offset: last, IncludeRaw: raw}) {
		if err != nil {
			return err
		}
		if stop, err := t.handle(ctx, ev); stop || err != nil {
			return interrupted(ctx, err)
		}
	}
	return interrupted(ctx, nil)
}

// interrupted turns a cancelled context (Ctrl-C) into exit status 130.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return exitError{130}
	}
	return err
}

// handle prints an event and answers a request; stop says the turn is
// over for this command.
func (t *turn) handle(ctx context.Context, ev schema.Event) (stop bool, err error) {
	if err := t.r.event(ev); err != nil {
		return true, err
	}
	switch d := ev.Data.(type) {
	case *schema.TurnEventData:
		return ev.Type == schema.EventTurnEnded, nil
	case *schema.SessionEndedData:
		return true, nil
	case *schema.PermissionEventData:
		if ev.Type != schema.EventPermissionRequested {
			return false, nil
		}
		if t.in == nil {
			t.hint("reply-permission %s %s --reply once|always|reject", t.sid, d.PermissionID)
			return true, nil
		}
		return t.askPermission(ctx, d)
	case *schema.QuestionEventData:
		if ev.Type != schema.EventQuestionRequested {
			return false, nil
		}
		if t.in == nil {
			t.hint("reply-question %s %s --answers '[[\"...\"]]'  (or reject-question %s %s)", t.sid, d.QuestionID, t.sid, d.QuestionID)
			return true, nil
		}
		return t.askQuestion(ctx, d)
	}
	return false, nil
}

func (t *turn) hint(format string, a ...any) {
	fmt.Fprintf(t.cmd.ErrOrStderr(), "The agent waits for an answer: sandbox-agent api sessions "+format+"\n", a...)
}

// prompt asks on the terminal and reads one line; ok is false at the end
// of input or when ctx ends (Ctrl-C: the signal is caught, so a read that
// kept blocking would hang the command).
func (t *turn) prompt(ctx context.Context, q string) (string, bool) {
	fmt.Fprint(t.cmd.OutOrStdout(), q)
	type answer struct {
		line string
		ok   bool
	}
	got := make(chan answer, 1)
	go func() {
		line, err := t.in.ReadString('\n')
		got <- answer{strings.TrimSpace(line), err == nil || errors.Is(err, io.EOF) && line != ""}
	}()
	select {
	case a := <-got:
		return a.line, a.ok
	case <-ctx.Done():
		fmt.Fprintln(t.cmd.OutOrStdout())
		return "", false
	}
}

func (t *turn) askPermission(ctx context.Context, d *schema.PermissionEventData) (bool, error) {
	for {
		line, ok := t.prompt(ctx, "Allow? [o]nce, [a]lways, [r]eject: ")
		if !ok {
			t.hint("reply-permission %s %s --reply once|always|reject", t.sid, d.PermissionID)
			return true, nil
		}
		var reply schema.PermissionReply
		switch strings.ToLower(line) {
		case "o", "once", "y", "yes":
			reply = schema.ReplyOnce
		case "a", "always":
			reply = schema.ReplyAlways
		case "r", "reject", "n", "no":
			reply = schema.ReplyReject
		default:
			continue
		}
		return false, t.c.ReplyPermission(ctx, t.sid, d.PermissionID, reply)
	}
}

func (t *turn) askQuestion(ctx context.Context, d *schema.QuestionEventData) (bool, error) {
	line, ok := t.prompt(ctx, "Answer (option number or text, several separated by commas; empty to decline): ")
	if !ok {
		t.hint("reply-question %s %s --answers '[[\"...\"]]'", t.sid, d.QuestionID)
		return true, nil
	}
	if line == "" {
		return false, t.c.RejectQuestion(ctx, t.sid, d.QuestionID)
	}
	var picked []string
	for _, a := range strings.Split(line, ",") {
		a = strings.TrimSpace(a)
		if n, err := strconv.Atoi(a); err == nil && n >= 1 && n <= len(d.Options) {
			a = d.Options[n-1]
		}
		if a != "" {
			picked = append(picked, a)
		}
	}
	return false, t.c.ReplyQuestion(ctx, t.sid, d.QuestionID, [][]string{picked})
}

func newEventsSSECmd(o *apiOptions) *cobra.Command {
	var (
		offset uint64
		raw    bool
	)
	cmd := apiCmd("getEventsSse", &cobra.Command{
		Use:   "events-sse <session-id>",
		Short: "Follow a session's events live (replaying those after --offset first)",
		Long: `Follow a session's events live, replaying those after --offset first. It
reconnects after a dropped connection without losing or repeating an event,
and returns when the session ends (or on Ctrl-C).`,
		Example: "  sandbox-agent api sessions events-sse demo\n  sandbox-agent api sessions events-sse demo --offset 42 --json",
		Args:    exactArgs(1, "session-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r := newRenderer(cmd.OutOrStdout(), o.json, true)
			for ev, err := range o.client().StreamEvents(ctx, args[0], client.StreamOptions{Offset: offset, IncludeRaw: raw}) {
				if err != nil {
					return err
				}
				if err := r.event(ev); err != nil {
					return err
				}
				if ev.Type == schema.EventSessionEnded {
					return nil
				}
			}
			return interrupted(ctx, nil)
		},
	})
	cmd.Flags().Uint64VarP(&offset, "offset", "o", 0, "start after this sequence")
	cmd.Flags().BoolVar(&raw, "include-raw", false, "include each event's native payload")
	return cmd
}
