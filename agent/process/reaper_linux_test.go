package process

import (
	"bufio"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func gone(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err != nil
}

func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !gone(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			st, _ := readStat(pid)
			t.Fatalf("%s %d is still there (state %c, parent %d)", what, pid, st.state, st.ppid)
		}
	}
}

// Under BecomeReaper, orphans of an agent's group are adopted and reaped (no
// zombie is left), and a descendant that left the group is adopted and
// killed at shutdown.
func TestBecomeReaperAdoptsAndReaps(t *testing.T) {
	killed, stop, err := BecomeReaper(t.TempDir())
	if err != nil || killed != 0 {
		t.Fatalf("BecomeReaper = %d, %v", killed, err)
	}
	defer stop()

	// The leader exits; its group is killed; the grandchild becomes our
	// zombie (we are its subreaper) and must be reaped.
	p := sh(t, "sleep 300 & echo $!")
	grandchild := readPid(t, bufio.NewReader(p.Stdout()))
	<-p.Done()
	waitGone(t, grandchild, "the orphaned grandchild")

	// A descendant that escaped into its own session outlives its agent;
	// it is ours now, and KillAll ends it.
	q := sh(t, `setsid sleep 300 & echo $!`)
	escaped := readPid(t, bufio.NewReader(q.Stdout()))
	<-q.Done()
	defer syscall.Kill(escaped, syscall.SIGKILL)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if st, ok := readStat(escaped); ok && st.ppid == os.Getpid() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the escaped descendant was not adopted")
		}
	}
	KillAll(time.Second)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if st, ok := readStat(escaped); !ok || st.state == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("KillAll left the adopted descendant alive")
		}
	}
	var ws syscall.WaitStatus
	syscall.Wait4(escaped, &ws, 0, nil)
}
