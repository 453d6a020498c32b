package codex

import (
	"context"
	"sort"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/process"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// EffortLevels are the variants when the app-server cannot be asked.
var EffortLevels = []string{"low", "medium", "high", "xhigh"}

// FallbackModels is the list used when model/list fails: the CLI's
// catalogued slugs at 0.169.
func FallbackModels() agent.ModelList {
	m := func(id string) schema.AgentModelInfo {
		return schema.AgentModelInfo{ID: id, Name: schema.Ptr(id), Variants: EffortLevels, DefaultVariant: schema.Ptr("medium")}
	}
	return agent.ModelList{
		Models:       []schema.AgentModelInfo{m("gpt-5.5"), m("gpt-5.4"), m("gpt-5.4-mini"), m("gpt-5.3-codex")},
		DefaultModel: schema.Ptr("gpt-5.5"),
	}
}

// Models asks the app-server (model/list, every page); the first answer is
// kept for the adapter's life, and the fallback list stands in when the
// server cannot be started or asked.
func (a *Adapter) Models(ctx context.Context) (agent.ModelList, error) {
	a.mmu.Lock()
	defer a.mmu.Unlock()
	if a.models != nil {
		return *a.models, nil
	}
	if _, ok := a.resolve(); !ok {
		return FallbackModels(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	a.emu.Lock()
	if a.env == nil {
		a.env = append([]string{}, a.opts.Env...)
	}
	a.emu.Unlock()
	lease, inst, err := a.srv.sup.Acquire(ctx, process.LeaseHooks[*rpc]{})
	if err != nil {
		return FallbackModels(), nil
	}
	defer lease.Release()
	list, err := listModels(ctx, inst.Client)
	if err != nil || len(list.Models) == 0 {
		return FallbackModels(), nil
	}
	a.models = &list
	return list, nil
}

func listModels(ctx context.Context, c *rpc) (agent.ModelList, error) {
	var out agent.ModelList
	seen := map[string]bool{}
	var cursor *string
	for range 20 { // pages; a server that never stops paging is not followed forever
		var res modelListResult
		if err := c.Call(ctx, methodModelList, modelListParams{Cursor: cursor}, &res); err != nil {
			return out, err
		}
		for _, m := range res.Data {
			id := m.Model
			if id == "" {
				id = m.ID
			}
			if id == "" || seen[id] || m.Hidden {
				continue
			}
			seen[id] = true
			info := schema.AgentModelInfo{ID: id}
			if m.DisplayName != "" {
				info.Name = schema.Ptr(m.DisplayName)
			}
			for _, e := range m.SupportedReasoningEfforts {
				info.Variants = append(info.Variants, e.ReasoningEffort)
			}
			if m.DefaultReasoningEffort != "" {
				info.DefaultVariant = schema.Ptr(m.DefaultReasoningEffort)
			}
			out.Models = append(out.Models, info)
			if m.IsDefault && out.DefaultModel == nil {
				out.DefaultModel = schema.Ptr(id)
			}
		}
		if res.NextCursor == nil || *res.NextCursor == "" {
			break
		}
		cursor = res.NextCursor
	}
	// The model the user's config chooses is what a thread gets without
	// one, so it is the default, whatever the catalog prefers.
	var cfg configReadResult
	if err := c.Call(ctx, methodConfigRead, struct{}{}, &cfg); err == nil && cfg.Config.Model != nil && *cfg.Config.Model != "" {
		id := *cfg.Config.Model
		out.DefaultModel = schema.Ptr(id)
		if !seen[id] {
			out.Models = append(out.Models, schema.AgentModelInfo{ID: id, Name: schema.Ptr(id)})
		}
	}
	sort.Slice(out.Models, func(i, j int) bool { return out.Models[i].ID < out.Models[j].ID })
	if out.DefaultModel == nil && len(out.Models) > 0 {
		out.DefaultModel = schema.Ptr(out.Models[0].ID)
	}
	return out, nil
}
