package install

import "github.com/sandbox-agent/sandbox-agent/agent/acp/registry"

// ACP agents come from their registry (agent/acp/registry): one that runs
// another agent's binary (`opencode acp`) is an alias of that agent, one
// with its own npm package gets a spec of its own. Such packages are
// JavaScript programs (no platform packages): they install in JavaScript
// mode with a node launcher, which answers --version itself because ACP
// servers start serving on any command line.
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
		specs[e.ID] = agentSpec{
			bin:             e.Bin,
			npm:             e.NPM,
			platformPkgs:    func(platform) []string { return nil },
			pin:             e.Pin,
			launcherVersion: true,
		}
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
