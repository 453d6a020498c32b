package cli

import (
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newCompletionCmd) }

func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script for bash, zsh or fish",
		Long: `Print the shell completion script for bash, zsh or fish. It completes
commands, flags and fixed values (agents, permission replies).`,
		Example: `  source <(sandbox-agent completion bash)
  sandbox-agent completion bash > /etc/bash_completion.d/sandbox-agent
  sandbox-agent completion zsh > "${fpath[1]}/_sandbox-agent"
  sandbox-agent completion fish > ~/.config/fish/completions/sandbox-agent.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("completion needs one shell: bash, zsh or fish")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root, w := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			}
			return usagef("unknown shell %q: bash, zsh or fish", args[0])
		},
	}
}
