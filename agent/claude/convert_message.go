package claude

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/streamjson"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Assistant messages, their streamed deltas, tool calls and tool results.
//
// The CLI prints an assistant message twice when partial messages are on:
// as raw stream events (message_start … message_stop) and as one assistant
// line per completed content block, all with the same message.id, printed
// before that block's content_block_stop. Stream events give the deltas;
// assistant lines give the final blocks. Sub-agents (parent_tool_use_id
// set) are never streamed, so their messages only have assistant lines.

// openMessage is an assistant message whose item is started but not
// completed.
type openMessage struct {
	key     string // message.id, or a made-up id when it has none
	item    string // native item id (key, or key_<n> for a continuation)
	itemPtr *string
	scope   string // parent_tool_use_id: the Task call of a sub-agent
	partial bool   // opened by message_start: completes on message_stop
	stopped bool   // message_stop arrived

	text        []string             // text blocks from assistant lines, in order
	streamTexts []*strings.Builder   // text blocks as streamed, in order (a builder: a delta costs its own length, not the message's)
	extra       []schema.ContentPart // unknown blocks, as json parts
	thinkN      int                  // reasoning items made
	thinkBlocks []*streamBlock       // streamed thinking blocks awaiting their assistant line
	blocks      map[int]*streamBlock // streamed blocks by index
}

// streamBlock is one content block of a streamed message.
type streamBlock struct {
	kind      string
	text      int    // index into streamTexts for text blocks
	reasoning string // native id of the reasoning item, once started
	thinking  strings.Builder
	toolID    string
}

// toolUse is a tool call awaiting its result.
type toolUse struct {
	name  string
	input json.RawMessage
	scope string // parent_tool_use_id of the caller: "" for the main agent
}

// openToolRef is a tool call started from the stream, awaiting its
// assistant line.
type openToolRef struct {
	name   string
	parent string
	json   strings.Builder
}

// message returns the open message with the given id, opening it when
// needed. Opening a message completes the open one of the same scope: a
// scope (the main agent, or one sub-agent) speaks one message at a time.
func (c *Converter) message(key, scope string, partial bool, raw json.RawMessage, out *[]agent.Draft) *openMessage {
	if key == "" {
		c.anon++
		key = fmt.Sprintf("assistant_%d", c.anon)
	}
	if m := c.find(key); m != nil {
		return m
	}
	for _, m := range slices.Clone(c.open) {
		if m.scope == scope {
			c.complete(m, raw, out)
		}
	}
	item := key
	if n, done := c.closed[key]; done {
		c.closed[key] = n + 1
		item = fmt.Sprintf("%s_%d", key, n+2)
	}
	m := &openMessage{key: key, item: item, scope: scope, partial: partial, blocks: map[int]*streamBlock{}}
	c.open = append(c.open, m)
	it := agent.Message(item, schema.RoleAssistant)
	it.ParentID = scopePtr(scope)
	*out = append(*out, agent.ItemStarted(it, raw))
	return m
}

func (c *Converter) find(key string) *openMessage {
	for _, m := range c.open {
		if m.key == key {
			return m
		}
	}
	return nil
}

