package fakellm

import (
	"fmt"
	"net/http"
	"strings"
)

// writeError answers with e, shaped for api.
func (s *Server) writeError(w http.ResponseWriter, api API, e APIError) {
	status := e.status()
	for k, v := range e.Headers {
		w.Header().Set(k, v)
	}
	if e.NoRetry {
		w.Header().Set("x-should-retry", "false")
	}
	if api == APIAnthropic {
		reqID := s.id("req")
		w.Header().Set("request-id", reqID)
		body := anthropicError(e)
		body["request_id"] = reqID
		writeJSON(w, status, body, 0)
		return
	}
	if api == APIGemini {
		writeJSON(w, status, geminiError(e), 0)
		return
	}
	writeJSON(w, status, openAIError(e), 0)
}

func (e APIError) status() int {
	if e.Status == 0 {
		return http.StatusInternalServerError
	}
	return e.Status
}

func (e APIError) message() string {
	if e.Message != "" {
		return e.Message
	}
	text := http.StatusText(e.status())
	if e.status() == 529 {
		text = "Overloaded" // Anthropic's own status, unknown to net/http
	}
	return strings.TrimSpace(fmt.Sprintf("fakellm: scripted %d %s", e.status(), text))
}

// anthropicError is the Anthropic error document, also used as the data of
// an in-stream `error` event.
func anthropicError(e APIError) map[string]any {
	typ := e.Type
	if typ == "" {
		switch st := e.status(); st {
		case 400:
			typ = "invalid_request_error"
		case 401:
			typ = "authentication_error"
		case 402:
			typ = "billing_error"
		case 403:
			typ = "permission_error"
		case 404:
			typ = "not_found_error"
		case 413:
			typ = "request_too_large"
		case 429:
			typ = "rate_limit_error"
		case 504:
			typ = "timeout_error"
		case 529:
			typ = "overloaded_error"
		default:
			typ = "api_error"
			if st < 500 {
				typ = "invalid_request_error"
			}
		}
	}
	return map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": e.message()}}
}

// openAIErrorFields returns the type and code of an OpenAI error.
func openAIErrorFields(e APIError) (typ string, code any) {
	typ, code = e.Type, nil
	if e.Code != "" {
		code = e.Code
	}
	switch st := e.status(); {
	case st == 401:
		typ = firstNonEmpty(typ, "invalid_request_error")
		if code == nil {
			code = "invalid_api_key"
		}
	case st == 429:
		typ = firstNonEmpty(typ, "requests")
		if code == nil {
			code = "rate_limit_exceeded"
		}
	case st >= 500:
		typ = firstNonEmpty(typ, "server_error")
	default:
		typ = firstNonEmpty(typ, "invalid_request_error")
	}
	return typ, code
}

// openAIError is the OpenAI error document (Responses and Chat).
func openAIError(e APIError) map[string]any {
	typ, code := openAIErrorFields(e)
	return map[string]any{"error": map[string]any{"message": e.message(), "type": typ, "param": nil, "code": code}}
}
