// Package durable puts a database store behind the in-memory log of the
// running server. Every event of this process is kept in memory (reads of a
// live session never touch the database) and written to the database by
// one background writer that commits whatever has accumulated since its
// last commit in one go (group commit): a burst of events costs a few
// transactions, not one per event. An event is acknowledged (store.Acker)
// once the database has it, and the session shows it to readers only
// then, so every event a client received is durable. Events older than the
// process (sessions reloaded at start-up) are read from the database.
//
// When the database fails a write, the sessions go on in memory: what is
// queued is acknowledged from memory (readers are not held up by an
// outage) and the writer retries it, in order, with backoff until the
// database takes it. Stores skip events they already hold, so a write
// retried after a failure that did reach the database is not duplicated.
package durable

import (
	"context"
	"errors"
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
	// WriteTimeout bounds one write attempt of the writer.
	WriteTimeout = 3 * time.Second
	// MinBackoff and MaxBackoff bound the wait between retries.
	MinBackoff = 50 * time.Millisecond
	MaxBackoff = 5 * time.Second
	// maxBatch bounds the writes the writer takes at once, maxAppend the
	// events of one transaction.
	maxBatch  = 4096
	maxAppend = 2048
	// CloseTimeout bounds how long Close waits for queued writes.
	CloseTimeout = time.Minute
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
	// deleted: the delete reached the database in an earlier attempt
	// of its batch (and was counted off deleting).
	deleted bool
}

// watcher is a session's acknowledgment callback.
type watcher struct{ fn func(seq uint64) }

// Store is a store.Store that keeps this process's events in memory and
// writes everything through to a database store.
type Store struct {
	back store.Store
	mem  *memory.Store
	log  *slog.Logger

	mu       sync.Mutex
	queue    []op // writes the database has not taken yet, in order
	inflight []op // the batch being written
	watchers map[string]*watcher
	// deleting counts each session's deletes not yet in the database: its
	// old rows there must not be read meanwhile.
	deleting map[string]int
	failing  bool
	// ackedQueue: while failing, how much of queue was acknowledged from
	// memory already; ackedBatch: how much of inflight was (a prefix: the
	// batch is taken from the front of queue).
	ackedQueue int
	ackedBatch int
	wake       chan struct{}
	drained    chan struct{} // closed and replaced whenever queue and batch are empty
	stop       chan struct{}
	exited     chan struct{}

	closeOnce sync.Once
	closeErr  error
}

var (
	_ store.Store = (*Store)(nil)
	_ store.Acker = (*Store)(nil)
)

// New wraps a database store.
func New(back store.Store, log *slog.Logger) *Store {
	if log == nil {
		log = slog.Default()
	}
	s := &Store{back: back, mem: memory.New(), log: log, watchers: map[string]*watcher{}, deleting: map[string]int{},
		wake: make(chan struct{}, 1), drained: make(chan struct{}), stop: make(chan struct{}), exited: make(chan struct{})}
	close(s.drained)
	go s.run()
	return s
}

// Backend returns the database store.
func (s *Store) Backend() store.Store { return s.back }

// Watch implements store.Acker.
func (s *Store) Watch(id string, fn func(seq uint64)) (stop func()) {
	w := &watcher{fn: fn}
	s.mu.Lock()
	s.watchers[id] = w
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		if s.watchers[id] == w { // not a later session of the same id
			delete(s.watchers, id)
		}
		s.mu.Unlock()
	}
}

// Pending is the number of writes waiting for the database.
func (s *Store) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) + len(s.inflight)
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

