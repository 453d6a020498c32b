package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newDaemonCmd) }

// daemonOptions name one daemon: the server at host:port.
type daemonOptions struct {
	host, port string
	token      string
	noToken    bool
	upgrade    bool
	timeout    time.Duration
}

func (o *daemonOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.host, "host", "H", "127.0.0.1", "address the server listens on")
	cmd.Flags().StringVarP(&o.port, "port", "p", "2468", "port the server listens on")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 30*time.Second, "how long to wait for the server to become healthy or to stop")
}

// daemonFiles are the state files of one daemon, in
// <data dir>/sandbox-agent/daemon/daemon-<host>-<port>.{pid,log,version}.
type daemonFiles struct{ pid, log, version string }

func (o *daemonOptions) files() daemonFiles {
	name := "daemon-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, o.host) + "-" + o.port
	base := filepath.Join(dataDir(), "daemon", name)
	return daemonFiles{pid: base + ".pid", log: base + ".log", version: base + ".version"}
}

// builtVersion is the version of the binary that started the daemon.
func builtVersion(f daemonFiles) string {
	b, _ := os.ReadFile(f.version)
	return strings.TrimSpace(string(b))
}

func (f daemonFiles) remove() {
	os.Remove(f.pid)
	os.Remove(f.version)
}

// dataDir is $XDG_DATA_HOME/sandbox-agent, else
// ~/.local/share/sandbox-agent, else ./.sandbox-agent.
func dataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "sandbox-agent")
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".local", "share", "sandbox-agent")
	}
	return ".sandbox-agent"
}

func (o *daemonOptions) baseURL() string { return "http://" + net.JoinHostPort(o.host, o.port) }

// healthy asks GET /v1/health (no token needed).
func (o *daemonOptions) healthy(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.baseURL()+"/v1/health", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// readPid returns the pid in the pid file (0 when there is none).
func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// ours says whether pid is a live sandbox-agent server: alive, not a
// zombie, and (where /proc tells) running our binary's server command, so
// a pid recycled by an unrelated process is never signalled.
func ours(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			return false
		}
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) || !procMounted()
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	exe, _ := os.Executable()
	return len(args) > 1 && args[1] == "server" &&
		(filepath.Base(args[0]) == filepath.Base(exe) || strings.Contains(filepath.Base(args[0]), "sandbox-agent"))
}

func procMounted() bool {
	_, err := os.Stat("/proc/self/cmdline")
	return err == nil
}

func newDaemonCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the server in the background: start, stop, status",
		Long: `Run the server in the background. Its pid, log and version files are
<data dir>/sandbox-agent/daemon/daemon-<host>-<port>.{pid,log,version}
(<data dir> is $XDG_DATA_HOME, else ~/.local/share).`,
		Example: "  sandbox-agent daemon start --no-token\n  sandbox-agent daemon status\n  sandbox-agent daemon stop",
		Args:    subcommandOnly,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDaemonStartCmd(), newDaemonStopCmd(), newDaemonStatusCmd())
	return cmd
}

func newDaemonStartCmd() *cobra.Command {
	var o daemonOptions
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start the server in the background and wait until it is healthy",
		Long: `Start the server in the background and wait until it answers
/v1/health. Nothing is started when it already runs; a pid file left by a
server that died is removed first. The token is handed to the server in
its environment, not on its command line.`,
		Example: "  sandbox-agent daemon start --no-token\n  sandbox-agent daemon start --port 3000 --token \"$SECRET\"\n  sandbox-agent daemon start --no-token --upgrade   # after installing a new sandbox-agent",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.start(cmd)
		},
	}
	o.register(cmd)
	cmd.Flags().StringVarP(&o.token, "token", "t", "", "token the server requires (env SANDBOX_AGENT_TOKEN)")
	cmd.Flags().BoolVarP(&o.noToken, "no-token", "n", false, "serve without authentication")
	cmd.Flags().BoolVar(&o.upgrade, "upgrade", false, "restart a running daemon that another build of sandbox-agent started")
	return cmd
}

