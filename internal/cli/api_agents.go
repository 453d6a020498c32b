package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

func newAPIAgentsCmd(o *apiOptions) *cobra.Command {
	list := apiCmd("listAgents", &cobra.Command{
		Use:     "list",
		Short:   "List the agents with install state, version and capabilities",
		Example: "  sandbox-agent api agents list\n  sandbox-agent api agents list --json | jq '.agents[].id'",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			agents, err := o.client().Agents(cmd.Context())
			if err != nil {
				return err
			}
			if !o.human(cmd) {
				return writeJSON(cmd.OutOrStdout(), schema.AgentListResponse{Agents: agents})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "AGENT\tINSTALLED\tVERSION\tCREDENTIALS")
			for _, a := range agents {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.ID, yesNo(a.Installed), deref(a.Version, "-"), yesNo(a.CredentialsAvailable))
			}
			return tw.Flush()
		},
	})

	var reinstall bool
	var version string
	install := apiCmd("installAgent", &cobra.Command{
		Use:       "install <agent>",
		Short:     "Install an agent on the server's machine",
		Example:   "  sandbox-agent api agents install claude\n  sandbox-agent api agents install codex --reinstall --agent-version 0.40.0",
		Args:      exactArgs(1, "agent"),
		ValidArgs: agentIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			req := schema.AgentInstallRequest{}
			if reinstall {
				req.Reinstall = schema.Ptr(true)
			}
			if version != "" {
				req.AgentVersion = schema.Ptr(version)
			}
			return o.client().InstallAgent(cmd.Context(), args[0], req)
		},
	})
	install.Flags().BoolVarP(&reinstall, "reinstall", "r", false, "install even when already installed")
	install.Flags().StringVarP(&version, "agent-version", "A", "", "version (or npm range) to install; the newest when empty")

	modes := apiCmd("getAgentModes", &cobra.Command{
		Use:       "modes <agent>",
		Short:     "List an agent's modes",
		Example:   "  sandbox-agent api agents modes claude",
		Args:      exactArgs(1, "agent"),
		ValidArgs: agentIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := o.client().AgentModes(cmd.Context(), args[0])
			return o.print(cmd, schema.AgentModesResponse{Modes: m}, err)
		},
	})
	models := apiCmd("getAgentModels", &cobra.Command{
		Use:       "models <agent>",
		Short:     "List an agent's models and the default one",
		Example:   "  sandbox-agent api agents models claude",
		Args:      exactArgs(1, "agent"),
		ValidArgs: agentIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := o.client().AgentModels(cmd.Context(), args[0])
			return o.print(cmd, m, err)
		},
	})
	return group("agents", "Agents: list, install, modes, models",
		"  sandbox-agent api agents list\n  sandbox-agent api agents install claude\n  sandbox-agent api agents models claude",
		list, install, modes, models)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func deref(s *string, def string) string {
	if s == nil || *s == "" {
		return def
	}
	return *s
}
