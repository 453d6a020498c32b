package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/install"
)

func init() { extraCommands = append(extraCommands, newAPICmd) }

// DefaultEndpoint is the server the api commands talk to without
// --endpoint or SANDBOX_AGENT_ENDPOINT.
const DefaultEndpoint = "http://127.0.0.1:2468"

// apiOptions are the flags every api command shares.
type apiOptions struct {
	endpoint string
	token    string
	json     bool
}

// client builds the SDK client of the flags, env vars filling the gaps.
func (o *apiOptions) client() *client.Client {
	ep := o.endpoint
	if ep == "" {
		ep = os.Getenv("SANDBOX_AGENT_ENDPOINT")
	}
	if ep == "" {
		ep = DefaultEndpoint
	}
	tok := o.token
	if tok == "" {
		tok = os.Getenv("SANDBOX_AGENT_TOKEN")
	}
	return client.New(ep, client.WithToken(tok))
}

// opAnnotation ties a command to the OpenAPI operation it calls; a test
// checks that every operation has one.
const opAnnotation = "operationId"

// apiCmd is one api command calling operation op.
func apiCmd(op string, c *cobra.Command) *cobra.Command {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[opAnnotation] = op
	return c
}

// group is a noun (agents, sessions, fs) holding verbs.
func group(use, short, example string, verbs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{Use: use, Short: short, Args: subcommandOnly, Example: example,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	g.AddCommand(verbs...)
	return g
}

// agentIDs are the agents commands complete.
var agentIDs = append(install.Agents(), "mock")

func fixed(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// completeSessions completes a first <session-id> argument with the
// server's sessions.
func (o *apiOptions) completeSessions(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ss, err := o.client().Sessions(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, s := range ss {
		out = append(out, cobra.CompletionWithDesc(s.SessionID, s.Agent))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func newAPICmd() *cobra.Command {
	o := &apiOptions{}
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Call the HTTP API of a running server: one command per endpoint",
		Long: `Call the HTTP API of a running server, one command per endpoint.

The server is --endpoint (env SANDBOX_AGENT_ENDPOINT, default ` + DefaultEndpoint + `);
its token is --token (env SANDBOX_AGENT_TOKEN). Answers are printed as
JSON (tables for lists on a terminal); --json always prints JSON, and JSON
lines for event streams.

Exit status: 0 success, 1 the server refused (the problem's title and
detail go to stderr) or could not be reached, 2 wrong usage.`,
		Example: `  sandbox-agent api agents list
  sandbox-agent api sessions create demo --agent mock
  sandbox-agent api sessions send-message-stream demo -m "hello"
  SANDBOX_AGENT_ENDPOINT=http://10.0.0.5:2468 sandbox-agent api sessions list --json`,
		Args: subcommandOnly,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVarP(&o.endpoint, "endpoint", "e", "", "server URL (env SANDBOX_AGENT_ENDPOINT, default "+DefaultEndpoint+")")
	pf.StringVarP(&o.token, "token", "t", "", "bearer token (env SANDBOX_AGENT_TOKEN)")
	pf.BoolVar(&o.json, "json", false, "print JSON (JSON lines for event streams), for scripts")
	cmd.AddCommand(newAPIHealthCmd(o), newAPIAgentsCmd(o), newAPISessionsCmd(o), newAPIFsCmd(o))
	return cmd
}

func newAPIHealthCmd(o *apiOptions) *cobra.Command {
	return apiCmd("getHealth", &cobra.Command{
		Use:     "health",
		Short:   "Check that the server is up",
		Example: "  sandbox-agent api health",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := o.client().Health(cmd.Context())
			return o.print(cmd, h, err)
		},
	})
}

// print writes v as indented JSON unless err is set.
func (o *apiOptions) print(cmd *cobra.Command, v any, err error) error {
	if err != nil {
		return err
	}
	return writeJSON(cmd.OutOrStdout(), v)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// human says whether to print for a person: not --json, and stdout is a
// terminal.
func (o *apiOptions) human(cmd *cobra.Command) bool {
	return !o.json && isTerminal(cmd.OutOrStdout())
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// usageError is wrong usage: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// subcommandOnly rejects anything but a known subcommand.
func subcommandOnly(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError{errors.New(msg)}
}

// noArgs and exactArgs are cobra's validators with usage errors.
func noArgs(cmd *cobra.Command, args []string) error { return exactArgs(0)(cmd, args) }

func exactArgs(n int, names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		if n == 0 {
			return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args)
		}
		return usagef("%s needs %d argument(s) (%s), got %d", cmd.CommandPath(), n, strings.Join(names, ", "), len(args))
	}
}

// exitCode maps an error to the exit status and prints it: API problems
// as title and detail, usage errors with a hint.
func exitCode(stderr io.Writer, err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		if p := apiErr.Problem; p != nil {
			fmt.Fprintf(stderr, "error: %s (%d)", p.Title, p.Status)
			if p.Detail != "" {
				fmt.Fprintf(stderr, ": %s", p.Detail)
			}
			fmt.Fprintln(stderr)
			if f, ok := p.Details["field"]; ok {
				fmt.Fprintf(stderr, "field: %v\n", f)
			}
		} else {
			fmt.Fprintf(stderr, "error: HTTP %d: %s\n", apiErr.StatusCode, strings.TrimSpace(apiErr.Body))
		}
		return 1
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintln(stderr, "error:", err)
		fmt.Fprintln(stderr, "Run with --help for usage.")
		return 2
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "error: cannot reach the server: %v\n(is it running? start one with `sandbox-agent daemon start`, or point --endpoint at it)\n", urlErr.Err)
		return 1
	}
	fmt.Fprintln(stderr, "error:", err)
	return 1
}

// isCobraUsage recognises the errors cobra itself returns for a command
// line it cannot parse.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "required flag", "flag needs an argument",
		"invalid argument", "bad flag syntax", "if any flags in the group", "accepts ", "requires at least", "invalid args"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}
