package server

import (
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// patchSchemas replaces what reflection cannot express: the tagged unions
// (event data by envelope type, content parts, MCP server configs).
func patchSchemas(api huma.API) {
	reg := api.OpenAPI().Components.Schemas
	dataTypes := []any{
		schema.SessionStartedData{}, schema.SessionEndedData{}, schema.TurnEventData{}, schema.ItemEventData{},
		schema.ItemDeltaData{}, schema.ErrorData{}, schema.PermissionEventData{}, schema.QuestionEventData{},
		schema.AgentUnparsedData{},
	}
	var refs []*huma.Schema
	for _, t := range dataTypes {
		refs = append(refs, reg.Schema(reflect.TypeOf(t), true, ""))
	}
	m := reg.Map()
	if ev, ok := m["UniversalEvent"]; ok {
		ev.Properties["data"] = &huma.Schema{OneOf: refs, Description: "Shape depends on type: see the *Data schemas."}
		ev.Properties["raw"] = &huma.Schema{Description: "Native payload when include_raw=true, else null."}
		ev.Properties["type"] = &huma.Schema{Type: "string", Enum: enumOf(schema.EventTypes)}
		ev.Properties["source"] = &huma.Schema{Type: "string", Enum: []any{"agent", "daemon"}}
	}
	m["ContentPart"] = mustSchema(contentPartSchema)
	m["McpServerConfig"] = mustSchema(mcpSchema)
	for _, sc := range m {
		fixAny(sc)
	}
}

// fixAny turns json.RawMessage properties (reflected as byte arrays) into
// "any JSON value".
func fixAny(sc *huma.Schema) {
	for k, p := range sc.Properties {
		if p.Type == "string" && p.ContentEncoding == "base64" {
			sc.Properties[k] = &huma.Schema{Description: p.Description}
		}
	}
}

func enumOf[T ~string](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func mustSchema(js string) *huma.Schema {
	var s huma.Schema
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		panic(err)
	}
	precompute(&s)
	return &s
}

// precompute prepares hand-written schemas for huma's validator, as
// reflection does for generated ones.
func precompute(s *huma.Schema) {
	if s == nil {
		return
	}
	s.PrecomputeMessages()
	for _, p := range s.Properties {
		precompute(p)
	}
	for _, o := range s.OneOf {
		precompute(o)
	}
	precompute(s.Items)
	if ap, ok := s.AdditionalProperties.(*huma.Schema); ok {
		precompute(ap)
	}
}

const contentPartSchema = `{"oneOf":[
 {"type":"object","required":["type","text"],"properties":{"type":{"type":"string","enum":["text"]},"text":{"type":"string"}}},
 {"type":"object","required":["type","json"],"properties":{"type":{"type":"string","enum":["json"]},"json":{}}},
 {"type":"object","required":["type","name","arguments","call_id"],"properties":{"type":{"type":"string","enum":["tool_call"]},"name":{"type":"string"},"arguments":{"type":"string","description":"JSON-encoded arguments"},"call_id":{"type":"string"}}},
 {"type":"object","required":["type","call_id","output"],"properties":{"type":{"type":"string","enum":["tool_result"]},"call_id":{"type":"string"},"output":{"type":"string"}}},
 {"type":"object","required":["type","path","action","diff"],"properties":{"type":{"type":"string","enum":["file_ref"]},"path":{"type":"string"},"action":{"type":"string","enum":["read","write","patch"]},"diff":{"type":"string","nullable":true}}},
 {"type":"object","required":["type","text","visibility"],"properties":{"type":{"type":"string","enum":["reasoning"]},"text":{"type":"string"},"visibility":{"type":"string","enum":["public","private"]}}},
 {"type":"object","required":["type","path","mime"],"properties":{"type":{"type":"string","enum":["image"]},"path":{"type":"string"},"mime":{"type":"string","nullable":true}}},
 {"type":"object","required":["type","label","detail"],"properties":{"type":{"type":"string","enum":["status"]},"label":{"type":"string"},"detail":{"type":"string","nullable":true}}}
]}`

const mcpSchema = `{"oneOf":[
 {"type":"object","required":["type","command"],"properties":{"type":{"type":"string","enum":["local","stdio"]},
  "command":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]},
  "args":{"type":"array","items":{"type":"string"}},"env":{"type":"object","additionalProperties":{"type":"string"}},
  "enabled":{"type":"boolean"},"timeoutMs":{"type":"integer","minimum":0},"cwd":{"type":"string"}}},
 {"type":"object","required":["type","url"],"properties":{"type":{"type":"string","enum":["remote","http"]},
  "url":{"type":"string"},"headers":{"type":"object","additionalProperties":{"type":"string"}},
  "bearerTokenEnvVar":{"type":"string"},"envHeaders":{"type":"object","additionalProperties":{"type":"string"}},
  "oauth":{"oneOf":[{"type":"boolean"},{"type":"object","properties":{"clientId":{"type":"string"},"clientSecret":{"type":"string"},"scope":{"type":"string"}}}]},
  "enabled":{"type":"boolean"},"timeoutMs":{"type":"integer","minimum":0},"transport":{"type":"string","enum":["http","sse"]}}}
]}`
