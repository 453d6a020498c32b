package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func newOpenAPICmd() *cobra.Command {
	return &cobra.Command{
		Use:     "openapi",
		Short:   "Print the OpenAPI document of the HTTP API",
		Example: "  sandbox-agent openapi > openapi.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			srv, cleanup := buildServer(serverOptions{noToken: true}, discardLogger())
			defer cleanup()
			b, err := json.MarshalIndent(srv.OpenAPI(), "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return err
		},
	}
}
