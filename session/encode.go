package session

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// encCacheSize bounds the encoded-event cache: readers at the tail of the
// log (the usual case) share one encoding per event; readers far behind
// encode for themselves.
const encCacheSize = 4096

// Encoded is one event as it goes on the wire.
type Encoded struct {
	Sequence uint64
	Type     schema.EventType
	JSON     []byte
}

// encCache remembers the wire encoding (with raw set to null) of recent
// events, so that N subscribers cost one json.Marshal per event, not N.
type encCache struct {
	mu    sync.Mutex
	slots [encCacheSize]encSlot
}

type encSlot struct {
	seq  uint64
	json []byte
}

func (c *encCache) get(seq uint64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.slots[seq%encCacheSize]; s.seq == seq {
		return s.json
	}
	return nil
}

func (c *encCache) put(seq uint64, b []byte) {
	c.mu.Lock()
	c.slots[seq%encCacheSize] = encSlot{seq: seq, json: b}
	c.mu.Unlock()
}

var rawNull = []byte(`"raw":null}`)

// EncodedEvents is Events as wire JSON: up to limit events after the given
// sequence, with raw when includeRaw. The bytes are shared: do not modify.
func (s *Session) EncodedEvents(ctx context.Context, after uint64, limit int, includeRaw bool) ([]Encoded, error) {
	evs, _, err := s.Events(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Encoded, len(evs))
	for i := range evs {
		ev := &evs[i]
		b := s.enc.get(ev.Sequence)
		if b == nil {
			raw := ev.Raw
			ev.Raw = nil
			if b, err = json.Marshal(ev); err != nil {
				return nil, err
			}
			ev.Raw = raw
			s.enc.put(ev.Sequence, b)
		}
		if includeRaw && len(ev.Raw) > 0 && bytes.HasSuffix(b, rawNull) {
			// raw is the envelope's last member: splice it in.
			// Marshal compacts and escapes it exactly as it would inside the
			// envelope.
			if raw, err := json.Marshal(ev.Raw); err == nil {
				spliced := make([]byte, 0, len(b)+len(raw))
				spliced = append(spliced, b[:len(b)-len(rawNull)]...)
				spliced = append(spliced, `"raw":`...)
				spliced = append(spliced, raw...)
				b = append(spliced, '}')
			}
		}
		out[i] = Encoded{Sequence: ev.Sequence, Type: ev.Type, JSON: b}
	}
	return out, nil
}
