// Package store is the durable side of the session log: session records and
// their append-only event logs behind one interface. The memory
// implementation is the default; durable ones live in subpackages.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// ErrNotFound is returned for an unknown session.
var ErrNotFound = errors.New("store: session not found")

// SessionRecord is what is kept about a session besides its events.
type SessionRecord struct {
	ID              string                            `json:"id"`
	Agent           string                            `json:"agent"`
	AgentMode       string                            `json:"agentMode"`
	PermissionMode  string                            `json:"permissionMode"`
	Model           *string                           `json:"model"`
	Variant         *string                           `json:"variant"`
	NativeSessionID *string                           `json:"nativeSessionId"`
	Directory       *string                           `json:"directory"`
	Title           *string                           `json:"title"`
	MCP             map[string]schema.McpServerConfig `json:"mcp,omitempty"`
	Skills          *schema.SkillsConfig              `json:"skills,omitempty"`
	CreatedAt       int64                             `json:"createdAt"`
	UpdatedAt       int64                             `json:"updatedAt"`
	Ended           bool                              `json:"ended"`
	EndReason       schema.SessionEndReason           `json:"endReason,omitempty"`
	AgentMetadata   json.RawMessage                   `json:"agentMetadata,omitempty"`
}

// Store keeps session records and event logs. Implementations are safe for
// concurrent use. Events of one session are appended in sequence order by a
// single writer (the session), so implementations need not reorder.
type Store interface {
	// PutSession creates or replaces a session record.
	PutSession(ctx context.Context, rec SessionRecord) error
	// DeleteSession removes a session and its events.
	DeleteSession(ctx context.Context, id string) error
	// Sessions returns every record, in no particular order.
	Sessions(ctx context.Context) ([]SessionRecord, error)
	// Append adds events to a session's log.
	Append(ctx context.Context, sessionID string, events []schema.Event) error
	// Events returns up to limit events with sequence > after (limit <= 0:
	// all of them).
	Events(ctx context.Context, sessionID string, after uint64, limit int) ([]schema.Event, error)
	// Close releases the store.
	Close() error
}

// Acker is implemented by stores whose Append returns before the events
// are durable (a background writer commits them in groups). The store
// acknowledges a session's events, in order, by calling the function
// registered with Watch with the highest durable sequence; the session
// shows events to readers only once they are acknowledged, so whatever a
// client received is stored. Stores without Acker are durable (or as
// durable as they get) when Append returns.
type Acker interface {
	// Watch registers fn for a session's acknowledgments until the
	// returned function is called. fn is never called from inside Append.
	Watch(sessionID string, fn func(seq uint64)) (stop func())
}

// Rows is what ScanRecords reads: database/sql's and pgx's rows alike.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanRecords decodes rows of one JSON session record each (a durable
// store's `SELECT record …`); name prefixes its errors.
func ScanRecords(rows Rows, name string) ([]SessionRecord, error) {
	out := []SessionRecord{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var rec SessionRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("%s: session record: %w", name, err)
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}
