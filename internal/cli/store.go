package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sandbox-agent/sandbox-agent/session"
	"github.com/sandbox-agent/sandbox-agent/store"
	"github.com/sandbox-agent/sandbox-agent/store/durable"
	"github.com/sandbox-agent/sandbox-agent/store/postgres"
	"github.com/sandbox-agent/sandbox-agent/store/sqlite"
)

// storeOptions are the server's storage flags.
type storeOptions struct {
	spec           string // --store: memory | sqlite[:PATH] | postgres://…
	serverID       string
	noRaw          bool
	retainDays     int
	retainSessions int
}

// envDefault returns the flag's value, else the variable's.
func envDefault(v, name string) string {
	if v != "" {
		return v
	}
	return os.Getenv(name)
}

// openStore opens the store --store names; nil means the default memory
// store. Durable stores are wrapped so sessions keep going in memory while
// the database is away.
func openStore(ctx context.Context, o storeOptions, dataDir string, log *slog.Logger) (*durable.Store, error) {
	opt := store.Options{ServerID: o.serverID, NoRaw: o.noRaw}
	var back store.Store
	var err error
	switch spec := o.spec; {
	case spec == "" || spec == "memory":
		return nil, nil
	case spec == "sqlite" || strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(spec, "sqlite"), ":")
		if path == "" {
			path = filepath.Join(stateDir(dataDir), "sessions.db")
		}
		back, err = sqlite.Open(ctx, path, opt)
		if err == nil {
			log.Info("store: sqlite", "path", path)
		}
	case strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://"):
		back, err = postgres.Open(ctx, spec, opt)
		if err == nil {
			log.Info("store: postgres", "server_id", opt.Server())
		}
	default:
		return nil, fmt.Errorf("--store: %q is not memory, sqlite, sqlite:PATH or a postgres:// URL", spec)
	}
	if err != nil {
		return nil, fmt.Errorf("--store: %w", err)
	}
	return durable.New(back, log), nil
}

// retain applies --retain-days and --retain-sessions now and then every
// interval until ctx ends.
func retain(ctx context.Context, mgr *session.Manager, o storeOptions, log *slog.Logger, interval time.Duration) {
	if o.retainDays <= 0 && o.retainSessions <= 0 {
		return
	}
	for {
		var before time.Time
		if o.retainDays > 0 {
			before = time.Now().Add(-time.Duration(o.retainDays) * 24 * time.Hour)
		}
		if n, err := mgr.Prune(ctx, before, o.retainSessions); err != nil {
			log.Warn("retention", "err", err)
		} else if n > 0 {
			log.Info("retention: sessions deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
