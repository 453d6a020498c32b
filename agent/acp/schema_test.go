package acp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The ACP JSON schema (testdata/acp-schema-v1.json, schema/v1/schema.json of
// the npm package @agentclientprotocol/sdk 2.4.0) annotates each method's
// request, response and notification definitions with x-method. A
// transcript is checked message by message: a request's or notification's
// params against its method's *Request / *Notification definition, a
// response's result against the *Response definition of the method it
// answers, an error against Error.

const schemaFile = "testdata/acp-schema-v1.json"

type protocol struct {
	c       *jsonschema.Compiler
	params  map[string]string // method → definition of its params
	results map[string]string // method → definition of its result
	mu      sync.Mutex
	cache   map[string]*jsonschema.Schema
}

var loadProtocol = sync.OnceValues(func() (*protocol, error) {
	b, err := os.ReadFile(schemaFile)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	p := &protocol{c: jsonschema.NewCompiler(), params: map[string]string{}, results: map[string]string{}, cache: map[string]*jsonschema.Schema{}}
	if err := p.c.AddResource("acp.json", doc); err != nil {
		return nil, err
	}
	for name, d := range doc["$defs"].(map[string]any) {
		m, _ := d.(map[string]any)["x-method"].(string)
		switch {
		case m == "":
		case strings.HasSuffix(name, "Response"):
			p.results[m] = name
		case strings.HasSuffix(name, "Request"), strings.HasSuffix(name, "Notification"):
			p.params[m] = name
		}
	}
	return p, nil
})

func schemaProtocol(t testing.TB) *protocol {
	t.Helper()
	p, err := loadProtocol()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *protocol) validate(def string, doc json.RawMessage) error {
	p.mu.Lock()
	s, ok := p.cache[def]
	if !ok {
		var err error
		if s, err = p.c.Compile("acp.json#/$defs/" + def); err != nil {
			p.mu.Unlock()
			return fmt.Errorf("compile %s: %w", def, err)
		}
		p.cache[def] = s
	}
	p.mu.Unlock()
	if len(doc) == 0 {
		doc = json.RawMessage("null")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("%s: %v", def, err)
	}
	return nil
}

// wireLine is one line of a transcript and who sent it.
type wireLine struct {
	fromClient bool
	raw        []byte
}

// check validates every message of a transcript and returns how many it
// checked. Each side's requests are matched with the other side's
// responses by id, so the two directions need not be interleaved.
func (p *protocol) check(t testing.TB, lines []wireLine) int {
	t.Helper()
	type msg struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
		Result  json.RawMessage `json:"result"`
		Error   json.RawMessage `json:"error"`
	}
	sent := map[bool]map[string]string{true: {}, false: {}} // by sender: id → method
	var ms []msg
	for _, l := range lines {
		var m msg
		if err := json.Unmarshal(l.raw, &m); err != nil {
			t.Errorf("not a JSON-RPC message: %v: %s", err, l.raw)
			ms = append(ms, msg{})
			continue
		}
		if m.JSONRPC != "2.0" {
			t.Errorf("message without jsonrpc 2.0: %s", l.raw)
		}
		if m.Method != "" && len(m.ID) > 0 {
			sent[l.fromClient][string(m.ID)] = m.Method
		}
		ms = append(ms, m)
	}
	n := 0
	for i, m := range ms {
		l := lines[i]
		who := map[bool]string{true: "client", false: "agent"}[l.fromClient]
		var def string
		var doc json.RawMessage
		switch {
		case m.Method != "":
			if strings.HasPrefix(m.Method, "_") {
				continue // an extension method: not in the schema
			}
			def, doc = p.params[m.Method], m.Params
			if def == "" {
				t.Errorf("%s sent method %q, which the schema does not define: %s", who, m.Method, l.raw)
				continue
			}
		case len(m.Error) > 0:
			def, doc = "Error", m.Error
		case len(m.ID) > 0:
			method := sent[!l.fromClient][string(m.ID)]
			if method == "" {
				t.Errorf("%s answered unknown request id %s: %s", who, m.ID, l.raw)
				continue
			}
			if strings.HasPrefix(method, "_") {
				continue
			}
			def, doc = p.results[method], m.Result
		default:
			continue
		}
		if err := p.validate(def, doc); err != nil {
			t.Errorf("%s message does not follow the ACP schema: %v\n%s", who, err, l.raw)
		}
		n++
	}
	return n
}

// TestSchemaBites proves the checks fail on messages that break the
// schema, so a passing protocol test means something.
func TestSchemaBites(t *testing.T) {
	p := schemaProtocol(t)
	for _, tc := range []struct{ def, doc string }{
		{"InitializeRequest", `{"clientCapabilities":{}}`},                          // no protocolVersion
		{"PromptRequest", `{"sessionId":"s","prompt":[{"type":"text"}]}`},           // text block without text
		{"RequestPermissionResponse", `{"outcome":{"outcome":"selected"}}`},         // no optionId
		{"SessionNotification", `{"sessionId":"s","update":{"sessionUpdate":"x"}}`}, // unknown update
		{"NewSessionRequest", `{"cwd":"/w"}`},                                       // no mcpServers
		{"TerminalOutputResponse", `{"output":"x"}`},                                // no truncated
	} {
		if err := p.validate(tc.def, json.RawMessage(tc.doc)); err == nil {
			t.Errorf("%s accepted %s", tc.def, tc.doc)
		}
	}
	if err := p.validate("PromptRequest", json.RawMessage(`{"sessionId":"s","prompt":[{"type":"text","text":"hi"}]}`)); err != nil {
		t.Errorf("a valid prompt was refused: %v", err)
	}
}
