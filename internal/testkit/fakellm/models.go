package fakellm

import (
	"net/http"
	"strings"
)

func (s *Server) serveModels(w http.ResponseWriter, req *Request) {
	p := strings.TrimSuffix(req.Path, "/")
	one := ""
	if i := strings.LastIndex(p, "/models/"); i >= 0 {
		one = p[i+len("/models/"):]
	}
	anthropic := req.API == APIAnthropic
	entry := func(id string) map[string]any {
		return map[string]any{"id": id, "object": "model", "created": 1735689600, "owned_by": "fakellm"}
	}
	if anthropic {
		entry = func(id string) map[string]any {
			return map[string]any{"type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z"}
		}
	}
	if one != "" {
		writeJSON(w, http.StatusOK, entry(one), 0)
		return
	}
	data := []any{}
	for _, id := range s.models {
		data = append(data, entry(id))
	}
	if !anthropic {
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data}, 0)
		return
	}
	var first, last any
	if n := len(s.models); n > 0 {
		first, last = s.models[0], s.models[n-1]
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "has_more": false, "first_id": first, "last_id": last}, 0)
}
