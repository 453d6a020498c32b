package agent

import "sort"

// Registry holds the adapters in a fixed order.
type Registry struct {
	order []string
	byID  map[string]Adapter
}

// NewRegistry registers adapters in the given order.
func NewRegistry(adapters ...Adapter) *Registry {
	r := &Registry{byID: map[string]Adapter{}}
	for _, a := range adapters {
		id := a.Info().ID
		if _, dup := r.byID[id]; !dup {
			r.order = append(r.order, id)
		}
		r.byID[id] = a
	}
	return r
}

// Get returns the adapter for id.
func (r *Registry) Get(id string) (Adapter, bool) {
	a, ok := r.byID[id]
	return a, ok
}

// All returns the adapters in registration order.
func (r *Registry) All() []Adapter {
	out := make([]Adapter, 0, len(r.order))
	for _, id := range r.order {
		out = append(out, r.byID[id])
	}
	return out
}

// IDs returns the registered ids, sorted.
func (r *Registry) IDs() []string {
	ids := append([]string(nil), r.order...)
	sort.Strings(ids)
	return ids
}
