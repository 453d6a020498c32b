// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb
// into a temp dir, pg_ctl start on a free loopback port, trust auth. When
// the server binaries are missing the test is skipped locally with a clear
// message, and fails in CI (CI=true), where .ci/run installs them.
package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a running (or stopped) temporary PostgreSQL server.
type Cluster struct {
	t    testing.TB
	bin  string // directory of initdb / pg_ctl
	data string
	port int
	uid  int // -1: run as ourselves
	gid  int
}

// Start creates and starts a cluster, stopped and removed when the test ends.
func Start(t testing.TB) *Cluster {
	t.Helper()
	bin := findBin()
	if bin == "" {
		msg := "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian postgresql package to run the Postgres store tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c := &Cluster{t: t, bin: bin, uid: -1, gid: -1}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: the cluster belongs to the
		// postgres system user (or nobody).
		for _, name := range []string{"postgres", "nobody"} {
			if u, err := user.Lookup(name); err == nil {
				c.uid, _ = strconv.Atoi(u.Uid)
				c.gid, _ = strconv.Atoi(u.Gid)
				break
			}
		}
		if c.uid < 0 {
			t.Fatal("pgtest: running as root and no postgres or nobody user to own the cluster")
		}
		if err := os.Chown(dir, c.uid, c.gid); err != nil {
			t.Fatal(err)
		}
	}
	c.data = filepath.Join(dir, "data")
	c.port = freePort(t)
	c.run("initdb", "-D", c.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nfsync = off\nmax_connections = 200\n", c.port, dir)
	f, err := os.OpenFile(filepath.Join(c.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(conf)
	f.Close()
	c.Start()
	t.Cleanup(c.Stop)
	return c
}

// DSN is the connection string of the cluster's postgres database.
func (c *Cluster) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Start starts a stopped cluster and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	c.run("pg_ctl", "-D", c.data, "-l", filepath.Join(filepath.Dir(c.data), "log"), "-w", "-t", "60", "start")
}

// Stop stops the cluster (fast shutdown: connections are cut). Stopping a
// stopped cluster does nothing.
func (c *Cluster) Stop() {
	cmd := c.cmd("pg_ctl", "-D", c.data, "-m", "fast", "-w", "status")
	if cmd.Run() != nil {
		return
	}
	c.run("pg_ctl", "-D", c.data, "-m", "fast", "-w", "stop")
}

func (c *Cluster) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.uid >= 0 {
		args = append([]string{"--reuid=" + strconv.Itoa(c.uid), "--regid=" + strconv.Itoa(c.gid), "--clear-groups", path}, args...)
		path = "setpriv"
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = filepath.Dir(c.data)
	return cmd
}

func (c *Cluster) run(name string, args ...string) {
	c.t.Helper()
	out, err := c.cmd(name, args...).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(c.data), "log"))
		c.t.Fatalf("pgtest: %s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out, log)
	}
}

// findBin returns the directory holding initdb and pg_ctl: PATH first,
// then Debian's versioned directories, newest first.
func findBin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			if r, err := filepath.EvalSymlinks(p); err == nil {
				p = r
			}
			return filepath.Dir(p)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	return ""
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// CPU is the CPU time the cluster's processes used so far: the postmaster
// and its live backends, plus what its exited children left in its
// counters. Benchmarks add it to their own: a database's work is part of
// what storing costs.
func (c *Cluster) CPU() time.Duration {
	b, err := os.ReadFile(filepath.Join(c.data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pm := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	tick := 100 // USER_HZ on Linux
	var total int64
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(st)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		pid := filepath.Base(filepath.Dir(p))
		if len(f) < 15 || (pid != pm && f[1] != pm) { // f[1]: ppid
			continue
		}
		for _, i := range []int{11, 12} { // utime, stime
			n, _ := strconv.ParseInt(f[i], 10, 64)
			total += n
		}
		if pid == pm {
			for _, i := range []int{13, 14} { // cutime, cstime
				n, _ := strconv.ParseInt(f[i], 10, 64)
				total += n
			}
		}
	}
	return time.Duration(total) * time.Second / time.Duration(tick)
}
