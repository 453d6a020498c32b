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
