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
	logs     map[string]*eventLog
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{sessions: map[string]store.SessionRecord{}, logs: map[string]*eventLog{}}
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
	delete(s.logs, id)
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
	s.mu.RLock()
	l := s.logs[id]
	s.mu.RUnlock()
	if l == nil {
		s.mu.Lock()
		if l = s.logs[id]; l == nil {
			l = &eventLog{}
			s.logs[id] = l
		}
		s.mu.Unlock()
	}
	l.append(evs)
	return nil
}

// Events implements store.Store.
func (s *Store) Events(_ context.Context, id string, after uint64, limit int) ([]schema.Event, error) {
	s.mu.RLock()
	l := s.logs[id]
	s.mu.RUnlock()
	if l == nil {
		return []schema.Event{}, nil
	}
	return l.read(after, limit), nil
}

// Close implements store.Store.
func (s *Store) Close() error { return nil }

// chunkSize is the number of events per chunk of a log.
const chunkSize = 1024

// eventLog is one session's events in fixed-size chunks: appending never
// copies what is already stored (a single slice would copy the whole log
// each time it doubles, and hold twice its size meanwhile), and a read
// from an offset finds its place by binary search over the chunks, not by
// scanning from the start. Each log has its own lock, so sessions do not
// contend with each other.
type eventLog struct {
	mu     sync.RWMutex
	chunks [][]schema.Event // each full (chunkSize) except the last
}

func (l *eventLog) append(evs []schema.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(evs) > 0 {
		n := len(l.chunks)
		if n == 0 || len(l.chunks[n-1]) == chunkSize {
			// The first chunk starts small and grows by append: a session
			// that holds a few events does not pay for a thousand.
			size := chunkSize
			if n == 0 {
				size = 16
			}
			l.chunks = append(l.chunks, make([]schema.Event, 0, size))
			n++
		}
		last := l.chunks[n-1]
		k := min(len(evs), chunkSize-len(last))
		l.chunks[n-1] = append(last, evs[:k]...)
		evs = evs[k:]
	}
}

// read copies up to limit events with sequence > after (limit <= 0: all).
// Sequences increase along the log (the store's one writer appends in
// order), which is what the searches rely on.
func (l *eventLog) read(after uint64, limit int) []schema.Event {
	l.mu.RLock()
	defer l.mu.RUnlock()
	// The first chunk holding an event after the offset: every chunk
	// before it ends at or before the offset.
	c := sort.Search(len(l.chunks), func(i int) bool {
		ch := l.chunks[i]
		return ch[len(ch)-1].Sequence > after
	})
	if c == len(l.chunks) {
		return []schema.Event{}
	}
	ch := l.chunks[c]
	i := sort.Search(len(ch), func(i int) bool { return ch[i].Sequence > after })
	// Chunks before the last are full.
	n := (len(l.chunks)-c-1)*chunkSize + len(l.chunks[len(l.chunks)-1]) - i
	if limit > 0 && n > limit {
		n = limit
	}
	out := make([]schema.Event, 0, n)
	for len(out) < n {
		k := min(n-len(out), len(ch)-i)
		out = append(out, ch[i:i+k]...)
		c, i = c+1, 0
		if c < len(l.chunks) {
			ch = l.chunks[c]
		}
	}
	return out
}

// First returns the sequence of a session's first event held in memory.
func (s *Store) First(id string) (uint64, bool) {
	s.mu.RLock()
	l := s.logs[id]
	s.mu.RUnlock()
	if l == nil {
		return 0, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.chunks) == 0 || len(l.chunks[0]) == 0 {
		return 0, false
	}
	return l.chunks[0][0].Sequence, true
}

// Last returns the sequence of a session's last event held in memory.
func (s *Store) Last(id string) (uint64, bool) {
	s.mu.RLock()
	l := s.logs[id]
	s.mu.RUnlock()
	if l == nil {
		return 0, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.chunks) == 0 {
		return 0, false
	}
	ch := l.chunks[len(l.chunks)-1]
	return ch[len(ch)-1].Sequence, true
}
