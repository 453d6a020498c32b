// Command sandbox-agent runs coding agents inside a sandbox and serves them
// over HTTP.
package main

import (
	"os"

	"github.com/sandbox-agent/sandbox-agent/inspector"
	"github.com/sandbox-agent/sandbox-agent/internal/cli"
)

func main() {
	// The inspector's committed build, embedded: served at /ui/.
	cli.UI = inspector.Handler()
	os.Exit(cli.Main(os.Args[1:]))
}
