package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/internal/testkit/pgtest"
	"github.com/sandbox-agent/sandbox-agent/store"
	"github.com/sandbox-agent/sandbox-agent/store/durable"
	"github.com/sandbox-agent/sandbox-agent/store/postgres"
	"github.com/sandbox-agent/sandbox-agent/store/sqlite"
)

// reportStore: the event pipeline writing through SQLite and PostgreSQL
// against the default memory store, as CPU per event of messages of 10k
// deltas (goal: at most 1.3× memory), the database server's own CPU
// included; then replay of 100k events over SSE from each store, read by a
// server that restarted (reloaded them), so durable stores serve them from
// the database.
func reportStore(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	pg := pgtest.Start(t)
	type backend struct {
		name string
		open func() store.Store   // nil: the default memory store
		cpu  func() time.Duration // CPU used outside this process (the database server)
	}
	must := func(s store.Store, err error) store.Store {
		if err != nil {
			t.Fatal(err)
		}
		return durable.New(s, quiet)
	}
	backends := []backend{
		{name: "memory"},
		{name: "sqlite", open: func() store.Store {
			return must(sqlite.Open(ctx, filepath.Join(dir, "bench.db"), store.Options{}))
		}},
		{name: "postgres", open: func() store.Store {
			return must(postgres.Open(ctx, pg.DSN(), store.Options{ServerID: "bench"}))
		}, cpu: pg.CPU},
	}
	const n, reps, replayN = 10_000, 5, 100_000
	var base, baseReplay float64
	var rows [][]string
	for _, b := range backends {
		outside := func() time.Duration {
			if b.cpu == nil {
				return 0
			}
			return b.cpu()
		}
		var st store.Store
		if b.open != nil {
			st = b.open()
		}
		r := newRigStore(t, st)
		s := r.open(burstID, 1, rawSSE, false)
		if _, err := s.turnUnanswered("1000"); err != nil { // warm up
			t.Fatal(err)
		}
		runtime.GC()
		o0, m := outside(), markUsage()
		var events uint64
		for range reps {
			got, err := s.turnUnanswered(strconv.Itoa(n))
			if err != nil {
				t.Fatal(err)
			}
			events += got
		}
		u := m.since()
		cpu := u.cpu + outside() - o0
		per := float64(cpu) / float64(events)
		if base == 0 {
			base = per
		}

		// Replay: 100k events in one message, then a server that
		// restarted reads them all over SSE.
		if _, err := s.turnUnanswered(strconv.Itoa(replayN)); err != nil {
			t.Fatal(err)
		}
		last, id := s.last, s.id
		for _, sub := range s.subs {
			sub.stop()
		}
		rr := r
		if st != nil {
			r.mgr.Shutdown(ctx)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			st2 := b.open()
			t.Cleanup(func() { st2.Close() }) // after the rig's own cleanup
			rr = newRigStore(t, st2)
			if _, err := rr.mgr.Reload(ctx); err != nil {
				t.Fatal(err)
			}
		}
		runtime.GC()
		o0, m = outside(), markUsage()
		var read uint64
		rctx, cancel := context.WithTimeout(ctx, turnTimeout)
		err := rr.frames(rctx, id, func(seq uint64, _ []byte) bool {
			read++
			return seq < last
		})
		cancel()
		ru := m.since()
		if err != nil || read != last {
			t.Fatalf("%s replay: read %d of %d events: %v", b.name, read, last, err)
		}
		rcpu := float64(ru.cpu+outside()-o0) / float64(read)
		if baseReplay == 0 {
			baseReplay = rcpu
		}
		ratio := per / base
		goal := "–"
		if b.open != nil {
			goal = fmt.Sprintf("≤ 1.3: %s", verdict(ratio <= 1.3))
		}
		rows = append(rows, []string{b.name, us(time.Duration(per)), fmt.Sprintf("%.2f", ratio), goal,
			num(float64(events) / u.wall.Seconds()), strconv.FormatUint(read, 10), ms(ru.wall),
			us(time.Duration(rcpu)), fmt.Sprintf("%.2f", rcpu/baseReplay)})
	}
	table(fmt.Sprintf("Store: pipeline CPU per event at %dk-delta messages (database server CPU included), and replay of %dk events over SSE after a restart", n/1000, replayN/1000),
		[]string{"store", "CPU µs/event", "× memory", "goal", "events/s (wall)", "replayed", "replay wall ms", "replay CPU µs/event", "× memory"}, rows)
}
