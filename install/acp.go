package install

import (
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent/acp/registry"
)

// ACP agents come from their registry (agent/acp/registry): one that runs
// another agent's binary (`opencode acp`) is an alias of that agent, one
// with its own npm package gets a spec of its own. Such packages are
// JavaScript programs (no platform packages), which install in JavaScript
// mode with a node launcher that answers --version itself because ACP
// servers start serving on any command line, or native executables in
// platform packages, accepted when they answer --help (they have no
// --version; the installer's receipt tells their version).
var aliases = map[string]string{}

// acpAgents are the ACP agent ids in registry order.
var acpAgents []string

func init() {
	for _, e := range registry.Entries() {
		acpAgents = append(acpAgents, e.ID)
		if e.Shares != "" {
			aliases[e.ID] = e.Shares
			continue
		}
		spec := agentSpec{
			bin:             e.Bin,
			npm:             e.NPM,
			platformPkgs:    func(platform) []string { return nil },
			pin:             e.Pin,
			launcherVersion: true,
		}
		if e.Platform != "" {
			tmpl := e.Platform
			spec.platformPkgs = func(p platform) []string {
				return []string{strings.NewReplacer("{os}", p.OS, "{arch}", p.Arch).Replace(tmpl)}
			}
			spec.single = []string{e.PlatformBin}
			spec.launcherVersion, spec.noVersionFlag = false, true
		}
		specs[e.ID] = spec
	}
}

// canonical is the agent whose installation serves agent.
func canonical(agent string) string {
	if a, ok := aliases[agent]; ok {
		return a
	}
	return agent
}

// BinName is the executable's file name for agent in the install directory
// ("" for an unknown agent).
func BinName(agent string) string {
	return specs[canonical(agent)].bin
}
