package cli

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/client"
)

func TestDaemon(t *testing.T) {
	bin := binary(t)
	home := t.TempDir()
	c := cli{bin: bin, env: cleanEnv(home)}
	port := freePort(t)
	state := filepath.Join(home, ".local", "share", "sandbox-agent", "daemon", "daemon-127-0-0-1-"+port)
	flags := []string{"--port", port, "--timeout", patience.String()}
	run := func(args ...string) []string { return append(args, flags...) }
	// The daemon is detached: a test that fails half-way must not leave it
	// running. Every daemon the test saw, and the one its pid file names at
	// the end, is killed unless already gone.
	var daemons []int
	daemonPID := func() int {
		t.Helper()
		pid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, state+".pid")))
		daemons = append(daemons, pid)
		return pid
	}
	t.Cleanup(func() {
		if b, err := os.ReadFile(state + ".pid"); err == nil {
			p, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			daemons = append(daemons, p)
		}
		for _, p := range daemons {
			if ours(p) {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
	})

	r := c.run(t, "", run("daemon", "status")...)
	if r.code != 3 || r.stdout != "Daemon not running\n" {
		t.Fatalf("status before start: %+v", r)
	}

	// A stale pid file naming a live process that is not a server: it
	// must be left alone, and the file replaced.
	bystander := exec.Command("sleep", "60")
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bystander.Process.Kill(); _ = bystander.Wait() }()
	if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state+".pid", []byte(strconv.Itoa(bystander.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = c.run(t, "", run("daemon", "status")...)
	if r.code != 3 || !strings.Contains(r.stdout, "stale pid file") {
		t.Fatalf("status with a stale pid file: %+v", r)
	}
	c.fails(t, 2, run("daemon", "start"), "--no-token")
	r = c.ok(t, run("daemon", "start", "--token", "secret-tok")...)
	if !strings.Contains(r.stderr, "Removed stale pid file") || !strings.Contains(r.stderr, "Daemon running at http://127.0.0.1:"+port) {
		t.Fatalf("start: %+v", r)
	}
	if err := bystander.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the bystander of the stale pid file was hurt: %v", err)
	}
	pid := daemonPID()
	if pid == 0 || pid == bystander.Process.Pid {
		t.Fatalf("pid file: %d", pid)
	}
	// The server runs with the token (taken from its environment, not argv).
	base := "http://127.0.0.1:" + port
	if _, err := client.New(base).Agents(t.Context()); client.Kind(err) != "token_invalid" {
		t.Fatalf("no token: %v", err)
	}
	if _, err := client.New(base, client.WithToken("secret-tok")).Agents(t.Context()); err != nil {
		t.Fatal(err)
	}
	if cmdline := readFile(t, "/proc/"+strconv.Itoa(pid)+"/cmdline"); strings.Contains(cmdline, "secret-tok") {
		t.Fatalf("the token is on the command line: %q", cmdline)
	}
	r = c.ok(t, run("daemon", "status")...)
	if !strings.Contains(r.stdout, "Daemon running at "+base+" (PID "+strconv.Itoa(pid)+", version "+testVersion) ||
		!strings.Contains(r.stdout, state+".log") || strings.Contains(r.stdout, "outdated") {
		t.Fatalf("status: %+v", r)
	}
	if r := c.ok(t, run("daemon", "start", "--no-token")...); !strings.Contains(r.stderr, "already running") {
		t.Fatalf("second start: %+v", r)
	}
	// A version file from another build: status says so.
	if err := os.WriteFile(state+".version", []byte("v0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := c.ok(t, run("daemon", "status")...); !strings.Contains(r.stdout, "[outdated: restart to run "+testVersion) {
		t.Fatalf("outdated status: %+v", r)
	}

	// --upgrade restarts it with this build.
	r = c.ok(t, run("daemon", "start", "--no-token", "--upgrade")...)
	if !strings.Contains(r.stderr, "Daemon runs v0.0.1, this is "+testVersion) || !strings.Contains(r.stderr, "Daemon stopped (PID "+strconv.Itoa(pid)+")") {
		t.Fatalf("upgrade: %+v", r)
	}
	old := pid
	pid = daemonPID()
	if pid == old || !ours(pid) {
		t.Fatalf("after upgrade: pid %d (was %d)", pid, old)
	}
	if r := c.ok(t, run("daemon", "status")...); strings.Contains(r.stdout, "outdated") {
		t.Fatalf("status after upgrade: %+v", r)
	}
	if r := c.ok(t, run("daemon", "start", "--no-token", "--upgrade")...); !strings.Contains(r.stderr, "already running") {
		t.Fatalf("upgrade of the same build: %+v", r)
	}

	r = c.ok(t, run("daemon", "stop")...)
	if !strings.Contains(r.stderr, "Daemon stopped (PID "+strconv.Itoa(pid)+")") {
		t.Fatalf("stop: %+v", r)
	}
	if syscall.Kill(pid, 0) == nil && ours(pid) {
		t.Fatal("the server still runs")
	}
	if _, err := os.Stat(state + ".pid"); !os.IsNotExist(err) {
		t.Fatalf("pid file left: %v", err)
	}
	if !strings.Contains(readFile(t, state+".log"), "shutting down") {
		t.Fatalf("log: %s", readFile(t, state+".log"))
	}
	if r := c.run(t, "", run("daemon", "status")...); r.code != 3 {
		t.Fatalf("status after stop: %+v", r)
	}
	if r := c.ok(t, run("daemon", "stop")...); !strings.Contains(r.stderr, "Daemon not running") {
		t.Fatalf("second stop: %+v", r)
	}

	// A server that cannot start (its port is taken): start fails fast
	// with the log's tail and leaves no pid file.
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// ("exited": it noticed the exit rather than waiting out --timeout.)
	c.fails(t, 1, run("daemon", "start", "--no-token"), "exited", "address already in use")
	if _, err := os.Stat(state + ".pid"); !os.IsNotExist(err) {
		t.Fatalf("pid file left after a failed start: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
