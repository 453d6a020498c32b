package fakellm

import (
	"encoding/json"
	"net/http"
)

// serveAnthropic answers POST /v1/messages. The stream follows the real API:
// message_start, then per content block content_block_start /
// content_block_delta… / content_block_stop (a ping after the first start),
// then message_delta with stop_reason and usage, and message_stop.
func (s *Server) serveAnthropic(w http.ResponseWriter, r *http.Request, req *Request, rp reply) {
	s.assignIDs(rp.calls, "toolu")
	stop := rp.stopReason("end_turn", "tool_use")
	msgID := s.id("msg")
	model := firstNonEmpty(req.Model(), "claude-fake")
	signature := s.id("sig")
	w.Header().Set("request-id", s.id("req"))

	if !req.Stream() {
		if rp.streamErr != nil {
			s.writeError(w, APIAnthropic, *rp.streamErr)
			return
		}
		content := []any{}
		if rp.thinking != "" {
			content = append(content, map[string]any{"type": "thinking", "thinking": rp.thinking, "signature": signature})
		}
		if rp.chunks != nil {
			content = append(content, map[string]any{"type": "text", "text": rp.text()})
		}
		for _, c := range rp.calls {
			content = append(content, map[string]any{"type": "tool_use", "id": c.ID, "name": c.Name, "input": json.RawMessage(c.Args)})
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": msgID, "type": "message", "role": "assistant", "model": model,
			"content": content, "stop_reason": stop, "stop_sequence": nil,
			"usage": anthropicUsage(rp.usage.InputTokens, rp.usage.OutputTokens),
		}, rp.cut)
		return
	}

	st := s.newStream(w, r, rp)
	st.event("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": msgID, "type": "message", "role": "assistant", "model": model,
		"content": []any{}, "stop_reason": nil, "stop_sequence": nil,
		"usage": anthropicUsage(rp.usage.InputTokens, 1),
	}})
	index := 0
	block := func(start map[string]any, deltas ...map[string]any) {
		st.event("content_block_start", map[string]any{"type": "content_block_start", "index": index, "content_block": start})
		if index == 0 {
			st.event("ping", map[string]any{"type": "ping"})
		}
		for _, d := range deltas {
			st.event("content_block_delta", map[string]any{"type": "content_block_delta", "index": index, "delta": d})
		}
		st.event("content_block_stop", map[string]any{"type": "content_block_stop", "index": index})
		index++
	}
	if rp.thinking != "" {
		block(map[string]any{"type": "thinking", "thinking": "", "signature": ""},
			map[string]any{"type": "thinking_delta", "thinking": rp.thinking},
			map[string]any{"type": "signature_delta", "signature": signature})
	}
	if rp.chunks != nil {
		var deltas []map[string]any
		for _, c := range rp.chunks {
			deltas = append(deltas, map[string]any{"type": "text_delta", "text": c})
		}
		block(map[string]any{"type": "text", "text": ""}, deltas...)
	}
	for _, c := range rp.calls {
		var deltas []map[string]any
		for _, p := range pieces(c.Args, 20) {
			deltas = append(deltas, map[string]any{"type": "input_json_delta", "partial_json": p})
		}
		block(map[string]any{"type": "tool_use", "id": c.ID, "name": c.Name, "input": map[string]any{}}, deltas...)
	}
	if rp.streamErr != nil {
		st.event("error", anthropicError(*rp.streamErr))
		return
	}
	st.event("message_delta", map[string]any{
		"type":  "message_delta",
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": rp.usage.OutputTokens},
	})
	st.event("message_stop", map[string]any{"type": "message_stop"})
}

func anthropicUsage(in, out int) map[string]any {
	return map[string]any{
		"input_tokens": in, "output_tokens": out,
		"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
	}
}
