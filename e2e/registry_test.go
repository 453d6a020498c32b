package e2e

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/install"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/fakellm"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Agent is one agent kind under test. An agent_<name>_test.go registers it
// from an init function; the harness core never names an agent.
type Agent struct {
	// Name is the adapter id (claude, codex, opencode, amp) and the install
	// package's agent name.
	Name string
	// Setup writes the agent's configuration (r.Home, r.Work, r.LLM are
	// set) before the server starts. Optional.
	Setup func(r *Run) error
	// Env is added to the server's environment, and so to the agent
	// processes it starts: base URLs, fake keys, switches that keep the
	// agent off the network. Optional.
	Env func(r *Run) []string
	// Unsupported lists the rows the agent truly cannot do, with the
	// reason, which the matrix shows. Every other row runs.
	Unsupported map[string]string
	// Known lists rows that fail because of a known bug, with a short
	// description (and where it is tracked). Such a row still runs: its
	// failure is shown in the matrix as a known bug instead of failing the
	// run, and the run fails once it passes, so the entry gets removed.
	Known map[string]string
	// Unusable, when set, skips every shared row with this reason (an
	// agent that cannot run against a local model at all); the agent's own
	// rows (Scenario.Only) still run: they prove what can be proven without
	// a model.
	Unusable string
	// Rows adapts rows to the agent: other fakellm steps, session settings,
	// environment, or a whole other body.
	Rows map[string]Row
	// Wire runs the CLI directly (no adapter) against fakellm to prove the
	// fake server's wire format; optional. See TestWire.
	Wire func(w *Wire)
	// NoVersionFlag: the executable has no --version (TestInstall runs
	// --help instead; the version is the installer's).
	NoVersionFlag bool
}

// Row is an agent's variation of a scenario. Zero fields keep the
// scenario's defaults.
type Row struct {
	Steps   func(r *Run) []fakellm.Step
	Session func(req *schema.CreateSessionRequest)
	Env     []string
	Run     func(r *Run)
}

// Scenario is one row of the table: the same test for every agent.
type Scenario struct {
	// ID names the row in test names, captures and the matrix
	// ("permission-once").
	ID string
	// Title is the row's text in the matrix.
	Title string
	// Session adjusts the session request (permission mode, agent mode).
	Session func(req *schema.CreateSessionRequest)
	// Steps is the default script of the fake model.
	Steps func(r *Run) []fakellm.Step
	// Run is the body: create the session, talk, assert.
	Run func(r *Run)
	// Only, when set, limits the row to these agents; the others do not
	// show it at all (for agent-specific rows added by an adapter issue).
	Only []string
}

var (
	agents    []*Agent
	scenarios []*Scenario
)

// RegisterAgent adds an agent to the table. Call it from init.
func RegisterAgent(a Agent) {
	if a.Name == "" || findAgent(a.Name) != nil {
		panic(fmt.Sprintf("e2e: agent %q registered twice or without a name", a.Name))
	}
	agents = append(agents, &a)
	// Files initialise in name order; list agents in the install
	// package's canonical order instead (unknown names last, by name).
	slices.SortStableFunc(agents, func(x, y *Agent) int {
		if rx, ry := agentRank(x.Name), agentRank(y.Name); rx != ry {
			return rx - ry
		}
		return strings.Compare(x.Name, y.Name)
	})
}

func agentRank(name string) int {
	if i := slices.Index(install.Agents(), name); i >= 0 {
		return i
	}
	return len(install.Agents())
}

// RegisterScenario appends a row to the table. Call it from init; rows keep
// registration order (files initialise in name order), except that
// agent-specific rows (Only set) follow the shared ones, whichever file
// registered them first.
func RegisterScenario(s Scenario) {
	if s.ID == "" || s.Run == nil || findScenario(s.ID) != nil {
		panic(fmt.Sprintf("e2e: scenario %q registered twice, or without an id or body", s.ID))
	}
	scenarios = append(scenarios, &s)
	slices.SortStableFunc(scenarios, func(x, y *Scenario) int {
		return boolRank(len(x.Only) > 0) - boolRank(len(y.Only) > 0)
	})
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func findAgent(name string) *Agent {
	for _, a := range agents {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func findScenario(id string) *Scenario {
	for _, s := range scenarios {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// appliesTo reports whether the row exists for agent at all.
func (s *Scenario) appliesTo(agent string) bool {
	return len(s.Only) == 0 || slices.Contains(s.Only, agent)
}
