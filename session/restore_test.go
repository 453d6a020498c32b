package session

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/agent/mock"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/invariants"
	"github.com/sandbox-agent/sandbox-agent/internal/testkit/pgtest"
	"github.com/sandbox-agent/sandbox-agent/schema"
	"github.com/sandbox-agent/sandbox-agent/store"
	"github.com/sandbox-agent/sandbox-agent/store/durable"
	"github.com/sandbox-agent/sandbox-agent/store/postgres"
	"github.com/sandbox-agent/sandbox-agent/store/sqlite"
)

func openDurable(t *testing.T, path string) *durable.Store {
	t.Helper()
	back, err := sqlite.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := durable.New(back, nil)
	t.Cleanup(func() { st.Close() })
	return st
}

// restartManager stops m as a crash would leave it (agents gone, nothing
// recorded) and starts a new manager on the same database.
func restartManager(t *testing.T, m *Manager, st *durable.Store, path string, a agent.Adapter) *Manager {
	t.Helper()
	m.Shutdown(context.Background())
	st.Close()
	m2 := newMgr(t, a, openDurable(t, path))
	n, err := m2.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("reloaded %d sessions, want 1", n)
	}
	return m2
}

func waitFor(t *testing.T, s *Session, typ schema.EventType, n int) []schema.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		evs := allEvents(t, s)
		if count(evs, typ) >= n {
			return evs
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %d× %s in %v", n, typ, types(allEvents(t, s)))
	return nil
}

