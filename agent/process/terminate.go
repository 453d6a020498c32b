//go:build unix

package process

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// reap waits for the leader to exit, kills whatever is left of its group and
// reaps the leader. Killing before reaping matters: while the leader is an
// unreaped zombie its pid, which is the group id, cannot be reused, so the
// group signal cannot hit an unrelated process group.
func (p *Proc) reap() {
	waited := waitExited(p.pid)
	if waited {
		p.mu.Lock()
		// The leader is gone; anything still in its group is an orphan.
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		p.reaping = true
		p.mu.Unlock()
	}

	err := p.cmd.Wait()

	if !waited {
		// No way to wait without reaping here. A live member keeps the
		// group id reserved, and that member is exactly what must die.
		p.mu.Lock()
		p.reaping = true
		if syscall.Kill(-p.pid, 0) == nil {
			_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		}
		p.mu.Unlock()
	}
	p.err = err
	if ps := p.cmd.ProcessState; ps != nil {
		p.exitCode = ps.ExitCode()
	}
	forgetGroup(p.pid)
	unregister(p)
	close(p.done)
}

// Terminate stops the process and its whole group: SIGTERM to the group,
// then up to grace (or until ctx is done) for it to exit, then SIGKILL to the
// group. It returns once the leader was reaped, i.e. after Done, even when
// ctx ended the grace period early. It is idempotent, safe to call
// concurrently and after the process exited; the result is nil unless a
// signal could not be delivered.
func (p *Proc) Terminate(ctx context.Context, grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.signalGroup(syscall.SIGTERM); err != nil {
		return err
	}
	// A stopped process would hold SIGTERM pending forever; wake it so the
	// grace period means something (what systemd does too).
	_ = p.signalGroup(syscall.SIGCONT)

	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	err := p.signalGroup(syscall.SIGKILL)
	// SIGKILL cannot be caught, and the reaper's wait for stderr is bounded
	// by waitDelay, so this wait is bounded as well.
	<-p.done
	return err
}

// signalGroup sends sig to the process group unless the reaper has already
// killed it, in which case the group id may no longer be ours to signal.
func (p *Proc) signalGroup(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaping {
		return nil
	}
	err := syscall.Kill(-p.pid, sig)
	if err == nil || errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return fmt.Errorf("process: signal %d group %d: %w", int(sig), p.pid, err)
}
