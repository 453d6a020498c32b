package e2e

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// expectFailure runs a row that a known bug makes fail. Its failures are
// recorded rather than reported: the row shows as a known bug in the
// matrix. If it passes, the test fails so that the Known entry is removed.
func expectFailure(t *testing.T, bug string, row func(testing.TB)) {
	rec := &recorder{TB: t}
	// Registered before the row's own cleanups, so it runs after them and
	// sees their failures too (a leaked process, say).
	t.Cleanup(func() {
		msgs, failed := rec.result()
		if !failed {
			t.Errorf("known bug %q no longer shows: the row passes; remove it from the agent's Known map", bug)
			return
		}
		t.Logf("known bug %q; the row failed with:\n  %s", bug, strings.Join(msgs, "\n  "))
		knownFailures.Store(t.Name(), bug)
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		row(rec)
	}()
	<-done
}

// recorder is a testing.TB whose failures are only recorded. Fatal and
// FailNow end the calling goroutine (the row's, see expectFailure).
type recorder struct {
	testing.TB
	mu     sync.Mutex
	msgs   []string
	failed bool
}

func (r *recorder) note(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.msgs = append(r.msgs, msg)
}

func (r *recorder) result() ([]string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...), r.failed
}

func (r *recorder) Fail()                             { r.note("failed") }
func (r *recorder) Failed() bool                      { _, f := r.result(); return f }
func (r *recorder) Error(args ...any)                 { r.note(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.note(fmt.Sprintf(format, args...)) }
func (r *recorder) FailNow()                          { r.note("failed"); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.note(fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.note(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// A known-bug row has nothing to skip; a skip there is a failure to look at.
func (r *recorder) Skip(args ...any)                 { r.note("skipped: " + fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Skipf(format string, args ...any) { r.Skip(fmt.Sprintf(format, args...)) }
func (r *recorder) SkipNow()                         { r.Skip("SkipNow") }