// TestReloadPendingPermission: the server goes away while the mock waits
// for a permission; after the restart the session is detached with the
// same log, the permission is still pending and can be answered (the mock
// takes it over), and the session goes on with new messages.
func TestReloadPendingPermission(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	a := mock.New(mock.Options{Interval: -1})
	st := openDurable(t, path)
	m := newMgr(t, a, st)
	ctx := context.Background()
	s, err := m.Create(ctx, "s1", schema.CreateSessionRequest{Agent: "mock"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, agent.Prompt{Text: "permission"}); err != nil {
		t.Fatal(err)
	}
	before := waitFor(t, s, schema.EventPermissionRequested, 2) // the mock asks twice
	var permIDs []string
	for _, ev := range before {
		if ev.Type == schema.EventPermissionRequested {
			permIDs = append(permIDs, ev.Data.(*schema.PermissionEventData).PermissionID)
		}
	}

	m = restartManager(t, m, st, path, a)
	s, err = m.Get("s1")
	if err != nil {
		t.Fatal(err)
	}
	if info := s.Info(); !info.Detached || info.Ended || info.EventCount != uint64(len(before)) {
		t.Fatalf("reloaded info: %+v", info)
	}
	after := allEvents(t, s)
	if strings.Join(types(after), ",") != strings.Join(types(before), ",") || after[len(after)-1].EventID != before[len(before)-1].EventID {
		t.Fatalf("log changed across the restart:\n%v\n%v", types(before), types(after))
	}
	checkLog(t, after, invariants.Running)

	for _, id := range permIDs {
		if err := s.ReplyPermission(ctx, id, schema.ReplyOnce); err != nil {
			t.Fatalf("answering permission %s after the restart: %v", id, err)
		}
	}
	evs := waitFor(t, s, schema.EventTurnEnded, 1)
	if s.Info().Detached {
		t.Fatal("still detached after the reply resumed it")
	}
	accepted, said := 0, false
	for _, ev := range evs[len(before):] {
		switch d := ev.Data.(type) {
		case *schema.PermissionEventData:
			if d.Status == schema.PermissionAccept && d.Reason == nil {
				accepted++
			}
		case *schema.ItemEventData:
			said = said || strings.Contains(d.Item.Text(), "Answers received after the restart")
		}
	}
	if accepted != 2 || !said {
		t.Fatalf("after the restart: %d accepted, agent went on: %v; %v", accepted, said, types(evs))
	}
	if err := s.Send(ctx, agent.Prompt{Text: "echo after restart"}); err != nil {
		t.Fatal(err)
	}
	evs = waitFor(t, s, schema.EventTurnEnded, 2)
	checkLog(t, evs, invariants.Idle)
	for i, ev := range evs {
		if ev.Sequence != uint64(i+1) {
			t.Fatalf("event %d has sequence %d", i, ev.Sequence)
		}
	}
}

// TestReloadExpiresRequests: an agent that cannot take over a pending
// request (not a Reissuer) gets it resolved as rejected with an expired
// reason, and the turn its old process left open ends with an
// agent_restarted error, when the next message resumes the session.
func TestReloadExpiresRequests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	a := &specAdapter{ctlAdapter: newCtl()}
	st := openDurable(t, path)
	m := newMgr(t, a, st)
	ctx := context.Background()
	s := mustCreate(t, m, "s1")
	if err := s.Send(ctx, agent.Prompt{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	c := a.conn("s1")
	c.sink.Emit(agent.Draft{Type: schema.EventSessionStarted, NativeSessionID: "native-1", Data: &schema.SessionStartedData{}})
	c.sink.Emit(agent.Draft{Type: schema.EventPermissionRequested, Data: &schema.PermissionEventData{PermissionID: "p1", Action: "Bash"}})
	c.sink.Emit(agent.Draft{Type: schema.EventQuestionRequested, Data: &schema.QuestionEventData{QuestionID: "q1", Prompt: "?"}})
	waitFor(t, s, schema.EventQuestionRequested, 1)

	m = restartManager(t, m, st, path, a)
	s, _ = m.Get("s1")
	if err := s.Send(ctx, agent.Prompt{Text: "again"}); err != nil {
		t.Fatal(err)
	}
	evs := allEvents(t, s)
	reasons := 0
	for _, ev := range evs {
		switch d := ev.Data.(type) {
		case *schema.PermissionEventData:
			if ev.Type == schema.EventPermissionResolved && d.Status == schema.PermissionReject && strings.HasPrefix(schema.Deref(d.Reason), "expired") {
				reasons++
			}
		case *schema.QuestionEventData:
			if ev.Type == schema.EventQuestionResolved && d.Status == schema.QuestionRejected && strings.HasPrefix(schema.Deref(d.Reason), "expired") {
				reasons++
			}
		case *schema.ErrorData:
			if schema.Deref(d.Code) == "agent_restarted" {
				reasons++
			}
		}
	}
	if reasons != 3 {
		t.Fatalf("want expired permission, expired question, agent_restarted error: %v", types(evs))
	}
	if count(evs, schema.EventTurnStarted) != 2 || count(evs, schema.EventTurnEnded) != 1 {
		t.Fatalf("turns: %v", types(evs))
	}
	checkLog(t, evs, invariants.Running)
	if specs := a.opened(); len(specs) != 2 || specs[0].NativeSessionID != "" || specs[1].NativeSessionID != "native-1" {
		t.Fatalf("the agent was not reopened with its native session id: %+v", specs)
	}
}

// specAdapter records the specs its sessions were opened with.
type specAdapter struct {
	*ctlAdapter
	mu    sync.Mutex
	specs []agent.Spec
}

func (a *specAdapter) Open(ctx context.Context, spec agent.Spec, sink agent.Sink) (agent.Conn, error) {
	a.mu.Lock()
	a.specs = append(a.specs, spec)
	a.mu.Unlock()
	return a.ctlAdapter.Open(ctx, spec, sink)
}

func (a *specAdapter) opened() []agent.Spec {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]agent.Spec(nil), a.specs...)
}

