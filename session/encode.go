package session

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// The encoded-event cache is bounded twice: by count (readers at the tail
// of the log, the usual case, share one encoding per event; readers far
// behind encode for themselves) and by bytes, so a session of large events
// (long tool outputs, whole messages) cannot make it hold more than
// encCacheBytes.
const (
	encCacheSize  = 4096
	encCacheBytes = 16 << 20
)

// Encoded is one event as it goes on the wire. It refers to shared bytes
// and is built one event at a time (Session.Encode), so what a reader holds
// is one event, however far behind it is and however large the events.
type Encoded struct {
	Sequence uint64
	Type     schema.EventType
	envelope []byte          // the event with raw set to null; shared, never modified
	raw      json.RawMessage // the native payload to splice in, when asked for
}

// encCache remembers the wire encoding (with raw set to null) of recent
// events, so that N subscribers cost one json.Marshal per event, not N.
type encCache struct {
	mu    sync.Mutex
	bytes int       // held by slots
	slots []encSlot // grows with the log up to encCacheSize, so idle sessions stay small
}

type encSlot struct {
	seq  uint64
	json []byte
}

func (c *encCache) get(seq uint64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.slots) == 0 {
		return nil
	}
	if s := c.slots[seq%uint64(len(c.slots))]; s.seq == seq {
		return s.json
	}
	return nil
}

func (c *encCache) put(seq uint64, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.slots); seq >= uint64(n) && n < encCacheSize {
		c.grow(min(encCacheSize, max(64, 2*n, int(min(seq+1, encCacheSize)))))
	}
	slot := &c.slots[seq%uint64(len(c.slots))]
	c.bytes -= len(slot.json)
	*slot = encSlot{}
	if c.bytes+len(b) <= encCacheBytes {
		*slot = encSlot{seq: seq, json: b}
		c.bytes += len(b)
	}
}

// grow resizes the cache to n slots, keeping what still fits.
func (c *encCache) grow(n int) {
	old := c.slots
	c.slots = make([]encSlot, n)
	c.bytes = 0
	for _, s := range old {
		if s.json != nil {
			dst := &c.slots[s.seq%uint64(n)]
			c.bytes += len(s.json) - len(dst.json)
			*dst = s
		}
	}
}

var rawNull = []byte(`"raw":null}`)

// Encode returns the wire form of one of the session's events (as read by
// Events), with raw when includeRaw. The encoding without raw is shared
// by every reader of the session; raw is spliced in when written.
func (s *Session) Encode(ev *schema.Event, includeRaw bool) (Encoded, error) {
	e := Encoded{Sequence: ev.Sequence, Type: ev.Type}
	e.envelope = s.enc.get(ev.Sequence)
	if e.envelope == nil {
		plain := *ev
		plain.Raw = nil
		b, err := json.Marshal(&plain)
		if err != nil {
			return Encoded{}, err
		}
		s.enc.put(ev.Sequence, b)
		e.envelope = b
	}
	if includeRaw && len(ev.Raw) > 0 && bytes.HasSuffix(e.envelope, rawNull) {
		// raw is the envelope's last member. Marshal compacts and escapes
		// it exactly as it would inside the envelope.
		raw, err := json.Marshal(ev.Raw)
		if err != nil {
			return Encoded{}, err
		}
		e.raw = raw
	}
	return e, nil
}

// WriteTo writes the event's JSON to w without assembling it first.
func (e Encoded) WriteTo(w io.Writer) (int64, error) {
	if e.raw == nil {
		n, err := w.Write(e.envelope)
		return int64(n), err
	}
	var total int64
	for _, part := range [][]byte{e.envelope[:len(e.envelope)-len(rawNull)], []byte(`"raw":`), e.raw, []byte("}")} {
		n, err := w.Write(part)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// JSON returns the event's JSON (a copy when raw is spliced in; otherwise
// shared: do not modify).
func (e Encoded) JSON() []byte {
	if e.raw == nil {
		return e.envelope
	}
	var b bytes.Buffer
	_, _ = e.WriteTo(&b)
	return b.Bytes()
}
