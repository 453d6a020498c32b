//go:build unix

package procs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestAliveZombieAndGone(t *testing.T) {
	if Alive(os.Getpid()) != true {
		t.Fatal("this process is not alive")
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if !Alive(pid) {
		t.Fatal("a running child is not alive")
	}
	_ = cmd.Process.Kill()
	// Not reaped yet: a zombie, which is not alive.
	for deadline := time.Now().Add(5 * time.Second); Alive(pid); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a killed, unreaped child still counts as alive")
		}
	}
	_ = cmd.Wait()
	if Alive(pid) {
		t.Fatal("a reaped child is alive")
	}
	WaitGone(t, pid, time.Second, "reaped child")

	f := filepath.Join(t.TempDir(), "pid")
	if err := os.WriteFile(f, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := PIDFile(t, f); got != pid {
		t.Fatalf("PIDFile = %d, want %d", got, pid)
	}
}
