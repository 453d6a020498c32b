package claude

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/streamjson"
)

// Error codes of the error events the converter emits for failed API calls.
const (
	CodeAuthentication  = "authentication_failed" // 401/403, not logged in, bad key
	CodeRateLimit       = "rate_limit"            // 429, usage limits
	CodeOverloaded      = "overloaded"            // 529
	CodeBilling         = "billing_error"
	CodeInvalidRequest  = "invalid_request" // 400, prompt too long
	CodeServerError     = "server_error"    // other 5xx, connection errors
	CodeMaxOutputTokens = "max_output_tokens"
	CodeAPIError        = "api_error" // anything else
)

// apiErrorCode classifies an API failure from what the CLI tells: its error
// kind (authentication_failed, billing_error, rate_limit, invalid_request,
// server_error, max_output_tokens, unknown), the HTTP status and the text it
// shows the user. The status wins over the kind, which wins over the text.
func apiErrorCode(kind string, status int, text string) string {
	switch {
	case status == 401 || status == 403:
		return CodeAuthentication
	case status == 429:
		return CodeRateLimit
	case status == 529:
		return CodeOverloaded
	case status == 402:
		return CodeBilling
	case status == 400 || status == 413:
		return CodeInvalidRequest
	}
	lower := strings.ToLower(text)
	switch kind {
	case "authentication_failed", "oauth_org_not_allowed":
		return CodeAuthentication
	case "rate_limit":
		return CodeRateLimit
	case "billing_error":
		return CodeBilling
	case "invalid_request":
		return CodeInvalidRequest
	case "max_output_tokens":
		return CodeMaxOutputTokens
	case "overloaded", "overloaded_error":
		return CodeOverloaded
	case "server_error", "api_error":
		if strings.Contains(lower, "overloaded") {
			return CodeOverloaded
		}
		return CodeServerError
	}
	if status >= 500 {
		if strings.Contains(lower, "overloaded") {
			return CodeOverloaded
		}
		return CodeServerError
	}
	switch {
	case strings.Contains(lower, "overloaded"):
		return CodeOverloaded
	case strings.Contains(lower, "not logged in"), strings.Contains(lower, "invalid api key"),
		strings.Contains(lower, "authenticat"), strings.Contains(lower, "/login"):
		return CodeAuthentication
	case strings.Contains(lower, "rate limit"), strings.Contains(lower, "rate_limit"),
		strings.Contains(lower, "usage limit"), strings.Contains(lower, "session limit"):
		return CodeRateLimit
	case strings.Contains(lower, "credit balance"):
		return CodeBilling
	case strings.Contains(lower, "prompt is too long"):
		return CodeInvalidRequest
	}
	return CodeAPIError
}

// errorKindOf reads the CLI's error field: a kind string
// ("authentication_failed") or, in some transcripts, an object with a type,
// status or message.
func errorKindOf(raw json.RawMessage) string {
	if streamjson.IsNull(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Error   *struct {
			Type string `json:"type"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &o) == nil {
		if o.Error != nil && o.Error.Type != "" {
			return o.Error.Type
		}
		if o.Type != "" {
			return o.Type
		}
		return "unknown"
	}
	return "unknown"
}

// errorStatusOf reads an HTTP status from an error object ({"status":529}).
func errorStatusOf(raw json.RawMessage) int {
	var o struct {
		Status int `json:"status"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.Status
	}
	return 0
}

var apiStatusRe = regexp.MustCompile(`API Error: (\d{3})\b`)

// apiError converts an assistant line that reports a failed API call.
func (c *Converter) apiError(l assistantLine, text string, raw json.RawMessage) agent.Draft {
	kind := errorKindOf(l.Error)
	status := errorStatusOf(l.Error)
	if l.APIErrorStatus != nil {
		status = *l.APIErrorStatus
	}
	if m := apiStatusRe.FindStringSubmatch(text); status == 0 && m != nil {
		status, _ = strconv.Atoi(m[1])
	}
	if text == "" {
		text = "API error"
		if kind != "" {
			text += ": " + kind
		}
	}
	details := map[string]any{}
	if kind != "" {
		details["error"] = kind
	}
	if status != 0 {
		details["status"] = status
	}
	if l.Message.Model != "" {
		details["model"] = l.Message.Model
	}
	c.turnFailed = true
	return agent.ErrorEvent(text, apiErrorCode(kind, status, text), streamjson.MustJSON(details), raw)
}
