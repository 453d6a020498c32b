package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// proc is a live process found under /proc.
type proc struct {
	PID, PPID int
	Exe       string // resolved executable path ("" when unreadable)
	Cmd       string // command line, space-joined
}

func (p proc) String() string { return fmt.Sprintf("pid %d (%s)", p.PID, p.Cmd) }

// markedProcs returns the live (not zombie) processes whose environment
// holds envRunMarker=id: a row's server and everything it started, also
// after the server has died and they were re-parented.
func markedProcs(id string) []proc {
	want := []byte(envRunMarker + "=" + id + "\x00")
	ents, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		env, err := os.ReadFile(filepath.Join(dir, "environ"))
		if err != nil || !bytes.Contains(append(env, 0), want) {
			continue
		}
		p, ok := readProc(pid)
		if ok {
			out = append(out, p)
		}
	}
	return out
}

// readProc reads one process; ok is false for a zombie or a vanished one.
func readProc(pid int) (proc, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return proc{}, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	rest := string(stat)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 2 || f[0] == "Z" || f[0] == "X" {
		return proc{}, false
	}
	p := proc{PID: pid}
	p.PPID, _ = strconv.Atoi(f[1])
	p.Exe, _ = os.Readlink(dir + "/exe")
	cmd, _ := os.ReadFile(dir + "/cmdline")
	p.Cmd = strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
	return p, true
}

// alive reports whether pid is a live, non-zombie process.
func alive(pid int) bool {
	_, ok := readProc(pid)
	return ok
}

// crashProcess makes pid die the way a crashing agent does: a last line on
// its own stderr, then SIGKILL. The line is written into the process's
// stderr (its pipe to the adapter), so it shows up wherever the adapter
// keeps the agent's stderr.
func crashProcess(pid int, line string) error {
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/2", pid), os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		_, err = f.WriteString(line + "\n")
		f.Close()
	}
	if kerr := syscall.Kill(pid, syscall.SIGKILL); kerr != nil {
		return kerr
	}
	return err
}
