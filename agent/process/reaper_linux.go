package process

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const prSetChildSubreaper = 36 // PR_SET_CHILD_SUBREAPER from <linux/prctl.h>

// reaperState is BecomeReaper's state: which process groups this process created,
// and where it records them for a successor (see BecomeReaper).
var reaperState = struct {
	sync.Mutex
	groups map[int]bool // pgids of every Proc started, for the orphan reaper
	dir    string       // this instance's record directory; "" when not recording
	on     bool         // BecomeReaper was called
}{groups: map[int]bool{}}

// BecomeReaper makes this process answerable for everything its agents start,
// for a server's lifetime:
//
//   - It becomes a child subreaper: a descendant orphaned by its parent is
//     reparented to us rather than to init, so it is still ours to kill at
//     shutdown (KillAll) and to reap.
//   - It records each agent's process group in dir, and first kills the
//     groups a previous instance recorded there and could not clean up
//     because it was killed (kill -9 leaves an agent's own children alive:
//     only the direct child gets the parent-death signal). A record is
//     acted on only if the group still holds processes of that boot and
//     session, led by the recorded leader if it has one, so a reused group
//     id is left alone; groups of an instance that still runs are left
//     alone too, so servers may share dir.
//
// It returns how many stale groups it killed and a stop function for
// shutdown, to call after KillAll. Errors are reported but supervision goes
// as far as it can.
func BecomeReaper(dir string) (killed int, stop func(), err error) {
	var errs []error
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		errs = append(errs, fmt.Errorf("process: become a child subreaper: %w", e))
	}
	killed = killStale(dir)
	self, _ := readStat(os.Getpid())
	mine := filepath.Join(dir, fmt.Sprintf("%d-%d", self.pid, self.start))
	if err := os.MkdirAll(mine, 0o700); err != nil {
		errs = append(errs, fmt.Errorf("process: record groups: %w", err))
		mine = ""
	}
	reaperState.Lock()
	reaperState.dir, reaperState.on = mine, true
	reaperState.Unlock()
	stopReaper := startOrphanReaper()
	return killed, func() {
		stopReaper()
		_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 0, 0)
		reaperState.Lock()
		reaperState.dir, reaperState.on = "", false
		reaperState.Unlock()
		if mine != "" {
			os.RemoveAll(mine)
		}
	}, errors.Join(errs...)
}

// recordGroup notes a new Proc's group, on disk too under BecomeReaper.
func recordGroup(pgid int) {
	reaperState.Lock()
	defer reaperState.Unlock()
	reaperState.groups[pgid] = true
	if reaperState.dir == "" {
		return
	}
	st, ok := readStat(pgid)
	if !ok {
		return // already gone; the reaper kills what is left of its group
	}
	rec := fmt.Sprintf("%s %d %d\n", bootID(), st.start, st.sid)
	_ = os.WriteFile(filepath.Join(reaperState.dir, strconv.Itoa(pgid)), []byte(rec), 0o600)
}

// forgetGroup drops the record of a group that was killed and reaped. Its
// id stays in reaperState.groups: orphans of it may still need reaping.
func forgetGroup(pgid int) {
	reaperState.Lock()
	defer reaperState.Unlock()
	if reaperState.dir != "" {
		_ = os.Remove(filepath.Join(reaperState.dir, strconv.Itoa(pgid)))
	}
}

// killStale kills the groups recorded by instances that no longer run and
// removes their records.
func killStale(dir string) int {
	instances, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	boot := bootID()
	var stats []procStat
	killed := 0
	for _, inst := range instances {
		pidStr, startStr, ok := strings.Cut(inst.Name(), "-")
		pid, err1 := strconv.Atoi(pidStr)
		start, err2 := strconv.ParseUint(startStr, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		if st, alive := readStat(pid); alive && st.start == start {
			continue // that server still runs: its groups are its own
		}
		sub := filepath.Join(dir, inst.Name())
		recs, _ := os.ReadDir(sub)
		for _, r := range recs {
			pgid, err := strconv.Atoi(r.Name())
			b, rerr := os.ReadFile(filepath.Join(sub, r.Name()))
			f := strings.Fields(string(b))
			if err != nil || rerr != nil || len(f) != 3 || f[0] != boot {
				continue
			}
			if stats == nil {
				stats = allStats()
			}
			if staleGroup(stats, pgid, f[1], f[2]) && syscall.Kill(-pgid, syscall.SIGKILL) == nil {
				killed++
			}
		}
		os.RemoveAll(sub)
	}
	return killed
}

// staleGroup reports whether group pgid still holds processes that are the
// recorded group's: same session, and if the leader lives, the same leader.
func staleGroup(stats []procStat, pgid int, start, sid string) bool {
	members := 0
	for _, st := range stats {
		if st.pgid != pgid || st.state == 'Z' {
			continue
		}
		if strconv.Itoa(st.sid) != sid || st.pid == pgid && strconv.FormatUint(st.start, 10) != start {
			return false // the id was reused by someone else's group
		}
		members++
	}
	return members > 0
}

// startOrphanReaper reaps the zombies of orphans reparented to us because we
// are a subreaper. Only members of our agents' groups are reaped, never a
// group leader: a leader is a direct child whose exec.Cmd waits for it
// (ours, or another package's), and stealing its exit status would break
// that wait.
func startOrphanReaper() func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGCHLD)
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Second) // in case a SIGCHLD was coalesced
		defer t.Stop()
		for {
			select {
			case <-ch:
			case <-t.C:
			case <-done:
				return
			}
			reapOrphans()
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
		<-finished
	}
}

func reapOrphans() {
	me := os.Getpid()
	for _, st := range allStats() {
		if st.ppid != me || st.state != 'Z' || st.pid == st.pgid {
			continue
		}
		reaperState.Lock()
		ours := reaperState.groups[st.pgid]
		reaperState.Unlock()
		if ours {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(st.pid, &ws, syscall.WNOHANG, nil)
		}
	}
}

// killAdopted kills, at shutdown, what is left among our children once
// every group was killed: descendants that left their agent's group
// (setsid, a daemonising tool) and were reparented to us as subreaper.
func killAdopted() {
	reaperState.Lock()
	on := reaperState.on
	reaperState.Unlock()
	if !on {
		return
	}
	me := os.Getpid()
	self, _ := readStat(me)
	for _, st := range allStats() {
		if st.ppid != me || st.state == 'Z' {
			continue
		}
		if st.pgid == st.pid && st.pgid != self.pgid {
			_ = syscall.Kill(-st.pgid, syscall.SIGKILL)
		}
		_ = syscall.Kill(st.pid, syscall.SIGKILL)
	}
}
