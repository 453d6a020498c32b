package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

func newAPISessionsCmd(o *apiOptions) *cobra.Command {
	var lq client.SessionsQuery
	list := apiCmd("listSessions", &cobra.Command{
		Use:     "list",
		Short:   "List sessions, newest first",
		Example: "  sandbox-agent api sessions list\n  sandbox-agent api sessions list --status detached --agent claude --limit 20",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			page, err := o.client().SessionsPage(cmd.Context(), lq)
			if err != nil {
				return err
			}
			if !o.human(cmd) {
				return writeJSON(cmd.OutOrStdout(), page)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SESSION\tAGENT\tMODE\tEVENTS\tENDED\tCREATED")
			for _, s := range page.Sessions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.SessionID, s.Agent, s.AgentMode, s.EventCount, yesNo(s.Ended),
					time.UnixMilli(s.CreatedAt).Format(time.DateTime))
			}
			if page.NextCursor != nil {
				fmt.Fprintf(tw, "(more: --cursor %s)\n", *page.NextCursor)
			}
			return tw.Flush()
		},
	})
	lf := list.Flags()
	lf.StringVar(&lq.Agent, "agent", "", "only sessions of this agent")
	lf.StringVar(&lq.Status, "status", "", "only sessions in this state: live, detached or ended")
	lf.Int64Var(&lq.Since, "since", 0, "only sessions updated at or after this time (Unix epoch milliseconds)")
	lf.IntVar(&lq.Limit, "limit", 0, "at most this many sessions (0: all); the output's nextCursor continues")
	lf.StringVar(&lq.Cursor, "cursor", "", "continue after the page that returned this nextCursor")
	get := apiCmd("getSession", &cobra.Command{
		Use:     "get <session-id>",
		Short:   "Show one session",
		Example: "  sandbox-agent api sessions get demo",
		Args:    exactArgs(1, "session-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.client().Session(cmd.Context(), args[0])
			return o.print(cmd, s, err)
		},
	})
	del := apiCmd("deleteSession", &cobra.Command{
		Use:     "delete <session-id>",
		Short:   "Terminate a session and forget it",
		Example: "  sandbox-agent api sessions delete demo",
		Args:    exactArgs(1, "session-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.client().DeleteSession(cmd.Context(), args[0])
		},
	})
	term := apiCmd("terminateSession", &cobra.Command{
		Use:     "terminate <session-id>",
		Short:   "End a session and stop its agent processes (its events stay readable)",
		Example: "  sandbox-agent api sessions terminate demo",
		Args:    exactArgs(1, "session-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.client().Terminate(cmd.Context(), args[0])
		},
	})
	intr := apiCmd("interruptSession", &cobra.Command{
		Use:     "interrupt <session-id>",
		Short:   "Stop the running turn and keep the session",
		Example: "  sandbox-agent api sessions interrupt demo",
		Args:    exactArgs(1, "session-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.client().Interrupt(cmd.Context(), args[0])
		},
	})
	g := group("sessions", "Sessions: create, list, send messages, read events, answer the agent",
		`  sandbox-agent api sessions create demo --agent mock
  sandbox-agent api sessions send-message-stream demo -m "hello"
  sandbox-agent api sessions events-sse demo`,
		newSessionCreateCmd(o), list, get, del, term, intr,
		newSendMessageCmd(o), newSendMessageStreamCmd(o), newEventsCmd(o), newEventsSSECmd(o),
		newReplyQuestionCmd(o), newRejectQuestionCmd(o), newReplyPermissionCmd(o))
	for _, c := range g.Commands() {
		if strings.Contains(c.Use, "<session-id>") && !strings.HasPrefix(c.Use, "create") {
			c.ValidArgsFunction = o.completeSessions
		}
	}
	return g
}