// TestReloadTerminateDetached: a detached session can be terminated and
// deleted without ever resuming; an ended one comes back ended.
func TestReloadTerminateDetached(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	a := mock.New(mock.Options{Interval: -1})
	st := openDurable(t, path)
	m := newMgr(t, a, st)
	ctx := context.Background()
	if _, err := m.Create(ctx, "s1", schema.CreateSessionRequest{Agent: "mock"}); err != nil {
		t.Fatal(err)
	}
	m = restartManager(t, m, st, path, a)
	s, _ := m.Get("s1")
	if err := s.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	evs := allEvents(t, s)
	checkLog(t, evs, invariants.Ended)
	m.Shutdown(ctx)
	m2 := newMgr(t, a, openDurable(t, path))
	if _, err := m2.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	s, _ = m2.Get("s1")
	if info := s.Info(); !info.Ended || info.Detached {
		t.Fatalf("ended session reloaded as %+v", info)
	}
	if err := m2.Delete(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
}

// TestPrune: retention deletes ended and detached sessions that are too
// old or beyond the cap, least recently updated first, with their rows;
// a live session is never pruned.
func TestPrune(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	a := mock.New(mock.Options{Interval: -1})
	st := openDurable(t, path)
	m := newMgr(t, a, st)
	ctx := context.Background()
	var cut time.Time
	for _, id := range []string{"old-ended", "old-live", "new-ended-1", "new-ended-2", "new-live"} {
		if id == "new-ended-1" {
			time.Sleep(5 * time.Millisecond)
			cut = time.Now()
			time.Sleep(5 * time.Millisecond)
		}
		s, err := m.Create(ctx, id, schema.CreateSessionRequest{Agent: "mock"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(id, "ended") {
			if err := s.Terminate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Millisecond) // distinct updatedAt
	}
	names := func() string {
		var out []string
		for _, info := range m.List() {
			out = append(out, info.SessionID)
		}
		return strings.Join(out, " ")
	}
	n, err := m.Prune(ctx, cut, 0)
	if err != nil || n != 1 || names() != "new-live new-ended-2 new-ended-1 old-live" {
		t.Fatalf("by age: %d %v, left %s", n, err, names())
	}
	n, err = m.Prune(ctx, time.Time{}, 2)
	if err != nil || n != 1 || names() != "new-live new-ended-2 old-live" {
		t.Fatalf("by count: %d %v, left %s", n, err, names())
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	recs, _ := st.Backend().Sessions(ctx)
	evs, _ := st.Backend().Events(ctx, "old-ended", 0, 0)
	if len(recs) != 3 || len(evs) != 0 {
		t.Fatalf("rows left: %d sessions, %d events of a pruned one", len(recs), len(evs))
	}
}

// TestPostgresOutage (issue 16): PostgreSQL stops while a session runs;
// the session goes on (its readers see every event), and once the
// database is back it holds the whole log, in order, without duplicates,
// and a restart from it reloads the same log.
func TestPostgresOutage(t *testing.T) {
	pg := pgtest.Start(t)
	ctx := context.Background()
	open := func() *durable.Store {
		back, err := postgres.Open(ctx, pg.DSN(), store.Options{ServerID: "outage"})
		if err != nil {
			t.Fatal(err)
		}
		st := durable.New(back, nil)
		t.Cleanup(func() { st.Close() })
		return st
	}
	st := open()
	a := mock.New(mock.Options{Interval: -1})
	m := newMgr(t, a, st)
	s, err := m.Create(ctx, "s1", schema.CreateSessionRequest{Agent: "mock"})
	if err != nil {
		t.Fatal(err)
	}
	turn := func(n int) []schema.Event {
		t.Helper()
		if err := s.Send(ctx, agent.Prompt{Text: "echo turn " + strconv.Itoa(n)}); err != nil {
			t.Fatal(err)
		}
		return waitFor(t, s, schema.EventTurnEnded, n)
	}
	turn(1)
	pg.Stop()
	turn(2)
	during := turn(3) // seen by readers while the database is down
	if st.Pending() == 0 {
		t.Fatal("nothing waits for the database while it is down: the test proves nothing")
	}
	pg.Start()
	want := turn(4)
	if len(want) <= len(during) {
		t.Fatalf("no progress: %d then %d events", len(during), len(want))
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := st.Flush(fctx); err != nil {
		t.Fatalf("the database did not catch up: %d writes pending", st.Pending())
	}
	got, err := st.Backend().Events(ctx, "s1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("the database holds %d events, the session %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Sequence != uint64(i+1) || got[i].EventID != want[i].EventID || got[i].Type != want[i].Type {
			t.Fatalf("event %d: database %d %s, session %d %s", i, got[i].Sequence, got[i].Type, want[i].Sequence, want[i].Type)
		}
	}
	m.Shutdown(ctx)
	st.Close()
	m2 := newMgr(t, a, open())
	if _, err := m2.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	s2, err := m2.Get("s1")
	if err != nil {
		t.Fatal(err)
	}
	if evs := allEvents(t, s2); len(evs) != len(want) {
		t.Fatalf("reloaded %d events, want %d", len(evs), len(want))
	}
}
