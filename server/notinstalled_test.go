package server_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/opencode"
)

// TestModesModelsOfMissingAgent: listing the modes or models of opencode
// (which asks its own server) when its binary is absent is a 404 agent_not_installed, not a 500 (found by
// schemathesis in CI).
func TestModesModelsOfMissingAgent(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent")
	e := startAPI(t, apiOpts{adapters: []agent.Adapter{
		opencode.New(opencode.Options{Binary: filepath.Join(missing, "opencode")}),
	}})
	for _, ag := range []string{"opencode"} {
		for _, what := range []string{"modes", "models"} {
			st, _, body := raw(t, "GET", e.url+"/v1/agents/"+ag+"/"+what, "", "")
			var p struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal([]byte(body), &p)
			if st != 404 || p.Type != "urn:sandbox-agent:error:agent_not_installed" {
				t.Errorf("%s %s: %d %s", ag, what, st, body)
			}
		}
	}
}
