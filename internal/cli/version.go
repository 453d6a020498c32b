package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Build stamps, set with -ldflags, e.g.
//
//	-X github.com/sandbox-agent/sandbox-agent/internal/cli.Version=v1.2.3
//	-X github.com/sandbox-agent/sandbox-agent/internal/cli.Commit=$(git rev-parse HEAD)
//	-X github.com/sandbox-agent/sandbox-agent/internal/cli.Date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
//
// Unstamped, Version is the module version the Go toolchain recorded
// (`go install …@v1.2.3` builds from the module, with no checkout), else
// devVersion; Commit and Date fall back to what it recorded of the checkout
// (vcs.revision, vcs.time).
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// devVersion is the version of a build from a checkout, unstamped.
const devVersion = "0.2.0-dev"

func init() {
	if Version == "" {
		info, _ := debug.ReadBuildInfo()
		Version = moduleVersion(info)
	}
}

// moduleVersion is the version of the main module when it was built from
// a module download (go install …@version); devVersion for a build from a
// checkout, whose pseudo-version says less than the commit and date do.
func moduleVersion(info *debug.BuildInfo) string {
	if info == nil {
		return devVersion
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return devVersion
		}
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return devVersion
}

// BuildInfo is what `version --json` prints.
type BuildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

func buildInfo() BuildInfo {
	b := BuildInfo{Version: Version, Commit: Commit, Date: Date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			case s.Key == "vcs.modified" && s.Value == "true" && Commit == "" && b.Commit != "":
				defer func() { b.Commit += "-dirty" }()
			}
		}
	}
	return b
}

// versionString is the one-line version: "v1.2.3 (commit abc1234, 2026-01-02T03:04:05Z)".
func versionString() string {
	b := buildInfo()
	s := b.Version
	if b.Commit != "" || b.Date != "" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += fmt.Sprintf(" (commit %s, built %s)", orUnknown(c), orUnknown(b.Date))
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func init() { extraCommands = append(extraCommands, newVersionCmd) }

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version, commit and build date",
		Example: "  sandbox-agent version\n  sandbox-agent version --json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), buildInfo())
			}
			b := buildInfo()
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "sandbox-agent %s\ncommit:   %s\nbuilt:    %s\ngo:       %s\nplatform: %s\n",
				b.Version, orUnknown(b.Commit), orUnknown(b.Date), b.GoVersion, b.Platform)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
