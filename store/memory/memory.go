// Package memory is the in-memory store: fast, and gone on restart.
package memory

import (
	"context"
	"sort"
	"sync"

	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
)

// Store is an in-memory store.Store.
type Store struct {
	mu       sync.RWMutex
	sessions map[string]store.SessionRecord
	events   map[string][]schema.Event
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{sessions: map[string]store.SessionRecord{}, events: map[string][]schema.Event{}}
}

// PutSession implements store.Store.
func (s *Store) PutSession(_ context.Context, rec store.SessionRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[rec.ID] = rec
	return nil
}

// DeleteSession implements store.Store.
func (s *Store) DeleteSession(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
	delete(s.events, id)
	return nil
}

// Sessions implements store.Store.
func (s *Store) Sessions(context.Context) ([]store.SessionRecord, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]store.SessionRecord, 0, len(s.sessions))
	for _, r := range s.sessions {
		out = append(out, r)
	}
	return out, nil
}

// Append implements store.Store.
func (s *Store) Append(_ context.Context, id string, evs []schema.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[id] = append(s.events[id], evs...)
	return nil
}

// Events implements store.Store.
func (s *Store) Events(_ context.Context, id string, after uint64, limit int) ([]schema.Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	log := s.events[id]
	i := sort.Search(len(log), func(i int) bool { return log[i].Sequence > after })
	n := len(log) - i
	if limit > 0 && n > limit {
		n = limit
	}
	out := make([]schema.Event, n)
	copy(out, log[i:i+n])
	return out, nil
}

// Close implements store.Store.
func (s *Store) Close() error { return nil }
