package fakellm

import (
	"net/http"
	"time"
)

// serveChat answers POST /v1/chat/completions, the API OpenCode's
// openai-compatible provider speaks. A stream is a series of data-only
// chat.completion.chunk events: the role, reasoning_content and content
// deltas, tool_calls deltas (id and name first, then argument pieces), a
// chunk with finish_reason, a usage chunk with empty choices when
// stream_options.include_usage is set, and `data: [DONE]`.
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request, req *Request, rp reply) {
	s.assignIDs(rp.calls, "call")
	finish := rp.stopReason("stop", "tool_calls")
	id := "chatcmpl-" + s.id("fake")
	model := firstNonEmpty(req.Model(), "fake-model")
	created := time.Now().Unix()
	usage := map[string]any{
		"prompt_tokens":     rp.usage.InputTokens,
		"completion_tokens": rp.usage.OutputTokens,
		"total_tokens":      rp.usage.InputTokens + rp.usage.OutputTokens,
	}

	if !req.Stream() {
		if rp.streamErr != nil {
			s.writeError(w, APIChat, *rp.streamErr)
			return
		}
		msg := map[string]any{"role": "assistant", "content": nil}
		if rp.chunks != nil {
			msg["content"] = rp.text()
		}
		if rp.thinking != "" {
			msg["reasoning_content"] = rp.thinking
		}
		if len(rp.calls) > 0 {
			var calls []any
			for _, c := range rp.calls {
				calls = append(calls, map[string]any{"id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": c.Args}})
			}
			msg["tool_calls"] = calls
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
			"usage":   usage,
		}, rp.cut)
		return
	}

	st := s.newStream(w, r, rp)
	chunk := func(delta map[string]any, finish any) {
		st.event("", map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		})
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil)
	if rp.thinking != "" {
		chunk(map[string]any{"reasoning_content": rp.thinking}, nil)
	}
	for _, c := range rp.chunks {
		chunk(map[string]any{"content": c}, nil)
	}
	for i, c := range rp.calls {
		chunk(map[string]any{"tool_calls": []any{map[string]any{
			"index": i, "id": c.ID, "type": "function",
			"function": map[string]any{"name": c.Name, "arguments": ""},
		}}}, nil)
		for _, p := range pieces(c.Args, 20) {
			chunk(map[string]any{"tool_calls": []any{map[string]any{
				"index": i, "function": map[string]any{"arguments": p},
			}}}, nil)
		}
	}
	if rp.streamErr != nil {
		st.event("", openAIError(*rp.streamErr))
		return
	}
	chunk(map[string]any{}, finish)
	if boolOf(asMap(req.JSON["stream_options"])["include_usage"]) {
		st.event("", map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"choices": []any{}, "usage": usage,
		})
	}
	st.write("", "[DONE]")
}
