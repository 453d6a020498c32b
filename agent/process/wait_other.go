//go:build unix && !linux

package process

import "syscall"

// sysProcAttr puts the child in its own process group so the group can be
// signalled as one. Pdeathsig is Linux-only.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitExited reports false: without waitid(WNOWAIT) in package syscall the
// reaper kills leftover group members after reaping instead of before.
func waitExited(int) bool { return false }