func (o *daemonOptions) start(cmd *cobra.Command) error {
	ctx, out := cmd.Context(), cmd.ErrOrStderr()
	if o.token == "" {
		o.token = os.Getenv("SANDBOX_AGENT_TOKEN")
	}
	if o.token == "" && !o.noToken {
		return usagef("no token: pass --token <secret> (or set SANDBOX_AGENT_TOKEN), or --no-token to serve without authentication")
	}
	f := o.files()
	pid := readPid(f.pid)
	if o.healthy(ctx) {
		if !o.upgrade || !ours(pid) || builtVersion(f) == versionString() {
			fmt.Fprintf(out, "Daemon already running at %s (PID %d)\n", o.baseURL(), pid)
			return nil
		}
		fmt.Fprintf(out, "Daemon runs %s, this is %s: restarting it\n", builtVersion(f), versionString())
		if err := o.stop(cmd); err != nil {
			return err
		}
		pid = 0
	}
	if pid != 0 {
		if ours(pid) {
			fmt.Fprintf(out, "Daemon starting (PID %d), waiting for it\n", pid)
			return o.waitHealthy(ctx, f, nil, nil)
		}
		fmt.Fprintf(out, "Removed stale pid file %s (PID %d is not a running server)\n", f.pid, pid)
		f.remove()
	}
	if err := os.MkdirAll(filepath.Dir(f.pid), 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(f.log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"server", "--host", o.host, "--port", o.port}
	env := os.Environ()
	if o.token != "" {
		env = append(env, "SANDBOX_AGENT_TOKEN="+o.token)
	} else {
		args = append(args, "--no-token")
		env = append(env, "SANDBOX_AGENT_TOKEN=")
	}
	child := exec.Command(exe, args...)
	child.Env = env
	child.Stdout, child.Stderr = logf, logf
	child.Dir = "/"
	// Its own session: the server outlives this command and its terminal.
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		return err
	}
	// dead closes when the child exits: a server that cannot start (say,
	// its port is taken) fails the wait at once.
	dead := make(chan struct{})
	var waitErr error
	go func() { waitErr = child.Wait(); close(dead) }()
	exited := func() error { <-dead; return waitErr }
	if err := os.WriteFile(f.pid, []byte(strconv.Itoa(child.Process.Pid)+"\n"), 0o644); err != nil {
		_ = child.Process.Kill()
		return err
	}
	_ = os.WriteFile(f.version, []byte(versionString()+"\n"), 0o644)
	if err := o.waitHealthy(ctx, f, dead, exited); err != nil {
		_ = child.Process.Kill()
		f.remove()
		return err
	}
	fmt.Fprintf(out, "Daemon running at %s (PID %d, logs: %s)\n", o.baseURL(), child.Process.Pid, f.log)
	return nil
}

// waitHealthy polls the health route until it answers, the child exits
// (dead closes; exited then says how), or the timeout passes.
func (o *daemonOptions) waitHealthy(ctx context.Context, f daemonFiles, dead <-chan struct{}, exited func() error) error {
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-dead:
			cancel() // ends a health check in flight
		case <-hctx.Done():
		}
	}()
	deadline := time.After(o.timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if o.healthy(hctx) {
			return nil
		}
		select {
		case <-dead:
			return fmt.Errorf("the server exited (%v) before it was healthy; the end of %s:\n%s", exited(), f.log, logTail(f.log, 10))
		default:
		}
		select {
		case <-dead:
			continue
		case <-deadline:
			return fmt.Errorf("the server was not healthy after %s; see %s", o.timeout, f.log)
		case <-ctx.Done():
			return exitError{130}
		case <-tick.C:
		}
	}
}

// logTail is the last n lines of a file.
func logTail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func newDaemonStopCmd() *cobra.Command {
	var o daemonOptions
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop the background server (SIGTERM, then SIGKILL after --timeout)",
		Long: `Stop the background server: SIGTERM, which ends its sessions and agent
processes, then SIGKILL if it is still there after --timeout. A pid file
whose process is gone is removed.`,
		Example: "  sandbox-agent daemon stop\n  sandbox-agent daemon stop --port 3000",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.stop(cmd)
		},
	}
	o.register(cmd)
	return cmd
}

func (o *daemonOptions) stop(cmd *cobra.Command) error {
	out := cmd.ErrOrStderr()
	f := o.files()
	pid := readPid(f.pid)
	if pid == 0 || !ours(pid) {
		if pid != 0 {
			f.remove()
			fmt.Fprintf(out, "Removed stale pid file %s (PID %d is not a running server)\n", f.pid, pid)
		}
		if o.healthy(cmd.Context()) {
			return fmt.Errorf("a server answers at %s but it was not started by `daemon start` (no pid file): stop it where it runs", o.baseURL())
		}
		fmt.Fprintln(out, "Daemon not running")
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal PID %d: %w", pid, err)
	}
	if !waitGone(pid, o.timeout) {
		fmt.Fprintf(out, "PID %d still running after %s: killing it\n", pid, o.timeout)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		waitGone(pid, 5*time.Second)
	}
	f.remove()
	fmt.Fprintf(out, "Daemon stopped (PID %d)\n", pid)
	return nil
}

func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !ours(pid) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return !ours(pid)
}

func newDaemonStatusCmd() *cobra.Command {
	var o daemonOptions
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Say whether the background server runs (exit status 3 when not)",
		Example: "  sandbox-agent daemon status\n  sandbox-agent daemon status --port 3000 || sandbox-agent daemon start --port 3000 --no-token",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			f := o.files()
			pid := readPid(f.pid)
			running := pid != 0 && ours(pid)
			healthy := o.healthy(cmd.Context())
			switch {
			case running && healthy:
				v := builtVersion(f)
				note := ""
				if v != "" && v != versionString() {
					note = " [outdated: restart to run " + versionString() + "]"
				}
				fmt.Fprintf(w, "Daemon running at %s (PID %d, version %s, logs: %s)%s\n", o.baseURL(), pid, orUnknown(v), f.log, note)
				return nil
			case running:
				fmt.Fprintf(w, "Daemon process %d is alive but %s does not answer (logs: %s)\n", pid, o.baseURL(), f.log)
				return exitError{1}
			case healthy:
				fmt.Fprintf(w, "A server answers at %s, but not one started by `daemon start`\n", o.baseURL())
				return nil
			}
			if pid != 0 {
				fmt.Fprintf(w, "Daemon not running (stale pid file %s: PID %d is not a running server)\n", f.pid, pid)
			} else {
				fmt.Fprintln(w, "Daemon not running")
			}
			return exitError{3}
		},
	}
	o.register(cmd)
	return cmd
}
