package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/store"
	"github.com/sandbox-agent/sandbox-agent/store/storetest"
)

func TestConformance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "store.db")
	storetest.Run(t, storetest.Suite{Durable: true, Open: func(t *testing.T, opt store.Options) store.Store {
		s, err := Open(context.Background(), path, opt)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}})
}

// TestMigrationsIdempotent: opening an up-to-date database applies nothing,
// and a database from a newer binary is refused rather than misread.
func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	for range 2 {
		s, err := Open(ctx, path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(migrations) {
			t.Fatalf("migrations recorded: %d %v", n, err)
		}
		s.Close()
	}
	s, _ := Open(ctx, path, store.Options{})
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (99, 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path, store.Options{}); err == nil {
		t.Fatal("a database with a newer schema was opened")
	}
}

// TestJSONQueries: envelopes are JSON text, so the documented queries
// (docs/storage.md) work with SQLite's JSON functions.
func TestJSONQueries(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := storetest.Events("a", 1, 130) // two full statements and a remainder
	if err := s.Append(ctx, "a", evs); err != nil {
		t.Fatal(err)
	}
	var n int
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE json_extract(envelope, '$.type') = type
		AND json_extract(envelope, '$.sequence') = seq`).Scan(&n)
	if err != nil || n != len(evs) {
		t.Fatalf("json_extract matched %d of %d rows: %v", n, len(evs), err)
	}
}
