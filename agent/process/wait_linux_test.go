package process

import (
	"os/exec"
	"testing"
)

// The reaper's no-reuse guarantee rests on waitid(WNOWAIT) working here.
func TestWaitExitedLeavesZombie(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "exit 7")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitExited(cmd.Process.Pid) {
		t.Fatal("waitExited failed")
	}
	if !dead(cmd.Process.Pid) {
		t.Fatal("process not a zombie after waitExited")
	}
	cmd.Wait()
	if cmd.ProcessState.ExitCode() != 7 {
		t.Fatalf("exit code %d after waitExited: status was consumed", cmd.ProcessState.ExitCode())
	}
}
