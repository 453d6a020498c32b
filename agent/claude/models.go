package claude

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/credentials"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// ModelsOptions configures model discovery: GET <base>/v1/models?beta=true
// on the Anthropic API (or any compatible endpoint), falling back to the
// CLI's aliases when there is no credential or the call fails.
type ModelsOptions struct {
	// BaseURL is the API base; $ANTHROPIC_BASE_URL, else
	// https://api.anthropic.com, when empty.
	BaseURL string
	// Credential returns the token to list models with and whether it is
	// an OAuth token (Authorization: Bearer) rather than an API key
	// (x-api-key). The default is credentials.Lookup("anthropic"):
	// ANTHROPIC_API_KEY, CLAUDE_API_KEY, CLAUDE_CODE_OAUTH_TOKEN,
	// ANTHROPIC_AUTH_TOKEN, then the agents' config files.
	Credential func() (token string, oauth bool)
	// Client makes the request; a client with a 10 s timeout when nil.
	Client *http.Client
}

// EffortLevels are the model variants: the CLI's thinking effort
// (CLAUDE_CODE_EFFORT_LEVEL).
var EffortLevels = []string{"low", "medium", "high", "xhigh", "max"}

// FallbackModels is the list used when the API cannot be asked: the CLI's
// own aliases.
func FallbackModels() agent.ModelList {
	m := func(id, name string) schema.AgentModelInfo {
		return schema.AgentModelInfo{ID: id, Name: schema.Ptr(name), Variants: EffortLevels}
	}
	return agent.ModelList{
		Models: []schema.AgentModelInfo{
			m("default", "Default (recommended)"), m("sonnet", "Sonnet"), m("opus", "Opus"), m("haiku", "Haiku"),
		},
		DefaultModel: schema.Ptr("default"),
	}
}

func defaultCredential() (string, bool) {
	c, _ := credentials.Lookup("anthropic")
	return c.APIKey, c.AuthType == "oauth"
}

// Models lists the endpoint's models, sorted by id, the newest being the
// default. The first successful listing is kept for the adapter's life;
// without a credential, or when the call fails, it is the fallback list.
func (a *Adapter) Models(ctx context.Context) (agent.ModelList, error) {
	a.mmu.Lock()
	defer a.mmu.Unlock()
	if a.models != nil {
		return *a.models, nil
	}
	mo := a.opts.Models
	cred := mo.Credential
	if cred == nil {
		cred = defaultCredential
	}
	token, oauth := cred()
	if token == "" {
		return FallbackModels(), nil
	}
	list, err := listModels(ctx, mo, token, oauth)
	if err != nil || len(list.Models) == 0 {
		return FallbackModels(), nil
	}
	a.models = &list
	return list, nil
}

func listModels(ctx context.Context, mo ModelsOptions, token string, oauth bool) (agent.ModelList, error) {
	base := mo.BaseURL
	if base == "" {
		base = os.Getenv("ANTHROPIC_BASE_URL")
	}
	if base == "" {
		base = "https://api.anthropic.com"
	}
	client := mo.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/v1/models?beta=true&limit=1000", nil)
	if err != nil {
		return agent.ModelList{}, err
	}
	if oauth {
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("anthropic-beta", "oauth-2025-04-20")
	} else {
		req.Header.Set("x-api-key", token)
	}
	req.Header.Set("anthropic-version", "2023-06-01")
	resp, err := client.Do(req)
	if err != nil {
		return agent.ModelList{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return agent.ModelList{}, fmt.Errorf("list models: %s", resp.Status)
	}
	var body struct {
		Data []struct {
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
			CreatedAt   string `json:"created_at"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return agent.ModelList{}, fmt.Errorf("list models: %w", err)
	}
	sort.Slice(body.Data, func(i, j int) bool { return body.Data[i].ID < body.Data[j].ID })
	var out agent.ModelList
	newest := ""
	for _, m := range body.Data {
		if m.ID == "" {
			continue
		}
		info := schema.AgentModelInfo{ID: m.ID, Variants: EffortLevels}
		if m.DisplayName != "" {
			info.Name = schema.Ptr(m.DisplayName)
		}
		out.Models = append(out.Models, info)
		if out.DefaultModel == nil || m.CreatedAt > newest {
			out.DefaultModel, newest = schema.Ptr(m.ID), m.CreatedAt
		}
	}
	return out, nil
}