// complete emits the message's item.completed, after completing what it
// started and never finished (reasoning, streamed tool calls).
func (c *Converter) complete(m *openMessage, raw json.RawMessage, out *[]agent.Draft) {
	for _, b := range m.thinkBlocks {
		if b.reasoning != "" {
			c.reasoningDone(m, b.reasoning, b.thinking.String(), raw, out)
		}
	}
	m.thinkBlocks = nil
	idx := make([]int, 0, len(m.blocks))
	for i := range m.blocks {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	for _, i := range idx {
		if id := m.blocks[i].toolID; id != "" {
			if ref := c.calls[id]; ref != nil {
				delete(c.calls, id)
				input := json.RawMessage(ref.json.String())
				if !json.Valid(input) {
					input = json.RawMessage("{}")
				}
				c.tools[id] = toolUse{name: ref.name, input: input, scope: m.scope}
				it := toolCallItem(id, ref.name, input, ref.parent)
				it.Status = schema.StatusFailed // never received in full
				*out = append(*out, agent.ItemCompleted(it, raw))
			}
		}
	}
	var parts []schema.ContentPart
	for _, t := range m.text {
		if t != "" {
			parts = append(parts, schema.Text(t))
		}
	}
	if len(m.streamTexts) > len(m.text) { // streamed blocks that never got their line
		for _, t := range m.streamTexts[len(m.text):] {
			if t.Len() > 0 {
				parts = append(parts, schema.Text(t.String()))
			}
		}
	}
	parts = append(parts, m.extra...)
	it := agent.Message(m.item, schema.RoleAssistant, parts...)
	it.ParentID = scopePtr(m.scope)
	if m.partial && !m.stopped {
		it.Status = schema.StatusFailed // cut off: interrupted, or the request was retried
	}
	*out = append(*out, agent.ItemCompleted(it, raw))
	c.open = slices.DeleteFunc(c.open, func(o *openMessage) bool { return o == m })
	if _, ok := c.closed[m.key]; !ok {
		c.closed[m.key] = 0
	}
	if c.stream == m.key {
		c.stream = ""
	}
}

// closeAll completes every open message (end of turn, process exit).
func (c *Converter) closeAll(out *[]agent.Draft, raw json.RawMessage) {
	for len(c.open) > 0 {
		c.complete(c.open[0], raw, out)
	}
	for id, ref := range c.calls { // calls whose message is gone; none in practice
		delete(c.calls, id)
		it := toolCallItem(id, ref.name, json.RawMessage("{}"), ref.parent)
		it.Status = schema.StatusFailed
		*out = append(*out, agent.ItemCompleted(it, raw))
	}
}

func (c *Converter) assistant(l assistantLine, raw json.RawMessage, out *[]agent.Draft) error {
	scope := schema.Deref(l.ParentToolUseID)
	blocks, err := streamjson.Blocks(l.Message.Content)
	if err != nil {
		return err
	}
	if !streamjson.IsNull(l.Error) || l.IsAPIErrorMessage {
		*out = append(*out, c.apiError(l, streamjson.BlocksText(blocks), raw))
		if l.IsAPIErrorMessage || l.Message.Model == "<synthetic>" {
			return nil // the CLI's error notice, not the model's words
		}
	}
	if len(blocks) == 0 {
		return nil
	}
	m := c.message(l.Message.ID, scope, false, raw, out)
	for _, b := range blocks {
		switch {
		case b.Type == "text":
			m.text = append(m.text, b.Text)
		case b.Type == "thinking":
			c.thinkingBlock(m, b.Thinking, raw, out)
		case b.Type == "redacted_thinking":
			// Encrypted; nothing to show.
		case streamjson.IsToolUse(b.Type):
			c.toolUseBlock(m, b.ContentBlock, raw, out)
		case streamjson.IsToolResult(b.Type): // server tool results (web search)
			c.toolResult(scope, b.ContentBlock, nil, raw, out)
		default:
			m.extra = append(m.extra, schema.JSONPart(b.Raw))
		}
	}
	return nil
}

// thinkingBlock handles a thinking block of an assistant line: it completes
// the reasoning item its stream started, or makes one.
func (c *Converter) thinkingBlock(m *openMessage, text string, raw json.RawMessage, out *[]agent.Draft) {
	if len(m.thinkBlocks) > 0 {
		b := m.thinkBlocks[0]
		m.thinkBlocks = m.thinkBlocks[1:]
		if text == "" {
			text = b.thinking.String()
		}
		if b.reasoning != "" {
			c.reasoningDone(m, b.reasoning, text, raw, out)
			return
		}
	}
	if text == "" {
		return
	}
	id := c.reasoningStart(m, raw, out)
	c.reasoningDone(m, id, text, raw, out)
}

func (c *Converter) reasoningStart(m *openMessage, raw json.RawMessage, out *[]agent.Draft) string {
	m.thinkN++
	id := fmt.Sprintf("%s_thinking_%d", m.item, m.thinkN)
	*out = append(*out, agent.ItemStarted(reasoningItem(id, m.item, ""), raw))
	return id
}

func (c *Converter) reasoningDone(m *openMessage, id, text string, raw json.RawMessage, out *[]agent.Draft) {
	*out = append(*out, agent.ItemCompleted(reasoningItem(id, m.item, text), raw))
}

func reasoningItem(id, parent, text string) schema.Item {
	it := agent.Message(id, schema.RoleAssistant, schema.Reasoning(text, schema.VisibilityPublic))
	it.ParentID = schema.Ptr(parent)
	return it
}

func (c *Converter) toolUseBlock(m *openMessage, b contentBlock, raw json.RawMessage, out *[]agent.Draft) {
	id := b.ID
	if id == "" {
		c.anon++
		id = fmt.Sprintf("tool_use_%d", c.anon)
	}
	input := streamjson.CompactJSON(b.Input)
	c.tools[id] = toolUse{name: b.Name, input: input, scope: m.scope}
	it := toolCallItem(id, b.Name, input, m.item)
	if ref := c.calls[id]; ref != nil {
		delete(c.calls, id)
	} else {
		*out = append(*out, agent.ItemStarted(it, raw))
	}
	*out = append(*out, agent.ItemCompleted(it, raw))
}

func toolCallItem(id, name string, input json.RawMessage, parent string) schema.Item {
	return schema.Item{
		NativeItemID: schema.Ptr(id),
		ParentID:     schema.Ptr(parent),
		Kind:         schema.KindToolCall,
		Role:         schema.Ptr(schema.RoleAssistant),
		Content:      callParts(name, input, id),
	}
}

func (c *Converter) user(l userLine, raw json.RawMessage, out *[]agent.Draft) error {
	scope := schema.Deref(l.ParentToolUseID)
	blocks, err := streamjson.Blocks(l.Message.Content)
	if err != nil {
		return err
	}
	var results []contentBlock
	for _, b := range blocks {
		if b.Type == "tool_result" {
			results = append(results, b.ContentBlock)
		}
	}
	// Text, images, replays, interruption notes and sub-agent prompts make
	// no item: the user's own message is emitted when it is sent.
	if len(results) == 0 {
		return nil
	}
	// A tool ran, so an unstreamed message of this scope that called it is
	// over.
	for _, m := range slices.Clone(c.open) {
		if m.scope == scope && !m.partial {
			c.complete(m, raw, out)
		}
	}
	for _, b := range results {
		var side json.RawMessage
		if len(results) == 1 {
			side = l.ToolUseResult
		}
		c.toolResult(scope, b, side, raw, out)
	}
	return nil
}

func (c *Converter) toolResult(scope string, b contentBlock, side, raw json.RawMessage, out *[]agent.Draft) {
	// A Task's result ends its sub-agent: whatever it still has open is over.
	if b.ToolUseID != "" {
		for _, m := range slices.Clone(c.open) {
			if m.scope == b.ToolUseID {
				c.complete(m, raw, out)
			}
		}
	}
	call := c.tools[b.ToolUseID]
	delete(c.tools, b.ToolUseID)
	id := b.ToolUseID + "_result"
	if b.ToolUseID == "" {
		c.anon++
		id = fmt.Sprintf("tool_result_%d", c.anon)
	}
	output := streamjson.ResultText(b.Content)
	parts := []schema.ContentPart{schema.ToolResult(b.ToolUseID, output)}
	parts = append(parts, resultExtras(call, output, b.IsError, side)...)
	it := schema.Item{
		NativeItemID: schema.Ptr(id),
		ParentID:     scopePtr(scope),
		Kind:         schema.KindToolResult,
		Role:         schema.Ptr(schema.RoleTool),
		Content:      parts,
	}
	if b.IsError {
		it.Status = schema.StatusFailed
	}
	*out = append(*out, agent.ItemStarted(it, raw), agent.ItemCompleted(it, raw))
}

func (c *Converter) streamEvent(l streamEventLine, raw json.RawMessage, out *[]agent.Draft) error {
	scope := schema.Deref(l.ParentToolUseID)
	ev := l.Event
	switch ev.Type {
	case "message_start":
		id := l.APIMessageID
		if ev.Message != nil && ev.Message.ID != "" {
			id = ev.Message.ID
		}
		m := c.message(id, scope, true, raw, out)
		m.partial = true
		c.stream = m.key
	case "content_block_start":
		if ev.ContentBlock == nil {
			return fmt.Errorf("content_block_start without content_block")
		}
		m := c.streamMessage(l, scope, raw, out)
		c.blockStart(m, ev.Index, *ev.ContentBlock, raw, out)
	case "content_block_delta":
		if ev.Delta == nil {
			return fmt.Errorf("content_block_delta without delta")
		}
		m := c.streamMessage(l, scope, raw, out)
		return c.blockDelta(m, ev.Index, *ev.Delta, raw, out)
	case "message_stop":
		key := l.APIMessageID
		if key == "" {
			key = c.stream
		}
		if m := c.find(key); m != nil {
			// 2.1.332 closes a stream it cut (interrupt) with a message_stop
			// of its own that names the abandoned blocks: the message was
			// not finished.
			m.stopped = streamjson.IsNull(l.AbandonedBlocks)
			c.complete(m, raw, out)
		}
	case "content_block_stop", "message_delta", "ping", "error":
		// Blocks end with their assistant line; usage and stop reason come
		// with the result; stream errors are retried or reported by the
		// CLI as an API error.
	default:
		return fmt.Errorf("unknown stream event %q", ev.Type)
	}
	return nil
}

// streamMessage is the message a stream event belongs to.
func (c *Converter) streamMessage(l streamEventLine, scope string, raw json.RawMessage, out *[]agent.Draft) *openMessage {
	key := l.APIMessageID
	if key == "" {
		key = c.stream
	}
	if key != "" {
		if m := c.find(key); m != nil {
			return m
		}
	}
	m := c.message(key, scope, true, raw, out)
	c.stream = m.key
	return m
}

func (c *Converter) blockStart(m *openMessage, index int, cb contentBlock, raw json.RawMessage, out *[]agent.Draft) {
	b := &streamBlock{kind: cb.Type}
	m.blocks[index] = b
	switch {
	case cb.Type == "text":
		m.streamTexts = append(m.streamTexts, &strings.Builder{})
		b.text = len(m.streamTexts) - 1
		c.textDelta(m, b, cb.Text, raw, out)
	case cb.Type == "thinking":
		m.thinkBlocks = append(m.thinkBlocks, b)
		c.thinkingDelta(m, b, cb.Thinking, raw, out)
	case streamjson.IsToolUse(cb.Type):
		id := cb.ID
		if id == "" || c.calls[id] != nil {
			return
		}
		b.toolID = id
		c.calls[id] = &openToolRef{name: cb.Name, parent: m.item}
		*out = append(*out, agent.ItemStarted(toolCallItem(id, cb.Name, streamjson.CompactJSON(cb.Input), m.item), raw))
	}
}

func (c *Converter) blockDelta(m *openMessage, index int, d streamDelta, raw json.RawMessage, out *[]agent.Draft) error {
	b := m.blocks[index]
	switch d.Type {
	case "text_delta":
		if b == nil || b.kind != "text" {
			c.blockStart(m, index, contentBlock{Type: "text"}, raw, out)
			b = m.blocks[index]
		}
		c.textDelta(m, b, d.Text, raw, out)
	case "thinking_delta":
		if b == nil || b.kind != "thinking" {
			c.blockStart(m, index, contentBlock{Type: "thinking"}, raw, out)
			b = m.blocks[index]
		}
		c.thinkingDelta(m, b, d.Thinking, raw, out)
	case "input_json_delta":
		if b != nil && b.toolID != "" {
			if ref := c.calls[b.toolID]; ref != nil {
				ref.json.WriteString(d.PartialJSON)
			}
		}
	case "signature_delta", "citations_delta":
	default:
		return fmt.Errorf("unknown delta %q", d.Type)
	}
	return nil
}

func (c *Converter) textDelta(m *openMessage, b *streamBlock, text string, raw json.RawMessage, out *[]agent.Draft) {
	if text == "" {
		return
	}
	m.streamTexts[b.text].WriteString(text)
	if m.itemPtr == nil {
		m.itemPtr = schema.Ptr(m.item)
	}
	// agent.Delta, with the item id's pointer made once per message.
	*out = append(*out, agent.Draft{Type: schema.EventItemDelta, Raw: raw,
		Data: &schema.ItemDeltaData{NativeItemID: m.itemPtr, Delta: text}})
}

// thinkingDelta streams into the block's reasoning item, starting it at the
// first non-empty delta: display-omitted thinking streams nothing and gets
// no item.
func (c *Converter) thinkingDelta(m *openMessage, b *streamBlock, text string, raw json.RawMessage, out *[]agent.Draft) {
	if text == "" {
		return
	}
	if b.reasoning == "" {
		b.reasoning = c.reasoningStart(m, raw, out)
	}
	b.thinking.WriteString(text)
	*out = append(*out, agent.Delta(b.reasoning, text, raw))
}
