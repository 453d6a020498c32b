// Package durable puts a database store behind the in-memory log of the
// running server. Every event of this process is kept in memory (reads of a
// live session never touch the database) and written to the database before
// Append returns, so an event is durable before any subscriber sees it.
// Events older than the process (sessions reloaded at start-up) are read
// from the database.
//
// When the database fails a write, the session goes on in memory: that
// write and every later one are queued, in order, and a background writer
// retries them with backoff until the database takes them. Stores skip
// events they already hold, so a write retried after a failure that did
// reach the database is not duplicated.
package durable

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
	"github.com/sandbox-agent/sandbox-agent/store/memory"
)

// Tunables; variables so tests can shorten them.
var (
	// WriteTimeout bounds one write attempt made on a session's behalf,
	// so a database that hangs delays a session by at most this much
	// before it goes on in memory.
	WriteTimeout = 3 * time.Second
	// MinBackoff and MaxBackoff bound the wait between retries.
	MinBackoff = 50 * time.Millisecond
	MaxBackoff = 5 * time.Second
)

type opKind uint8

const (
	opPut opKind = iota
	opAppend
	opDelete
)

// op is one write not yet in the database.
type op struct {
	kind opKind
	id   string
	rec  store.SessionRecord
	evs  []schema.Event
}

// Store is a store.Store that keeps this process's events in memory and
// writes everything through to a database store.
type Store struct {
	back store.Store
	mem  *memory.Store
	log  *slog.Logger

	mu        sync.Mutex
	queue     []op // writes the database has not taken yet, in order
	wake      chan struct{}
	drained   chan struct{} // closed and replaced whenever the queue empties
	stop      chan struct{}
	exited    chan struct{}
	failing   bool
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// New wraps a database store.
func New(back store.Store, log *slog.Logger) *Store {
	if log == nil {
		log = slog.Default()
	}
	s := &Store{back: back, mem: memory.New(), log: log, wake: make(chan struct{}, 1),
		drained: make(chan struct{}), stop: make(chan struct{}), exited: make(chan struct{})}
	close(s.drained)
	go s.retry()
	return s
}

// Backend returns the database store.
func (s *Store) Backend() store.Store { return s.back }

// Pending is the number of writes waiting for the database.
func (s *Store) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Flush waits until every queued write is in the database.
func (s *Store) Flush(ctx context.Context) error {
	s.mu.Lock()
	ch := s.drained
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write applies o to the database now, unless earlier writes wait (then
// it queues behind them, so a session's writes land in order).
func (s *Store) write(o op) {
	s.mu.Lock()
	if len(s.queue) > 0 {
		s.enqueueLocked(o)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), WriteTimeout)
	err := s.apply(ctx, o)
	cancel()
	if err == nil {
		return
	}
	s.mu.Lock()
	// Writes queued meanwhile belong to other sessions (a session writes
	// one thing at a time), so queueing this one last keeps its order.
	s.enqueueLocked(o)
	if !s.failing {
		s.failing = true
		s.log.Warn("store write failed; the session goes on in memory and the write is retried", "err", err)
	}
	s.mu.Unlock()
	s.nudge()
}

func (s *Store) enqueueLocked(o op) {
	o.evs = slices.Clone(o.evs) // the queue owns what it holds
	// Consecutive appends of one session are written as one (not into
	// the head: the retrier may be writing it).
	if n := len(s.queue); o.kind == opAppend && n > 1 && s.queue[n-1].kind == opAppend && s.queue[n-1].id == o.id {
		s.queue[n-1].evs = append(s.queue[n-1].evs, o.evs...)
		return
	}
	if len(s.queue) == 0 {
		s.drained = make(chan struct{})
	}
	s.queue = append(s.queue, o)
}

func (s *Store) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Store) apply(ctx context.Context, o op) error {
	switch o.kind {
	case opPut:
		return s.back.PutSession(ctx, o.rec)
	case opDelete:
		return s.back.DeleteSession(ctx, o.id)
	default:
		return s.back.Append(ctx, o.id, o.evs)
	}
}

// retry drains the queue in order, backing off while the database fails.
func (s *Store) retry() {
	defer close(s.exited)
	backoff := MinBackoff
	for {
		s.mu.Lock()
		var o op
		n := len(s.queue)
		if n > 0 {
			o = s.queue[0]
		}
		s.mu.Unlock()
		if n == 0 {
			select {
			case <-s.wake:
				continue
			case <-s.stop:
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), WriteTimeout)
		err := s.apply(ctx, o)
		cancel()
		if err != nil {
			select {
			case <-time.After(backoff):
			case <-s.stop:
				return
			}
			backoff = min(backoff*2, MaxBackoff)
			continue
		}
		backoff = MinBackoff
		s.mu.Lock()
		s.queue = s.queue[1:]
		if len(s.queue) == 0 {
			s.queue = nil
			close(s.drained)
			if s.failing {
				s.failing = false
				s.log.Info("store caught up: every queued write is in the database")
			}
		}
		s.mu.Unlock()
	}
}

// PutSession implements store.Store.
func (s *Store) PutSession(ctx context.Context, rec store.SessionRecord) error {
	_ = s.mem.PutSession(ctx, rec)
	s.write(op{kind: opPut, id: rec.ID, rec: rec})
	return nil
}

// DeleteSession implements store.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_ = s.mem.DeleteSession(ctx, id)
	s.write(op{kind: opDelete, id: id})
	return nil
}

// Sessions implements store.Store: the records in the database.
func (s *Store) Sessions(ctx context.Context) ([]store.SessionRecord, error) {
	return s.back.Sessions(ctx)
}

// Append implements store.Store.
func (s *Store) Append(ctx context.Context, id string, evs []schema.Event) error {
	if last, ok := s.mem.Last(id); ok {
		// Kept once, as the database stores do.
		for len(evs) > 0 && evs[0].Sequence <= last {
			evs = evs[1:]
		}
		if len(evs) == 0 {
			return nil
		}
	}
	_ = s.mem.Append(ctx, id, evs)
	s.write(op{kind: opAppend, id: id, evs: evs})
	return nil
}

// Events implements store.Store: the events this process appended come
// from memory, older ones from the database.
func (s *Store) Events(ctx context.Context, id string, after uint64, limit int) ([]schema.Event, error) {
	first, ok := s.mem.First(id)
	if ok && after+1 >= first {
		return s.mem.Events(ctx, id, after, limit)
	}
	old, err := s.back.Events(ctx, id, after, limit)
	if err != nil || !ok {
		return old, err
	}
	for i := range old {
		if old[i].Sequence >= first {
			old = old[:i]
			break
		}
	}
	if limit > 0 && len(old) >= limit {
		return old, nil
	}
	rest := 0
	if limit > 0 {
		rest = limit - len(old)
	}
	newer, _ := s.mem.Events(ctx, id, first-1, rest)
	return append(old, newer...), nil
}

// Close writes what is queued (for up to WriteTimeout) and closes the
// database store. Later calls do nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), WriteTimeout)
	if err := s.Flush(ctx); err != nil {
		s.log.Error("store closed with writes the database did not take", "pending", s.Pending())
	}
	cancel()
	close(s.stop)
	<-s.exited
	return s.back.Close()
}