// enqueue queues a write for the writer.
func (s *Store) enqueue(o op) {
	s.mu.Lock()
	if len(s.queue) == 0 && len(s.inflight) == 0 {
		s.drained = make(chan struct{})
	}
	s.queue = append(s.queue, o)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run is the writer: it takes a bounded batch of the queue, writes it,
// acknowledges it, and starts over. While the database fails it
// acknowledges everything queued from memory (the sessions go on) and
// retries the batch with backoff.
func (s *Store) run() {
	defer close(s.exited)
	backoff := MinBackoff
	for {
		s.mu.Lock()
		if len(s.inflight) == 0 {
			// A bounded batch: one that outgrew what the database can
			// take would fail forever.
			n := min(len(s.queue), maxBatch)
			s.inflight = s.queue[:n:n]
			s.queue = s.queue[n:]
			// Writes queued while a retry was in flight were not
			// acknowledged from memory: only the acknowledged prefix is.
			s.ackedBatch = min(s.ackedQueue, n)
			s.ackedQueue = max(0, s.ackedQueue-n)
		}
		batch := s.inflight
		var early []op // while failing: acknowledged from memory
		if s.failing {
			// The batch first: an acknowledgment covers every earlier
			// event of its session.
			early = append(append(early, batch[s.ackedBatch:]...), s.queue[s.ackedQueue:]...)
			s.ackedBatch, s.ackedQueue = len(batch), len(s.queue)
		}
		if len(batch) == 0 {
			s.queue = nil
			select {
			case <-s.drained:
			default:
				close(s.drained) // until the next enqueue replaces it
			}
		}
		s.mu.Unlock()
		s.ack(early)
		if len(batch) == 0 {
			select {
			case <-s.wake:
				continue
			case <-s.stop:
				return
			}
		}
		if err := s.write(batch); err != nil {
			// The sessions go on in memory: what of the batch and the
			// queue is not acknowledged yet is, now.
			s.mu.Lock()
			if !s.failing {
				s.failing = true
				s.log.Warn("store write failed; sessions go on in memory and the writes are retried", "err", err)
			}
			unacked := batch[s.ackedBatch:]
			s.ackedBatch = len(batch)
			queued := s.queue[s.ackedQueue:]
			s.ackedQueue = len(s.queue)
			s.mu.Unlock()
			s.ack(unacked)
			s.ack(queued)
			if !s.backoff(backoff) {
				return
			}
			backoff = min(backoff*2, MaxBackoff)
			continue
		}
		backoff = MinBackoff
		s.mu.Lock()
		unacked := batch[s.ackedBatch:] // in the database now
		s.inflight, s.ackedBatch = nil, 0
		if s.failing && len(s.queue) == 0 {
			s.failing = false
			s.log.Info("store caught up with the database")
		}
		s.mu.Unlock()
		s.ack(unacked)
	}
}

// backoff waits before a retry. Writes that come meanwhile join the batch
// and are acknowledged from memory at once, so readers are not held up by
// the wait. It returns false when the store is closing.
func (s *Store) backoff(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			return true
		case <-s.stop:
			return false
		case <-s.wake:
			// What came meanwhile stays queued, acknowledged from memory.
			s.mu.Lock()
			q := s.queue[s.ackedQueue:]
			s.ackedQueue = len(s.queue)
			s.mu.Unlock()
			s.ack(q)
		}
	}
}

