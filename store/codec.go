package store

import (
	"encoding/json"
	"fmt"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Options are what every durable store takes besides where it writes.
type Options struct {
	// ServerID scopes every row the store writes and reads, so several
	// servers can share one database without seeing each other's sessions.
	// Empty means "default".
	ServerID string
	// NoRaw drops each event's raw native payload before it is written.
	NoRaw bool
}

// Server returns the server id rows are written under.
func (o Options) Server() string {
	if o.ServerID == "" {
		return "default"
	}
	return o.ServerID
}

// EncodeEvent is the stored form of an event: its full wire envelope.
func (o Options) EncodeEvent(ev *schema.Event) ([]byte, error) {
	if o.NoRaw && ev.Raw != nil {
		cp := *ev
		cp.Raw = nil
		ev = &cp
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("store: encode event %d: %w", ev.Sequence, err)
	}
	return b, nil
}

// DecodeEvent reads an envelope written by EncodeEvent.
func DecodeEvent(b []byte) (schema.Event, error) {
	var ev schema.Event
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("store: decode event: %w", err)
	}
	return ev, nil
}

// Migration is one versioned step of a SQL schema. Versions start at 1 and
// increase by one; a store applies, in order, those its database lacks.
type Migration struct {
	Version int
	SQL     string
}
