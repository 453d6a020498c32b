package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/invariants"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/pgtest"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
	"github.com/sandbox-agent/sandbox-agent/store/sqlite"
)

// TestCrashRestart (issue 16): the real binary with a durable store is
// SIGKILLed mid-turn while a client streams. After a restart every event
// the client received is there, in order, without gap or duplicate; the
// session is detached, streamable from the client's offset, and resumes
// with a new message; a permission pending at the next kill survives it
// and can be answered; DELETE removes the session's rows.
func TestCrashRestart(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		data := t.TempDir()
		crashRestart(t, data, "--store", "sqlite")
		st, err := sqlite.Open(context.Background(), filepath.Join(data, "sessions.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		recs, _ := st.Sessions(context.Background())
		evs, _ := st.Events(context.Background(), "s", 0, 0)
		if len(recs) != 0 || len(evs) != 0 {
			t.Fatalf("DELETE left %d session rows and %d event rows", len(recs), len(evs))
		}
	})
	t.Run("postgres", func(t *testing.T) {
		pg := pgtest.Start(t)
		crashRestart(t, t.TempDir(), "--store", pg.DSN(), "--server-id", "crash-test")
	})
}

func crashRestart(t *testing.T, data string, args ...string) {
	env := baseEnv(t)
	args = append([]string{"--data-dir", data}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := startBinary(t, env, "", args...)
	if _, err := srv.c.CreateSession(ctx, "s", schema.CreateSessionRequest{Agent: "mock"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.c.SendMessage(ctx, "s", schema.MessageRequest{Message: "demo"}); err != nil {
		t.Fatal(err)
	}
	// Stream, and kill the server while the demo turn is streaming.
	var got []schema.Event
	killed := make(chan struct{})
	for ev, err := range srv.c.StreamEvents(ctx, "s", client.StreamOptions{IncludeRaw: true, NoReconnect: true}) {
		if err != nil {
			break
		}
		got = append(got, ev)
		if ev.Type == schema.EventItemDelta && len(got) >= 8 && killed != nil {
			go func(first *runningServer, ch chan struct{}) { first.kill(syscall.SIGKILL); close(ch) }(srv, killed)
			defer func(ch chan struct{}) { <-ch }(killed)
			killed = nil
		}
	}
	if killed != nil {
		t.Fatalf("the stream ended before the kill: %v", evTypes(got))
	}
	for _, ev := range got {
		if ev.Type == schema.EventTurnEnded {
			t.Fatalf("the turn was over before the kill: the test proves nothing (%v)", evTypes(got))
		}
	}

	srv = startBinary(t, env, "", args...)
	info, err := srv.c.Session(ctx, "s")
	if err != nil {
		t.Fatalf("session after restart: %v\n%s", err, srv.log())
	}
	if !info.Detached || info.Ended {
		t.Fatalf("after restart: %+v", info)
	}
	all := allEvents(ctx, t, srv.c)
	sameWire(t, all[:min(len(got), len(all))], got)
	if len(all) < len(got) {
		t.Fatalf("the client had %d events, the store kept %d", len(got), len(all))
	}
	contiguous(t, all)

	// Stream on from where the client was, and resume with a message.
	from := got[len(got)-1].Sequence
	streamed := make(chan []schema.Event, 1)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		var evs []schema.Event
		for ev, err := range srv.c.StreamEvents(sctx, "s", client.StreamOptions{Offset: from}) {
			if err != nil {
				break
			}
			evs = append(evs, ev)
			if ev.Type == schema.EventTurnEnded && strings.Contains(fmt.Sprint(evTypes(evs)), "turn.started") {
				break
			}
		}
		streamed <- evs
	}()
	if err := srv.c.SendMessage(ctx, "s", schema.MessageRequest{Message: "echo after the crash"}); err != nil {
		t.Fatalf("resume with a message: %v\n%s", err, srv.log())
	}
	evs := <-streamed
	if len(evs) == 0 || evs[0].Sequence != from+1 {
		t.Fatalf("stream from offset %d: %v", from, evTypes(evs))
	}
	all = allEvents(ctx, t, srv.c)
	contiguous(t, all)
	if !hasText(all, "after the crash") || !hasCode(all, "agent_restarted") {
		t.Fatalf("resumed log: %v", evTypes(all))
	}
	checkInvariants(t, all, invariants.Idle)

	// A permission pending when the server dies can be answered after.
	if err := srv.c.SendMessage(ctx, "s", schema.MessageRequest{Message: "permission"}); err != nil {
		t.Fatal(err)
	}
	perms := waitPerms(ctx, t, srv.c, 2)
	srv.kill(syscall.SIGKILL)
	srv = startBinary(t, env, "", args...)
	for _, id := range perms {
		if err := srv.c.ReplyPermission(ctx, "s", id, schema.ReplyOnce); err != nil {
			t.Fatalf("reply %s after the restart: %v\n%s", id, err, srv.log())
		}
	}
	for deadline := time.Now().Add(20 * time.Second); !hasText(all, "Answers received after the restart"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not go on after the answers: %v", evTypes(all))
		}
		all = allEvents(ctx, t, srv.c)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		all = allEvents(ctx, t, srv.c)
		if len(invariants.Check(all, invariants.Idle)) == 0 || time.Now().After(deadline) {
			break
		}
	}
	checkInvariants(t, all, invariants.Idle)

	if err := srv.c.DeleteSession(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	srv.kill(syscall.SIGTERM)
	srv = startBinary(t, env, "", args...)
	if list, err := srv.c.Sessions(ctx); err != nil || len(list) != 0 {
		t.Fatalf("after DELETE and a restart: %v %v", list, err)
	}
	srv.kill(syscall.SIGTERM)
}

func allEvents(ctx context.Context, t *testing.T, c *client.Client) []schema.Event {
	t.Helper()
	page, err := c.Events(ctx, "s", client.EventsQuery{IncludeRaw: true})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

func waitPerms(ctx context.Context, t *testing.T, c *client.Client, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var ids []string
		for _, ev := range allEvents(ctx, t, c) {
			if d, ok := ev.Data.(*schema.PermissionEventData); ok && ev.Type == schema.EventPermissionRequested {
				ids = append(ids, d.PermissionID)
			}
		}
		if len(ids) >= n {
			return ids[len(ids)-n:]
		}
	}
	t.Fatal("no permission requests")
	return nil
}

func sameWire(t *testing.T, got, want []schema.Event) {
	t.Helper()
	for i := range want {
		a, _ := json.Marshal(got[i])
		b, _ := json.Marshal(want[i])
		var x, y any
		json.Unmarshal(a, &x)
		json.Unmarshal(b, &y)
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("event %d differs after the restart:\n got %s\nwant %s", i, a, b)
		}
	}
}

func contiguous(t *testing.T, evs []schema.Event) {
	t.Helper()
	for i, ev := range evs {
		if ev.Sequence != uint64(i+1) {
			t.Fatalf("event %d has sequence %d: %v", i, ev.Sequence, evTypes(evs))
		}
	}
}

func checkInvariants(t *testing.T, evs []schema.Event, st invariants.State) {
	t.Helper()
	for _, err := range invariants.Check(evs, st) {
		t.Error(err)
	}
	if t.Failed() {
		t.Fatalf("log: %v", evTypes(evs))
	}
}

func hasText(evs []schema.Event, s string) bool {
	for _, ev := range evs {
		if d, ok := ev.Data.(*schema.ItemEventData); ok && strings.Contains(d.Item.Text(), s) {
			return true
		}
	}
	return false
}

func hasCode(evs []schema.Event, code string) bool {
	for _, ev := range evs {
		if d, ok := ev.Data.(*schema.ErrorData); ok && schema.Deref(d.Code) == code {
			return true
		}
	}
	return false
}

func evTypes(evs []schema.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = string(ev.Type)
	}
	return out
}
