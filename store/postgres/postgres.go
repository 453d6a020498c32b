// Package postgres writes sessions and events into the user's own
// PostgreSQL database: the external storage a fleet of sandboxes shares.
// Rows are scoped by server id, so many servers use one database; the
// schema is versioned and migrated at start-up under an advisory lock, so
// servers starting together do not race.
package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
)

// migrations are the schema's versions; never edit one that shipped, add one.
var migrations = []store.Migration{{Version: 1, SQL: `
CREATE TABLE sandbox_agent_sessions (
	server_id         text        NOT NULL,
	session_id        text        NOT NULL,
	agent             text        NOT NULL,
	native_session_id text,
	created_at        timestamptz NOT NULL,
	updated_at        timestamptz NOT NULL,
	ended             boolean     NOT NULL,
	end_reason        text,
	record            jsonb       NOT NULL,
	PRIMARY KEY (server_id, session_id)
);
CREATE TABLE sandbox_agent_events (
	server_id  text        NOT NULL,
	session_id text        NOT NULL,
	seq        bigint      NOT NULL,
	event_id   text        NOT NULL,
	type       text        NOT NULL,
	time       timestamptz NOT NULL,
	envelope   jsonb       NOT NULL,
	PRIMARY KEY (server_id, session_id, seq)
);
CREATE INDEX sandbox_agent_events_type ON sandbox_agent_events (type, time);
CREATE INDEX sandbox_agent_events_time ON sandbox_agent_events (time);
`}}

// migrationLock is the advisory lock key held while migrating.
const migrationLock = 0x5a_6e_74_5f_73_74

// Store is a store.Store in a PostgreSQL database.
type Store struct {
	opt  store.Options
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string) and brings its schema up to date.
func Open(ctx context.Context, dsn string, opt store.Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	if cfg.MaxConns < 4 {
		cfg.MaxConns = 4
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	s := &Store{opt: opt, pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres store: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("postgres store: migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS sandbox_agent_migrations (
		version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres store: migrations table: %w", err)
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM sandbox_agent_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("postgres store: schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("postgres store: database schema version %d is newer than this binary's (%d)", have, len(migrations))
	}
	for _, m := range migrations[have:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("postgres store: migration %d: %w", m.Version, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sandbox_agent_migrations (version) VALUES ($1)`, m.Version); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres store: migrations: %w", err)
	}
	return nil
}

// PutSession implements store.Store.
func (s *Store) PutSession(ctx context.Context, rec store.SessionRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	var reason *string
	if rec.EndReason != "" {
		reason = schema.Ptr(string(rec.EndReason))
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO sandbox_agent_sessions
		(server_id, session_id, agent, native_session_id, created_at, updated_at, ended, end_reason, record)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (server_id, session_id) DO UPDATE SET agent = excluded.agent,
			native_session_id = excluded.native_session_id, created_at = excluded.created_at,
			updated_at = excluded.updated_at, ended = excluded.ended, end_reason = excluded.end_reason,
			record = excluded.record`,
		s.opt.Server(), rec.ID, rec.Agent, rec.NativeSessionID, time.UnixMilli(rec.CreatedAt), time.UnixMilli(rec.UpdatedAt),
		rec.Ended, reason, b)
	if err != nil {
		return fmt.Errorf("postgres store: put session: %w", err)
	}
	return nil
}

// DeleteSession implements store.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres store: %w", err)
	}
	defer tx.Rollback(ctx)
	for _, q := range []string{`DELETE FROM sandbox_agent_events WHERE server_id = $1 AND session_id = $2`,
		`DELETE FROM sandbox_agent_sessions WHERE server_id = $1 AND session_id = $2`} {
		if _, err := tx.Exec(ctx, q, s.opt.Server(), id); err != nil {
			return fmt.Errorf("postgres store: delete session: %w", err)
		}
	}
	return tx.Commit(ctx)
}

// Sessions implements store.Store.
func (s *Store) Sessions(ctx context.Context) ([]store.SessionRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT record FROM sandbox_agent_sessions WHERE server_id = $1`, s.opt.Server())
	if err != nil {
		return nil, fmt.Errorf("postgres store: sessions: %w", err)
	}
	defer rows.Close()
	return store.ScanRecords(rows, "postgres store")
}

// Append implements store.Store: one statement, one round trip; an event
// already stored (a retried write whose first try did commit) is kept once.
func (s *Store) Append(ctx context.Context, id string, evs []schema.Event) error {
	if len(evs) == 0 {
		return nil
	}
	n := len(evs)
	seqs, ids, types, times := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	envs := make([]string, n)
	for i := range evs {
		ev := &evs[i]
		b, err := s.opt.EncodeEvent(ev)
		if err != nil {
			return err
		}
		// jsonb cannot hold U+0000; an agent's NUL becomes U+FFFD in the
		// database (the live stream still carries it).
		b = bytes.ReplaceAll(b, []byte(`\u0000`), []byte(`\ufffd`))
		seqs[i], ids[i], types[i], times[i], envs[i] = int64(ev.Sequence), ev.EventID, string(ev.Type), ev.Time, string(b)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sandbox_agent_events (server_id, session_id, seq, event_id, type, time, envelope)
		SELECT $1, $2, u.seq, u.event_id, u.type, u.time::timestamptz, u.envelope::jsonb
		FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(seq, event_id, type, time, envelope)
		ON CONFLICT DO NOTHING`, s.opt.Server(), id, seqs, ids, types, times, envs)
	if err != nil {
		return fmt.Errorf("postgres store: append: %w", err)
	}
	return nil
}

// Events implements store.Store.
func (s *Store) Events(ctx context.Context, id string, after uint64, limit int) ([]schema.Event, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT envelope::text FROM sandbox_agent_events
		WHERE server_id = $1 AND session_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`, s.opt.Server(), id, int64(after), lim)
	if err != nil {
		return nil, fmt.Errorf("postgres store: events: %w", err)
	}
	defer rows.Close()
	out := []schema.Event{}
	for rows.Next() {
		var b []byte
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
	s.pool.Close()
	return nil
}
