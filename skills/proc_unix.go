//go:build unix

package skills

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in a new session (hence process group, and no
// controlling terminal) and makes cancellation kill the whole group, so
// helpers git spawns (ssh, git-remote-https) do not outlive it.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
