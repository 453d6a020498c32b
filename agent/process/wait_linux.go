package process

import (
	"syscall"
	"unsafe"
)

// sysProcAttr puts the child in its own process group (so the group can be
// signalled as one) and asks the kernel to SIGKILL it if we die without
// cleaning up. Pdeathsig fires when the thread that forked the child exits,
// not the process; Go only retires threads whose goroutine exits while
// locked with runtime.LockOSThread, so do not call Start from such a one.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// waitExited blocks until pid has exited but leaves it unreaped (WNOWAIT),
// so its pid and thus its process group id stay reserved. It reports
// whether that worked; on false the caller reaps without the guarantee.
func waitExited(pid int) bool {
	const pPID = 1      // P_PID from <sys/wait.h>
	var info [16]uint64 // siginfo_t is 128 bytes
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info)), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno != syscall.EINTR {
			return errno == 0
		}
	}
}
