package bench

import (
	"strconv"
)

// The native side of the scaling, latency and linear-work measurements: a
// Claude Code turn that streams one assistant message of n text deltas, in
// the CLI's stream-json as the captures in agent/claude/testdata show it
// (message_start, content_block_start, n content_block_delta lines, the
// assistant line with the whole text, content_block_stop, message_delta,
// message_stop, result).

const claudeSID = "c4e1333f-682e-4799-a968-7cac78ed48b6"

// claudeTurn writes the lines of one turn to emit, one line at a time and
// without its newline. text(i) is the i-th delta's text (JSON-safe: no
// quotes, backslashes or control characters); the lines are built in one
// reused buffer, so emit must not keep them.
func claudeTurn(emit func([]byte), msgID string, n int, text func(i int, buf []byte) []byte) {
	var b []byte
	stream := func(event []byte) {
		b = append(b[:0], `{"type":"stream_event","event":`...)
		b = append(b, event...)
		b = append(b, `,"session_id":"`+claudeSID+`","parent_tool_use_id":null,"uuid":"589cd0d7-c584-4afa-a6df-f3d107d4be22","api_message_id":"`...)
		b = append(b, msgID...)
		b = append(b, `"}`...)
		emit(b)
	}
	emit([]byte(`{"type":"system","subtype":"init","session_id":"` + claudeSID + `","model":"claude-opus-5-5","permissionMode":"default","tools":["Bash"],"cwd":"/"}`))
	stream([]byte(`{"message":{"content":[],"id":"` + msgID + `","model":"claude-opus-5-5","role":"assistant","stop_reason":null,"stop_sequence":null,"type":"message","usage":{"input_tokens":100,"output_tokens":1}},"type":"message_start"}`))
	stream([]byte(`{"content_block":{"text":"","type":"text"},"index":0,"type":"content_block_start"}`))
	var ev, t []byte
	full := make([]byte, 0, 64)
	for i := range n {
		t = text(i, t[:0])
		full = append(full, t...)
		ev = append(ev[:0], `{"delta":{"text":"`...)
		ev = append(ev, t...)
		ev = append(ev, `","type":"text_delta"},"index":0,"type":"content_block_delta"}`...)
		stream(ev)
	}
	line := make([]byte, 0, len(full)+256)
	line = append(line, `{"type":"assistant","message":{"id":"`...)
	line = append(line, msgID...)
	line = append(line, `","model":"claude-opus-5-5","role":"assistant","type":"message","content":[{"type":"text","text":"`...)
	line = append(line, full...)
	line = append(line, `"}]},"parent_tool_use_id":null,"session_id":"`+claudeSID+`"}`...)
	emit(line)
	stream([]byte(`{"index":0,"type":"content_block_stop"}`))
	stream([]byte(`{"delta":{"stop_reason":"end_turn","stop_sequence":null},"type":"message_delta","usage":{"output_tokens":` + strconv.Itoa(n) + `}}`))
	stream([]byte(`{"type":"message_stop"}`))
	emit([]byte(`{"type":"result","subtype":"success","is_error":false,"result":"done","num_turns":1,"duration_ms":5,"total_cost_usd":0,"session_id":"` + claudeSID + `"}`))
}

// tokText is the text of every delta of the scaling runs: a short token,
// as models stream them.
func tokText(_ int, buf []byte) []byte { return append(buf, "tok "...) }
