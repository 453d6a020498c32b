package server

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Problem documents quote what the client sent so it can see what was
// wrong, but only so much of it: echoing a 200 KB field back whole turns
// one bad request into two large responses (and as many log lines).
const (
	// maxEcho caps an echoed value: anything in details (a value, a path,
	// a field name), agent, sessionId.
	maxEcho = 256
	// maxDetail caps prose that may quote values: detail and the
	// "message" entries of details.
	maxDetail = 1024
)

// cut returns s unchanged when it fits in max bytes, else its first bytes
// up to a rune boundary followed by a marker saying how much was cut.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("…[cut %d bytes]", len(s)-n)
}

// capped returns p with every echoed value capped; p itself is not
// modified, since problems may be shared.
func (p *Problem) capped() *Problem {
	c := *p
	c.Detail = cut(p.Detail, maxDetail)
	c.Agent = cut(p.Agent, maxEcho)
	c.SessionID = cut(p.SessionID, maxEcho)
	if p.Details != nil {
		c.Details = capMap(p.Details)
	}
	return &c
}

func capMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch k {
		case "stderr":
			out[k] = v // an agent's stderr, bounded where it is captured
		case "message":
			if s, ok := v.(string); ok {
				out[k] = cut(s, maxDetail)
				continue
			}
			out[k] = capValue(v)
		default:
			out[k] = capValue(v)
		}
	}
	return out
}

// capValue caps a value of any JSON type: strings are cut, maps and lists
// are capped entry by entry, and anything else that encodes to more than
// maxEcho bytes becomes its cut JSON text.
func capValue(v any) any {
	switch v := v.(type) {
	case string:
		return cut(v, maxEcho)
	case map[string]any:
		return capMap(v)
	case []map[string]any:
		out := make([]map[string]any, len(v))
		for i, m := range v {
			out[i] = capMap(m)
		}
		return out
	case []any:
		if len(v) <= 16 {
			out := make([]any, len(v))
			for i, e := range v {
				out[i] = capValue(e)
			}
			return out
		}
	case nil, bool, int, int64, uint64, float64:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil || len(b) <= maxEcho {
		return v
	}
	return cut(string(b), maxEcho)
}
