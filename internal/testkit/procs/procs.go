//go:build unix

// Package procs answers what tests ask of the processes a test made: is
// one still alive, which pid did a script write down, is it gone in time.
package procs

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Alive reports whether pid is a live process. A zombie, waiting for a
// parent that may never reap it, is not alive.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil // no /proc: existence only
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may hold spaces and parentheses
	return i < 0 || !strings.HasPrefix(s[i+1:], " Z")
}

// PIDFile returns the pid a test's script wrote to path.
func PIDFile(t testing.TB, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pid
}

// WaitGone fails the test when pid is still alive after d, killing it
// first so that it does not outlive the test.
func WaitGone(t testing.TB, pid int, d time.Duration, what string) {
	t.Helper()
	for deadline := time.Now().Add(d); Alive(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("%s %d is still alive after %s", what, pid, d)
		}
	}
}