// write applies a batch in order: a session's consecutive appends become
// one Append (one transaction), flushed before anything else of that
// session. A batch that failed is written again whole: puts and deletes
// are idempotent and appends skip stored events, so the outcome is that
// of one successful run.
func (s *Store) write(batch []op) error {
	pending := map[string][]schema.Event{}
	var order []string
	do := func(f func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(context.Background(), WriteTimeout)
		defer cancel()
		return f(ctx)
	}
	flush := func(id string) error {
		evs, ok := pending[id]
		if !ok {
			return nil
		}
		delete(pending, id)
		for len(evs) > 0 { // bounded transactions
			n := min(len(evs), maxAppend)
			if err := do(func(ctx context.Context) error { return s.back.Append(ctx, id, evs[:n]) }); err != nil {
				return err
			}
			evs = evs[n:]
		}
		return nil
	}
	for i, o := range batch {
		switch o.kind {
		case opAppend:
			if _, ok := pending[o.id]; !ok {
				order = append(order, o.id)
				pending[o.id] = slices.Clip(o.evs) // appending must copy, not write into the caller's array
			} else {
				pending[o.id] = append(pending[o.id], o.evs...)
			}
			continue
		case opPut:
			if err := flush(o.id); err != nil {
				return err
			}
			if err := do(func(ctx context.Context) error { return s.back.PutSession(ctx, o.rec) }); err != nil {
				return err
			}
		case opDelete:
			delete(pending, o.id) // its events are about to go anyway
			if err := do(func(ctx context.Context) error { return s.back.DeleteSession(ctx, o.id) }); err != nil {
				return err
			}
			if o.deleted { // a retry: counted off already
				continue
			}
			batch[i].deleted = true
			s.mu.Lock()
			if s.deleting[o.id]--; s.deleting[o.id] <= 0 {
				delete(s.deleting, o.id)
			}
			s.mu.Unlock()
		}
	}
	for _, id := range order {
		if err := flush(id); err != nil {
			return err
		}
	}
	return nil
}

// ack tells each session the last sequence of the batch's appends.
func (s *Store) ack(batch []op) {
	last := map[string]uint64{}
	for _, o := range batch {
		if o.kind == opAppend && len(o.evs) > 0 {
			last[o.id] = max(last[o.id], o.evs[len(o.evs)-1].Sequence)
		}
	}
	for id, seq := range last {
		s.mu.Lock()
		w := s.watchers[id]
		s.mu.Unlock()
		if w != nil {
			w.fn(seq)
		}
	}
}

// PutSession implements store.Store.
func (s *Store) PutSession(ctx context.Context, rec store.SessionRecord) error {
	_ = s.mem.PutSession(ctx, rec)
	s.enqueue(op{kind: opPut, id: rec.ID, rec: rec})
	return nil
}

// DeleteSession implements store.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_ = s.mem.DeleteSession(ctx, id)
	s.mu.Lock()
	s.deleting[id]++
	s.mu.Unlock()
	s.enqueue(op{kind: opDelete, id: id})
	return nil
}

// Sessions implements store.Store: the records in the database.
func (s *Store) Sessions(ctx context.Context) ([]store.SessionRecord, error) {
	return s.back.Sessions(ctx)
}

// Append implements store.Store. It returns at once; the events are
// acknowledged (store.Acker) once written. The store keeps evs: the
// caller must not modify them afterwards.
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
	s.enqueue(op{kind: opAppend, id: id, evs: evs})
	return nil
}

// Events implements store.Store: the events this process appended come
// from memory (acknowledged or not: the session decides what readers see),
// older ones from the database.
func (s *Store) Events(ctx context.Context, id string, after uint64, limit int) ([]schema.Event, error) {
	first, ok := s.mem.First(id)
	if ok && after+1 >= first {
		return s.mem.Events(ctx, id, after, limit)
	}
	s.mu.Lock()
	deleted := s.deleting[id] > 0
	s.mu.Unlock()
	if deleted { // the database still has the rows of a deleted session
		if !ok {
			return []schema.Event{}, nil
		}
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
	if err := s.drain(CloseTimeout); err != nil {
		s.log.Error("store closed with writes the database did not take", "pending", s.Pending(), "err", err)
	}
	close(s.stop)
	<-s.exited
	return s.back.Close()
}

// drain waits until every queued write is in the database, up to max,
// and gives up at once when the database fails (nothing to wait for).
func (s *Store) drain(max time.Duration) error {
	s.mu.Lock()
	ch := s.drained
	s.mu.Unlock()
	timer := time.NewTimer(max)
	defer timer.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ch:
			return nil
		case <-timer.C:
			return context.DeadlineExceeded
		case <-tick.C:
			s.mu.Lock()
			failing := s.failing
			s.mu.Unlock()
			if failing {
				return errors.New("the database is failing")
			}
		}
	}
}
