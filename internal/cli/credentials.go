package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sandbox-agent/sandbox-agent/credentials"
)

func init() { extraCommands = append(extraCommands, newCredentialsCmd) }

// credentialOptions are the flags of both credentials commands.
type credentialOptions struct {
	home    string
	noOAuth bool
	reveal  bool
	agent   string
}

func (o *credentialOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.home, "home-dir", "d", "", "look in this home directory instead of ~ (the environment is still read)")
	f.BoolVar(&o.noOAuth, "no-oauth", false, "API keys only, no OAuth tokens")
	f.BoolVarP(&o.reveal, "reveal", "r", false, "print secrets in full (they are masked otherwise)")
	f.StringVarP(&o.agent, "agent", "a", "", "only what this agent uses: claude, amp (anthropic), codex (openai), opencode")
	_ = cmd.RegisterFlagCompletionFunc("agent", fixed("claude", "codex", "opencode", "amp"))
}

func (o *credentialOptions) secret(s string) string {
	if o.reveal {
		return s
	}
	return credentials.Mask(s)
}

// discover runs the discovery and keeps what --agent uses.
func (o *credentialOptions) discover(provider string) (credentials.Set, error) {
	set := credentials.Discover(credentials.Options{Home: o.home, NoOAuth: o.noOAuth})
	keep := func(p string) bool { return provider == "" || p == provider }
	switch o.agent {
	case "":
	case "claude", "amp":
		keep = func(p string) bool { return p == "anthropic" && (provider == "" || provider == p) }
	case "codex":
		keep = func(p string) bool { return p == "openai" && (provider == "" || provider == p) }
	case "opencode":
	default:
		return set, usagef("--agent must be claude, codex, opencode or amp, got %q", o.agent)
	}
	var kept []credentials.Credential
	for _, c := range set.All() {
		if keep(c.Provider) {
			kept = append(kept, c)
		}
	}
	out := credentials.NewSet(kept)
	return out, nil
}

func newCredentialsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credentials",
		Short: "Find the API keys and OAuth tokens of the agents on this machine",
		Long: `Find the API keys and OAuth tokens the agents would use: the environment
(ANTHROPIC_API_KEY, CLAUDE_API_KEY, CLAUDE_CODE_OAUTH_TOKEN,
ANTHROPIC_AUTH_TOKEN, OPENAI_API_KEY, CODEX_API_KEY) first, then the config
files of Amp (~/.amp/config.json), Claude Code (~/.claude.json,
~/.claude/.credentials.json), Codex (~/.codex/auth.json) and OpenCode
(~/.local/share/opencode/auth.json). The server uses the same discovery.

Secrets are masked unless --reveal is given.`,
		Example: "  sandbox-agent credentials extract\n  eval \"$(sandbox-agent credentials extract-env --export --reveal)\"",
		Args:    subcommandOnly,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCredentialsExtractCmd(), newCredentialsExtractEnvCmd())
	return cmd
}

func newCredentialsExtractCmd() *cobra.Command {
	var (
		o        credentialOptions
		provider string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "extract",
		Short: "Show the credentials found (masked unless --reveal)",
		Long: `Show the credentials found, one per provider, with where each came from.
With --agent or --provider and exactly one credential left, only its key
is printed (masked unless --reveal), for use in scripts.`,
		Example: `  sandbox-agent credentials extract
  sandbox-agent credentials extract --json
  sandbox-agent credentials extract --agent codex --reveal
  sandbox-agent credentials extract --home-dir /mnt/old-home --no-oauth`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := o.discover(provider)
			if err != nil {
				return err
			}
			all := set.All()
			w := cmd.OutOrStdout()
			if asJSON {
				shown := all
				if !o.reveal {
					shown = make([]credentials.Credential, len(all))
					for i, c := range all {
						shown[i] = c.Masked()
					}
				}
				out := credentials.NewSet(shown)
				return writeJSON(w, out)
			}
			if len(all) == 0 {
				what := "any provider"
				if o.agent != "" {
					what = o.agent
				} else if provider != "" {
					what = "provider " + provider
				}
				return fmt.Errorf("no credentials found for %s", what)
			}
			if o.agent != "" || provider != "" {
				if o.agent == "opencode" && provider == "" {
					// OpenCode takes any provider: openai first, then
					// anthropic, as the reference does.
					for _, c := range []*credentials.Credential{set.OpenAI, set.Anthropic} {
						if c != nil {
							all = []credentials.Credential{*c}
							break
						}
					}
				}
				if len(all) > 1 {
					names := make([]string, len(all))
					for i, c := range all {
						names[i] = c.Provider
					}
					return usagef("several providers available for %s: %s (choose one with --provider)", o.agent, strings.Join(names, ", "))
				}
				_, err := fmt.Fprintln(w, o.secret(all[0].APIKey))
				return err
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROVIDER\tTYPE\tSOURCE\tKEY")
			for _, c := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Provider, c.AuthType, c.Source, o.secret(c.APIKey))
			}
			return tw.Flush()
		},
	}
	o.register(cmd)
	cmd.Flags().StringVarP(&provider, "provider", "p", "", "only this provider (anthropic, openai, or one of OpenCode's)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print JSON: {"anthropic":…,"openai":…,"other":{…}}`)
	return cmd
}

func newCredentialsExtractEnvCmd() *cobra.Command {
	var (
		o      credentialOptions
		export bool
	)
	cmd := &cobra.Command{
		Use:   "extract-env",
		Short: "Print the credentials as NAME=value lines for a shell (masked unless --reveal)",
		Long: `Print the credentials as NAME=value lines for a shell: anthropic as
ANTHROPIC_API_KEY and CLAUDE_API_KEY, openai as OPENAI_API_KEY and
CODEX_API_KEY, any other provider as <PROVIDER>_API_KEY. Values are masked
unless --reveal is given, so nothing leaks into a terminal or a log by
accident.`,
		Example: "  eval \"$(sandbox-agent credentials extract-env --export --reveal)\"\n  sandbox-agent credentials extract-env --agent claude",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := o.discover("")
			if err != nil {
				return err
			}
			prefix := ""
			if export {
				prefix = "export "
			}
			for _, v := range set.EnvVars() {
				if _, err := fmt.Fprintf(cmd.OutOrStdout(), "%s%s=%s\n", prefix, v.Name, shellQuote(o.secret(v.Value))); err != nil {
					return err
				}
			}
			return nil
		},
	}
	o.register(cmd)
	cmd.Flags().BoolVarP(&export, "export", "e", false, `prefix each line with "export "`)
	return cmd
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters.
func shellQuote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:+=@%,", r))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