func newSessionCreateCmd(o *apiOptions) *cobra.Command {
	var (
		req                                             schema.CreateSessionRequest
		mode, perm, model, variant, version, dir, title string
		mcpFile                                         string
		skills                                          []string
	)
	cmd := apiCmd("createSession", &cobra.Command{
		Use:   "create <session-id>",
		Short: "Create a session (the id is yours to choose)",
		Example: `  sandbox-agent api sessions create demo --agent mock
  sandbox-agent api sessions create fix-42 -a claude -p acceptEdits -m sonnet --directory /work/repo
  sandbox-agent api sessions create s1 -a claude --mcp-config mcp.json --skill ./skills/review`,
		Args: exactArgs(1, "session-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, f := range []struct {
				v   string
				dst **string
			}{{mode, &req.AgentMode}, {perm, &req.PermissionMode}, {model, &req.Model}, {variant, &req.Variant},
				{version, &req.AgentVersion}, {dir, &req.Directory}, {title, &req.Title}} {
				if f.v != "" {
					*f.dst = schema.Ptr(f.v)
				}
			}
			if mcpFile != "" {
				b, err := os.ReadFile(mcpFile)
				if err != nil {
					return usagef("--mcp-config: %v", err)
				}
				if err := json.Unmarshal(b, &req.MCP); err != nil {
					return usagef("--mcp-config %s: want a JSON object of server name → config: %v", mcpFile, err)
				}
			}
			if len(skills) > 0 {
				req.Skills = &schema.SkillsConfig{}
				for _, s := range skills {
					req.Skills.Sources = append(req.Skills.Sources, schema.SkillSource{Type: "local", Source: s})
				}
			}
			out, err := o.client().CreateSession(cmd.Context(), args[0], req)
			return o.print(cmd, out, err)
		},
	})
	f := cmd.Flags()
	f.StringVarP(&req.Agent, "agent", "a", "", "agent id: claude, codex, opencode, amp, opencode-acp, gemini, codex-acp, claude-acp or mock (required)")
	_ = cmd.MarkFlagRequired("agent")
	_ = cmd.RegisterFlagCompletionFunc("agent", fixed(agentIDs...))
	_ = cmd.RegisterFlagCompletionFunc("permission-mode", fixed(schema.PermissionModeDefault, schema.PermissionModePlan,
		schema.PermissionModeBypass, schema.PermissionModeAcceptEdits))
	f.StringVarP(&mode, "agent-mode", "g", "", "agent mode (see `api agents modes`)")
	f.StringVarP(&perm, "permission-mode", "p", "", "default, plan, bypass or acceptEdits")
	f.StringVarP(&model, "model", "m", "", "model id (see `api agents models`)")
	f.StringVarP(&variant, "variant", "v", "", "model variant, e.g. a thinking effort")
	f.StringVarP(&version, "agent-version", "A", "", "agent version to install and use")
	f.StringVar(&dir, "directory", "", "working directory of the agent (the server's when empty)")
	f.StringVar(&title, "title", "", "session title")
	f.StringVar(&mcpFile, "mcp-config", "", "JSON file: an object of MCP server name → server config")
	f.StringArrayVar(&skills, "skill", nil, "local skill directory (repeatable)")
	return cmd
}

func newSendMessageCmd(o *apiOptions) *cobra.Command {
	var m messageFlags
	cmd := apiCmd("postMessage", &cobra.Command{
		Use:     "send-message <session-id>",
		Short:   "Send a message; the turn runs in the background (see events, events-sse)",
		Example: "  sandbox-agent api sessions send-message demo -m \"summarise README.md\"",
		Args:    exactArgs(1, "session-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.client().SendMessage(cmd.Context(), args[0], m.request())
		},
	})
	m.register(cmd)
	return cmd
}

// messageFlags are the flags of a message.
type messageFlags struct {
	text   string
	attach []string
}

func (m *messageFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&m.text, "message", "m", "", "the message (required)")
	_ = cmd.MarkFlagRequired("message")
	cmd.Flags().StringArrayVar(&m.attach, "attach", nil, "path of a file to attach, on the server's machine (repeatable)")
}

func (m *messageFlags) request() schema.MessageRequest {
	r := schema.MessageRequest{Message: m.text}
	for _, p := range m.attach {
		r.Attachments = append(r.Attachments, schema.MessageAttachment{Path: p})
	}
	return r
}

