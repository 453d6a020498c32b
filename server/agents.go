package server

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/session"
)

type healthOut struct {
	Body schema.HealthResponse
}

func (s *Server) registerMeta() {
	o := op("getHealth", http.MethodGet, "/v1/health", "Health check", "meta")
	o.Security = nil
	huma.Register(s.api, o, func(ctx context.Context, _ *struct{}) (*healthOut, error) {
		return &healthOut{Body: schema.HealthResponse{Status: "ok"}}, nil
	})
}

type agentPath struct {
	Agent string `path:"agent" doc:"Agent id: claude, codex, opencode, amp, an ACP agent (opencode-acp, gemini, codex-acp, claude-acp) or mock."`
}

type agentListOut struct{ Body schema.AgentListResponse }
type installIn struct {
	Agent string `path:"agent" doc:"Agent id: claude, codex, opencode, amp, an ACP agent (opencode-acp, gemini, codex-acp, claude-acp) or mock."`
	Body  *schema.AgentInstallRequest
}
type modesOut struct{ Body schema.AgentModesResponse }
type modelsOut struct{ Body schema.AgentModelsResponse }

func (s *Server) adapter(id string) (agent.Adapter, error) {
	a, ok := s.cfg.Manager.Registry().Get(id)
	if !ok {
		return nil, problem.Unsupported(id)
	}
	return a, nil
}

func (s *Server) registerAgents() {
	huma.Register(s.api, op("listAgents", http.MethodGet, "/v1/agents", "List agents with install status and capabilities", "agents"),
		wrap(s, func(ctx context.Context, _ *struct{}) (*agentListOut, error) {
			all := s.cfg.Manager.Registry().All()
			out := make([]schema.AgentInfo, len(all))
			creds := s.credentialsOnce()
			var wg sync.WaitGroup
			for i, a := range all {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out[i] = s.agentInfo(ctx, a, creds)
				}()
			}
			wg.Wait()
			return &agentListOut{Body: schema.AgentListResponse{Agents: out}}, nil
		}))

	inst := op("installAgent", http.MethodPost, "/v1/agents/{agent}/install", "Install or reinstall an agent", "agents")
	inst.DefaultStatus = http.StatusNoContent
	inst.Errors = []int{400, 500}
	huma.Register(s.api, inst, wrap(s, func(ctx context.Context, in *installIn) (*struct{}, error) {
		a, err := s.adapter(in.Agent)
		if err != nil {
			return nil, err
		}
		if a.Info().ID == "mock" {
			return nil, nil
		}
		if s.cfg.Installer == nil {
			return nil, problem.InstallFailure(in.Agent, errors.New("no installer configured"))
		}
		var body schema.AgentInstallRequest
		if in.Body != nil {
			body = *in.Body
		}
		if err := s.cfg.Installer.Install(ctx, in.Agent, schema.Deref(body.AgentVersion), schema.Deref(body.Reinstall)); err != nil {
			return nil, problem.InstallFailure(in.Agent, err)
		}
		return nil, nil
	}))

	huma.Register(s.api, op("getAgentModes", http.MethodGet, "/v1/agents/{agent}/modes", "List an agent's modes", "agents"),
		wrap(s, func(ctx context.Context, in *agentPath) (*modesOut, error) {
			a, err := s.adapter(in.Agent)
			if err != nil {
				return nil, err
			}
			modes, err := a.Modes(ctx)
			if err != nil {
				return nil, session.AgentProblem(err, in.Agent)
			}
			if modes == nil {
				modes = []agent.Mode{}
			}
			return &modesOut{Body: schema.AgentModesResponse{Modes: modes}}, nil
		}))

	huma.Register(s.api, op("getAgentModels", http.MethodGet, "/v1/agents/{agent}/models", "List an agent's models", "agents"),
		wrap(s, func(ctx context.Context, in *agentPath) (*modelsOut, error) {
			a, err := s.adapter(in.Agent)
			if err != nil {
				return nil, err
			}
			ml, err := a.Models(ctx)
			if err != nil {
				return nil, session.AgentProblem(err, in.Agent)
			}
			if ml.Models == nil {
				ml.Models = []schema.AgentModelInfo{}
			}
			return &modelsOut{Body: ml}, nil
		}))
}

// credentialsOnce answers Config.Credentials at most once per provider: a
// listing asks for every agent, and each answer reads every agent's
// credential files (agents share providers).
func (s *Server) credentialsOnce() func(provider string) bool {
	var mu sync.Mutex
	known := map[string]bool{}
	return func(p string) bool {
		mu.Lock()
		defer mu.Unlock()
		v, ok := known[p]
		if !ok {
			v = s.cfg.Credentials != nil && s.cfg.Credentials(p)
			known[p] = v
		}
		return v
	}
}

func (s *Server) agentInfo(ctx context.Context, a agent.Adapter, creds func(provider string) bool) schema.AgentInfo {
	info := a.Info()
	ai := schema.AgentInfo{ID: info.ID, Capabilities: info.Capabilities}
	if st, err := a.Status(ctx); err == nil {
		ai.Installed = st.Installed
		if st.Version != "" {
			ai.Version = schema.Ptr(st.Version)
		}
		if st.Path != "" {
			ai.Path = schema.Ptr(st.Path)
		}
		ai.ServerStatus = st.Server
	}
	if c, ok := a.(agent.CredentialChecker); ok {
		ai.CredentialsAvailable = c.CredentialsAvailable()
	} else if len(info.CredentialProviders) == 0 {
		ai.CredentialsAvailable = true
	} else {
		for _, p := range info.CredentialProviders {
			if creds(p) {
				ai.CredentialsAvailable = true
				break
			}
		}
	}
	return ai
}
