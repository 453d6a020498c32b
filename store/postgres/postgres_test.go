package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/pgtest"
	"github.com/sandbox-agent/sandbox-agent/store"
	"github.com/sandbox-agent/sandbox-agent/store/storetest"
)

func TestConformance(t *testing.T) {
	pg := pgtest.Start(t)
	storetest.Run(t, storetest.Suite{Durable: true, Open: func(t *testing.T, opt store.Options) store.Store {
		s, err := Open(context.Background(), pg.DSN(), opt)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}})
}

// TestConcurrentMigrations: servers starting together against a fresh
// database migrate it once (the advisory lock), none fails.
func TestConcurrentMigrations(t *testing.T) {
	pg := pgtest.Start(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), pg.DSN(), store.Options{})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(context.Background(), pg.DSN(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT COUNT(*) FROM sandbox_agent_migrations`).Scan(&n); err != nil || n != len(migrations) {
		t.Fatalf("migrations recorded: %d %v", n, err)
	}
}
