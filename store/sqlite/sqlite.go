// Package sqlite is the embedded durable store: one SQLite file (pure Go
// driver, so the binary stays static) in WAL mode, for a sandbox that
// restarts. The schema is the Postgres store's, in SQLite's types.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
)

// migrations are the schema's versions; never edit one that shipped, add one.
var migrations = []store.Migration{{Version: 1, SQL: `
CREATE TABLE sessions (
	server_id         TEXT    NOT NULL,
	session_id        TEXT    NOT NULL,
	agent             TEXT    NOT NULL,
	native_session_id TEXT,
	created_at        INTEGER NOT NULL, -- unix ms
	updated_at        INTEGER NOT NULL, -- unix ms
	ended             INTEGER NOT NULL,
	end_reason        TEXT,
	record            TEXT    NOT NULL, -- the whole record as JSON
	PRIMARY KEY (server_id, session_id)
);
CREATE TABLE events (
	server_id  TEXT    NOT NULL,
	session_id TEXT    NOT NULL,
	seq        INTEGER NOT NULL,
	event_id   TEXT    NOT NULL,
	type       TEXT    NOT NULL,
	time       TEXT    NOT NULL, -- RFC 3339, UTC
	envelope   TEXT    NOT NULL, -- the full event as JSON
	PRIMARY KEY (server_id, session_id, seq)
) WITHOUT ROWID;
CREATE INDEX events_type ON events (server_id, type);
CREATE INDEX events_time ON events (server_id, time);
`}}

// insertRows is how many events one INSERT statement writes: one statement
// per row costs a round through database/sql and the VM for each event.
const insertRows = 64

// insertSQL is an INSERT of n events (7 parameters each).
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO events (server_id, session_id, seq, event_id, type, time, envelope) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?)")
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	return b.String()
}

// Store is a store.Store in one SQLite database.
type Store struct {
	opt store.Options
	w   *sql.DB // one connection: SQLite has one writer at a time
	r   *sql.DB // readers, concurrent with the writer under WAL

	mu    sync.Mutex                // guards the writer's prepared statements
	stmts [insertRows + 1]*sql.Stmt // stmts[n] inserts n events; made when first needed
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it and its directory if needed) the database at path
// and brings its schema up to date.
func Open(ctx context.Context, path string, opt store.Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	r.SetMaxOpenConns(4)
	s := &Store{opt: opt, w: w, r: r}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// migrate applies the migrations the database lacks, each in its own
// transaction with its version row.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite store: migrations table: %w", err)
	}
	var have int
	if err := s.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("sqlite store: schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("sqlite store: database schema version %d is newer than this binary's (%d)", have, len(migrations))
	}
	for _, m := range migrations[have:] {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite store: migration %d: %w", m.Version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, time.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite store: migration %d: %w", m.Version, err)
		}
	}
	return nil
}

// PutSession implements store.Store.
func (s *Store) PutSession(ctx context.Context, rec store.SessionRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO sessions (server_id, session_id, agent, native_session_id, created_at, updated_at, ended, end_reason, record)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (server_id, session_id) DO UPDATE SET agent = excluded.agent, native_session_id = excluded.native_session_id,
			created_at = excluded.created_at, updated_at = excluded.updated_at, ended = excluded.ended,
			end_reason = excluded.end_reason, record = excluded.record`,
		s.opt.Server(), rec.ID, rec.Agent, rec.NativeSessionID, rec.CreatedAt, rec.UpdatedAt, rec.Ended, nullIfEmpty(string(rec.EndReason)), string(b))
	if err != nil {
		return fmt.Errorf("sqlite store: put session: %w", err)
	}
	return nil
}

// DeleteSession implements store.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM events WHERE server_id = ? AND session_id = ?`, `DELETE FROM sessions WHERE server_id = ? AND session_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, s.opt.Server(), id); err != nil {
			return fmt.Errorf("sqlite store: delete session: %w", err)
		}
	}
	return tx.Commit()
}

// Sessions implements store.Store.
func (s *Store) Sessions(ctx context.Context) ([]store.SessionRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT record FROM sessions WHERE server_id = ?`, s.opt.Server())
	if err != nil {
		return nil, fmt.Errorf("sqlite store: sessions: %w", err)
	}
	defer rows.Close()
	return store.ScanRecords(rows, "sqlite store")
}

// Append implements store.Store: the events are written in one
// transaction; an event already stored (a retried write) is kept once.
func (s *Store) Append(ctx context.Context, id string, evs []schema.Event) error {
	if len(evs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The statements it needs, prepared before the transaction holds the
	// writer's one connection.
	for _, n := range []int{min(len(evs), insertRows), len(evs) % insertRows} {
		if n > 0 && s.stmts[n] == nil {
			st, err := s.w.PrepareContext(ctx, insertSQL(n))
			if err != nil {
				return fmt.Errorf("sqlite store: append: %w", err)
			}
			s.stmts[n] = st
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: append: %w", err)
	}
	defer tx.Rollback()
	srv := s.opt.Server()
	args := make([]any, 0, 7*insertRows)
	for len(evs) > 0 {
		n := min(len(evs), insertRows)
		args = args[:0]
		for i := range evs[:n] {
			ev := &evs[i]
			b, err := s.opt.EncodeEvent(ev)
			if err != nil {
				return err
			}
			args = append(args, srv, id, int64(ev.Sequence), ev.EventID, string(ev.Type), ev.Time, string(b)) // TEXT: JSON functions read a BLOB as JSONB
		}
		if _, err := tx.StmtContext(ctx, s.stmts[n]).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("sqlite store: append: %w", err)
		}
		evs = evs[n:]
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: append: %w", err)
	}
	return nil
}

// Events implements store.Store.
func (s *Store) Events(ctx context.Context, id string, after uint64, limit int) ([]schema.Event, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT envelope FROM events WHERE server_id = ? AND session_id = ? AND seq > ?
		ORDER BY seq LIMIT ?`, s.opt.Server(), id, int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: events: %w", err)
	}
	defer rows.Close()
	out := []schema.Event{}
	var b []byte
	for rows.Next() {
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		ev, err := store.DecodeEvent(b)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// Close implements store.Store.
func (s *Store) Close() error {
	var errs []error
	for _, st := range s.stmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.r.Close(), s.w.Close())
	return errors.Join(errs...)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
