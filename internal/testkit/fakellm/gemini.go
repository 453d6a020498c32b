package fakellm

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The Gemini API (Gemini CLI, through @google/genai with
// GOOGLE_GEMINI_BASE_URL): POST {base}/v1beta/models/{model}:generateContent
// answers one GenerateContentResponse as JSON, and
// :streamGenerateContent?alt=sse a series of data-only events, each a
// GenerateContentResponse with the next parts; the last carries the
// finishReason and usageMetadata. Thoughts are parts with thought: true,
// tool calls functionCall parts with their arguments as an object.

// geminiModel is the model named in a Gemini path ("models/<m>:verb").
func geminiModel(path string) string {
	i := strings.LastIndex(path, "/models/")
	if i < 0 {
		return ""
	}
	m, _, _ := strings.Cut(path[i+len("/models/"):], ":")
	return m
}

func (s *Server) serveGemini(w http.ResponseWriter, r *http.Request, req *Request, rp reply) {
	s.assignIDs(rp.calls, "call")
	finish := "STOP"
	if rp.stop == "max_tokens" {
		finish = "MAX_TOKENS"
	}
	usage := map[string]any{
		"promptTokenCount":     rp.usage.InputTokens,
		"candidatesTokenCount": rp.usage.OutputTokens,
		"totalTokenCount":      rp.usage.InputTokens + rp.usage.OutputTokens,
	}
	model := firstNonEmpty(geminiModel(req.Path), "gemini-fake")
	respID := s.id("resp")
	response := func(parts []any, last bool) map[string]any {
		cand := map[string]any{"content": map[string]any{"role": "model", "parts": parts}, "index": 0}
		out := map[string]any{"candidates": []any{cand}, "modelVersion": model, "responseId": respID}
		if last {
			cand["finishReason"] = finish
			out["usageMetadata"] = usage
		}
		return out
	}
	callPart := func(c *toolCall) map[string]any {
		var args any = map[string]any{}
		if c.Args != "" {
			_ = json.Unmarshal([]byte(c.Args), &args)
		}
		return map[string]any{"functionCall": map[string]any{"id": c.ID, "name": c.Name, "args": args}}
	}

	if !req.Stream() {
		if rp.streamErr != nil {
			s.writeError(w, APIGemini, *rp.streamErr)
			return
		}
		var parts []any
		if rp.thinking != "" {
			parts = append(parts, map[string]any{"text": rp.thinking, "thought": true})
		}
		if t := rp.text(); rp.chunks != nil && (t != "" || len(rp.calls) == 0) {
			parts = append(parts, map[string]any{"text": t})
		}
		for _, c := range rp.calls {
			parts = append(parts, callPart(c))
		}
		writeJSON(w, http.StatusOK, response(parts, true), rp.cut)
		return
	}

	st := s.newStream(w, r, rp)
	var events [][]any
	if rp.thinking != "" {
		events = append(events, []any{map[string]any{"text": rp.thinking, "thought": true}})
	}
	for _, c := range rp.chunks {
		if c != "" || (len(rp.calls) == 0 && len(rp.chunks) == 1) {
			events = append(events, []any{map[string]any{"text": c}})
		}
	}
	for _, c := range rp.calls {
		events = append(events, []any{callPart(c)})
	}
	if rp.streamErr != nil {
		for _, parts := range events {
			st.event("", response(parts, false))
		}
		st.event("", geminiError(*rp.streamErr))
		return
	}
	for i, parts := range events {
		st.event("", response(parts, i == len(events)-1))
	}
}

// geminiError is the Google API error document.
func geminiError(e APIError) map[string]any {
	status := "INTERNAL"
	switch st := e.status(); {
	case st == 400:
		status = "INVALID_ARGUMENT"
	case st == 401:
		status = "UNAUTHENTICATED"
	case st == 403:
		status = "PERMISSION_DENIED"
	case st == 404:
		status = "NOT_FOUND"
	case st == 429:
		status = "RESOURCE_EXHAUSTED"
	case st == 503:
		status = "UNAVAILABLE"
	}
	return map[string]any{"error": map[string]any{"code": e.status(), "message": e.message(), "status": status}}
}

func geminiTools(body map[string]any) []ToolSpec {
	var out []ToolSpec
	for _, t := range asSlice(body["tools"]) {
		for _, f := range asSlice(asMap(t)["functionDeclarations"]) {
			fn := asMap(f)
			schema := asMap(fn["parametersJsonSchema"])
			if schema == nil {
				schema = asMap(fn["parameters"])
			}
			out = append(out, ToolSpec{Name: str(fn["name"]), Type: "function", Schema: schema})
		}
	}
	return out
}

func geminiMessages(body map[string]any) []Message {
	var out []Message
	if sys := geminiText(asMap(body["systemInstruction"])["parts"]); sys != "" {
		out = append(out, Message{Role: "system", Text: sys})
	}
	for _, raw := range asSlice(body["contents"]) {
		c := asMap(raw)
		role := str(c["role"])
		if role == "model" {
			role = "assistant"
		}
		if role == "" {
			role = "user"
		}
		msg := Message{Role: role, Text: geminiText(c["parts"])}
		for _, p := range asSlice(c["parts"]) {
			part := asMap(p)
			if fc := asMap(part["functionCall"]); fc != nil {
				msg.ToolCalls = append(msg.ToolCalls, ToolUse{ID: firstNonEmpty(str(fc["id"]), str(fc["name"])), Name: str(fc["name"]), Input: compactJSON(fc["args"])})
			}
			if fr := asMap(part["functionResponse"]); fr != nil {
				resp := asMap(fr["response"])
				output, isErr := str(resp["output"]), false
				if e, ok := resp["error"]; ok {
					output, isErr = firstNonEmpty(str(e), compactJSON(e)), true
				} else if _, ok := resp["output"]; !ok {
					output = compactJSON(resp)
				}
				msg.ToolResults = append(msg.ToolResults, ToolResult{CallID: firstNonEmpty(str(fr["id"]), str(fr["name"])), Output: output, IsError: isErr})
			}
		}
		out = append(out, msg)
	}
	return out
}

// geminiText joins the text parts that are not thoughts.
func geminiText(parts any) string {
	var out []string
	for _, p := range asSlice(parts) {
		m := asMap(p)
		if t := str(m["text"]); t != "" && !boolOf(m["thought"]) {
			out = append(out, t)
		}
	}
	return strings.Join(out, "\n")
}
