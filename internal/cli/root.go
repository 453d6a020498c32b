// Package cli holds the sandbox-agent commands. Commands are thin: they
// parse flags and call the server, session or client packages.
package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries an exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs the CLI and returns the process exit code: 0 success, 1 a
// failure (an API error among them), 2 wrong usage.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		return exitCode(os.Stderr, err)
	}
	return 0
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "sandbox-agent",
		Short: "Run coding agents inside a sandbox and control them over HTTP",
		Long: `sandbox-agent installs coding-agent CLIs (Claude Code, Codex, OpenCode,
Amp) and drives them through one HTTP + SSE API: run the server inside the
sandbox, then talk to it with the SDKs or the api commands of this CLI.`,
		Example: `  sandbox-agent server --no-token
  sandbox-agent daemon start --no-token && sandbox-agent api agents list
  sandbox-agent api sessions create demo --agent mock
  sandbox-agent api sessions send-message-stream demo -m "hello"`,
		Version:       versionString(),
		Args:          subcommandOnly,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("sandbox-agent {{.Version}}\n")
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newServerCmd(), newOpenAPICmd())
	for _, extra := range extraCommands {
		root.AddCommand(extra())
	}
	return root
}

// extraCommands lets commands living in their own files register
// themselves (init in that file appends to it), so adding a command does
// not touch this file.
var extraCommands []func() *cobra.Command
