package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// writeCLIDocs writes docs/cli.md: every visible command with its usage,
// description, examples and flags, in command-tree order.
func writeCLIDocs(w io.Writer, root *cobra.Command) error {
	cmds := visibleCommands(root)

	var b strings.Builder
	b.WriteString("# CLI reference\n\n")
	b.WriteString("<!-- Generated from the command tree by `make cli-docs`; a test fails when it is stale. Do not edit. -->\n\n")
	b.WriteString("Exit status: 0 success, 1 failure (an API error prints the problem's title and detail\n")
	b.WriteString("on stderr), 2 wrong usage; `daemon status` exits 3 when the daemon is not running.\n\n")
	for _, c := range cmds {
		depth := strings.Count(c.CommandPath(), " ")
		fmt.Fprintf(&b, "%s- [`%s`](#%s) — %s\n", strings.Repeat("  ", depth), c.CommandPath(), anchor(c.CommandPath()), c.Short)
	}
	for _, c := range cmds {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", c.CommandPath(), c.Short)
		if c.Long != "" && c.Long != c.Short {
			fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(c.Long))
		}
		fmt.Fprintf(&b, "```\n%s\n```\n", strings.TrimSpace(c.UseLine()))
		if len(c.Aliases) > 0 {
			fmt.Fprintf(&b, "\nAliases: `%s`\n", strings.Join(c.Aliases, "`, `"))
		}
		if c.Example != "" {
			fmt.Fprintf(&b, "\nExamples:\n\n```sh\n%s\n```\n", strings.TrimRight(dedent(c.Example), "\n"))
		}
		if f := flagUsages(c.NonInheritedFlags()); f != "" {
			fmt.Fprintf(&b, "\nFlags:\n\n```\n%s```\n", f)
		}
		if f := flagUsages(c.InheritedFlags()); f != "" {
			fmt.Fprintf(&b, "\nInherited flags:\n\n```\n%s```\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// visibleCommands lists root and every command below it a user can see,
// depth first.
func visibleCommands(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		out = append(out, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

func flagUsages(fs *pflag.FlagSet) string {
	clean := pflag.NewFlagSet("", pflag.ContinueOnError)
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && f.Name != "version" && !f.Hidden {
			clean.AddFlag(f)
		}
	})
	return clean.FlagUsages()
}

// dedent removes the two-space indent cobra examples carry.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "  ")
	}
	return strings.Join(lines, "\n")
}

// anchor is GitHub's heading anchor of a command path.
func anchor(s string) string {
	return strings.NewReplacer(" ", "-").Replace(strings.ToLower(s))
}