func newEventsCmd(o *apiOptions) *cobra.Command {
	var (
		offset, limit uint64
		raw           bool
	)
	cmd := apiCmd("getEvents", &cobra.Command{
		Use:     "events <session-id>",
		Aliases: []string{"get-messages"},
		Short:   "Read a page of a session's events",
		Example: "  sandbox-agent api sessions events demo\n  sandbox-agent api sessions events demo --offset 20 --limit 10 --include-raw",
		Args:    exactArgs(1, "session-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := client.EventsQuery{Offset: offset, IncludeRaw: raw}
			if cmd.Flags().Changed("limit") {
				q.Limit = &limit
			}
			page, err := o.client().Events(cmd.Context(), args[0], q)
			return o.print(cmd, page, err)
		},
	})
	cmd.Flags().Uint64VarP(&offset, "offset", "o", 0, "return events with a sequence above this")
	cmd.Flags().Uint64VarP(&limit, "limit", "l", 0, "at most this many events")
	cmd.Flags().BoolVar(&raw, "include-raw", false, "include each event's native payload")
	return cmd
}

func newReplyQuestionCmd(o *apiOptions) *cobra.Command {
	var answers string
	cmd := apiCmd("replyQuestion", &cobra.Command{
		Use:   "reply-question <session-id> <question-id>",
		Short: "Answer a question of the agent",
		Long: `Answer a question of the agent. --answers is JSON: one list of chosen
labels per question, e.g. [["Yes"]]; a bare label is taken as [["label"]].`,
		Example: `  sandbox-agent api sessions reply-question demo mock_1_question --answers '[["Yes"]]'
  sandbox-agent api sessions reply-question demo mock_1_question -a Red`,
		Args: exactArgs(2, "session-id", "question-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var a [][]string
			if strings.HasPrefix(strings.TrimSpace(answers), "[") {
				if err := json.Unmarshal([]byte(answers), &a); err != nil {
					return usagef("--answers: want JSON like [[\"Yes\"]]: %v", err)
				}
			} else {
				a = [][]string{{answers}}
			}
			return o.client().ReplyQuestion(cmd.Context(), args[0], args[1], a)
		},
	})
	cmd.Flags().StringVarP(&answers, "answers", "a", "", `answers as JSON [["label", ...], ...] or one label (required)`)
	_ = cmd.MarkFlagRequired("answers")
	return cmd
}

func newRejectQuestionCmd(o *apiOptions) *cobra.Command {
	return apiCmd("rejectQuestion", &cobra.Command{
		Use:     "reject-question <session-id> <question-id>",
		Short:   "Decline to answer a question of the agent",
		Example: "  sandbox-agent api sessions reject-question demo mock_1_question",
		Args:    exactArgs(2, "session-id", "question-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.client().RejectQuestion(cmd.Context(), args[0], args[1])
		},
	})
}

func newReplyPermissionCmd(o *apiOptions) *cobra.Command {
	var reply string
	cmd := apiCmd("replyPermission", &cobra.Command{
		Use:     "reply-permission <session-id> <permission-id>",
		Short:   "Answer a permission request: once, always or reject",
		Example: "  sandbox-agent api sessions reply-permission demo mock_1_permission --reply once",
		Args:    exactArgs(2, "session-id", "permission-id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := parseReply(reply)
			if err != nil {
				return err
			}
			return o.client().ReplyPermission(cmd.Context(), args[0], args[1], r)
		},
	})
	cmd.Flags().StringVarP(&reply, "reply", "r", "", "once, always or reject (required)")
	_ = cmd.MarkFlagRequired("reply")
	_ = cmd.RegisterFlagCompletionFunc("reply", fixed("once", "always", "reject"))
	return cmd
}

func parseReply(s string) (schema.PermissionReply, error) {
	switch r := schema.PermissionReply(strings.ToLower(strings.TrimSpace(s))); r {
	case schema.ReplyOnce, schema.ReplyAlways, schema.ReplyReject:
		return r, nil
	}
	return "", usagef("--reply must be once, always or reject, got %q", s)
}
