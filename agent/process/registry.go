//go:build unix

package process

import (
	"context"
	"sync"
	"time"
)

// live holds every started, not yet reaped Proc, so that server shutdown
// can reach processes whose adapters are stuck or already forgotten.
var live = struct {
	sync.Mutex
	m map[*Proc]struct{}
}{m: map[*Proc]struct{}{}}

func register(p *Proc) {
	live.Lock()
	live.m[p] = struct{}{}
	live.Unlock()
}

func unregister(p *Proc) {
	live.Lock()
	delete(live.m, p)
	live.Unlock()
}

// KillAll terminates every live Proc started by this package, in parallel,
// each with the given grace period, and returns once all were reaped; under
// BecomeReaper it then kills the descendants that left their groups and were
// adopted by us. It is meant for server shutdown; processes started while
// it runs are not included. Every Supervisor is shut down first and
// refuses new leases.
func KillAll(grace time.Duration) {
	// Supervisors first, or they would restart what is about to be killed.
	shutdownSupervisors()
	live.Lock()
	procs := make([]*Proc, 0, len(live.m))
	for p := range live.m {
		procs = append(procs, p)
	}
	live.Unlock()

	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { _ = p.Terminate(context.Background(), grace) })
	}
	wg.Wait()
	killAdopted()
}

// Live returns the number of started processes that have not been reaped.
func Live() int {
	live.Lock()
	defer live.Unlock()
	return len(live.m)
}
