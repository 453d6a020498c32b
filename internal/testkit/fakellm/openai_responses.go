package fakellm

import (
	"net/http"
	"time"
)

// serveResponses answers POST /v1/responses (and /responses), the only API
// Codex speaks. The stream is: response.created, response.in_progress, then
// per output item response.output_item.added, its part/delta/done events and
// response.output_item.done, and finally response.completed with usage (or
// response.failed). Every event carries a sequence_number. Codex builds its
// history from output_item.done, so each done item is complete.
func (s *Server) serveResponses(w http.ResponseWriter, r *http.Request, req *Request, rp reply) {
	s.assignIDs(rp.calls, "call")
	respID := s.id("resp")
	model := firstNonEmpty(req.Model(), "gpt-fake")
	created := time.Now().Unix()
	usage := map[string]any{
		"input_tokens":          rp.usage.InputTokens,
		"input_tokens_details":  map[string]any{"cached_tokens": 0},
		"output_tokens":         rp.usage.OutputTokens,
		"output_tokens_details": map[string]any{"reasoning_tokens": 0},
		"total_tokens":          rp.usage.InputTokens + rp.usage.OutputTokens,
	}
	response := func(status string, output []any, usage any) map[string]any {
		return map[string]any{
			"id": respID, "object": "response", "created_at": created, "status": status,
			"model": model, "output": output, "usage": usage, "error": nil,
			"incomplete_details": nil, "parallel_tool_calls": true,
		}
	}

	// Build the finished items first; the stream then replays how each was
	// produced.
	type item struct {
		done   map[string]any
		events func(st *responsesStream, index int)
	}
	var items []item
	if rp.thinking != "" {
		id := s.id("rs")
		items = append(items, item{
			done: map[string]any{"id": id, "type": "reasoning", "summary": []any{
				map[string]any{"type": "summary_text", "text": rp.thinking},
			}},
			events: func(st *responsesStream, index int) {
				st.send("response.output_item.added", map[string]any{"output_index": index, "item": map[string]any{"id": id, "type": "reasoning", "summary": []any{}}})
				part := map[string]any{"item_id": id, "output_index": index, "summary_index": 0}
				st.send("response.reasoning_summary_part.added", with(part, "part", map[string]any{"type": "summary_text", "text": ""}))
				st.send("response.reasoning_summary_text.delta", with(part, "delta", rp.thinking))
				st.send("response.reasoning_summary_text.done", with(part, "text", rp.thinking))
				st.send("response.reasoning_summary_part.done", with(part, "part", map[string]any{"type": "summary_text", "text": rp.thinking}))
			},
		})
	}
	if rp.chunks != nil {
		id := s.id("msg")
		text := rp.text()
		items = append(items, item{
			done: map[string]any{"id": id, "type": "message", "status": "completed", "role": "assistant", "content": []any{
				map[string]any{"type": "output_text", "text": text, "annotations": []any{}},
			}},
			events: func(st *responsesStream, index int) {
				st.send("response.output_item.added", map[string]any{"output_index": index, "item": map[string]any{
					"id": id, "type": "message", "status": "in_progress", "role": "assistant", "content": []any{},
				}})
				part := map[string]any{"item_id": id, "output_index": index, "content_index": 0}
				st.send("response.content_part.added", with(part, "part", map[string]any{"type": "output_text", "text": "", "annotations": []any{}}))
				for _, c := range rp.chunks {
					st.send("response.output_text.delta", with(with(part, "delta", c), "logprobs", []any{}))
				}
				st.send("response.output_text.done", with(with(part, "text", text), "logprobs", []any{}))
				st.send("response.content_part.done", with(part, "part", map[string]any{"type": "output_text", "text": text, "annotations": []any{}}))
			},
		})
	}
	for _, c := range rp.calls {
		if c.Custom {
			id := s.id("ctc")
			items = append(items, item{
				done: map[string]any{"id": id, "type": "custom_tool_call", "status": "completed", "call_id": c.ID, "name": c.Name, "input": c.Raw},
				events: func(st *responsesStream, index int) {
					st.send("response.output_item.added", map[string]any{"output_index": index, "item": map[string]any{
						"id": id, "type": "custom_tool_call", "status": "in_progress", "call_id": c.ID, "name": c.Name, "input": "",
					}})
					ev := map[string]any{"item_id": id, "output_index": index}
					for _, p := range pieces(c.Raw, 40) {
						st.send("response.custom_tool_call_input.delta", with(ev, "delta", p))
					}
					st.send("response.custom_tool_call_input.done", with(ev, "input", c.Raw))
				},
			})
			continue
		}
		id := s.id("fc")
		items = append(items, item{
			done: map[string]any{"id": id, "type": "function_call", "status": "completed", "call_id": c.ID, "name": c.Name, "arguments": c.Args},
			events: func(st *responsesStream, index int) {
				st.send("response.output_item.added", map[string]any{"output_index": index, "item": map[string]any{
					"id": id, "type": "function_call", "status": "in_progress", "call_id": c.ID, "name": c.Name, "arguments": "",
				}})
				ev := map[string]any{"item_id": id, "output_index": index}
				for _, p := range pieces(c.Args, 20) {
					st.send("response.function_call_arguments.delta", with(ev, "delta", p))
				}
				st.send("response.function_call_arguments.done", with(with(ev, "arguments", c.Args), "name", c.Name))
			},
		})
	}
	output := make([]any, 0, len(items))
	for _, it := range items {
		output = append(output, it.done)
	}

	if !req.Stream() {
		if rp.streamErr != nil {
			s.writeError(w, APIResponses, *rp.streamErr)
			return
		}
		writeJSON(w, http.StatusOK, response("completed", output, usage), rp.cut)
		return
	}

	st := &responsesStream{stream: s.newStream(w, r, rp)}
	st.send("response.created", map[string]any{"response": response("in_progress", []any{}, nil)})
	st.send("response.in_progress", map[string]any{"response": response("in_progress", []any{}, nil)})
	for i, it := range items {
		it.events(st, i)
		st.send("response.output_item.done", map[string]any{"output_index": i, "item": it.done})
	}
	if e := rp.streamErr; e != nil {
		failed := response("failed", output, usage)
		typ, code := openAIErrorFields(*e)
		if code == nil {
			code = typ
		}
		failed["error"] = map[string]any{"code": code, "message": e.message()}
		st.send("response.failed", map[string]any{"response": failed})
		return
	}
	st.send("response.completed", map[string]any{"response": response("completed", output, usage)})
}

// responsesStream numbers Responses events.
type responsesStream struct {
	*stream
	seq int
}

func (st *responsesStream) send(typ string, fields map[string]any) {
	ev := make(map[string]any, len(fields)+2)
	for k, v := range fields {
		ev[k] = v
	}
	ev["type"] = typ
	ev["sequence_number"] = st.seq
	st.seq++
	st.event(typ, ev)
}

// with returns a copy of m with k set to v.
func with(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}
