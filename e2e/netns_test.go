package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// Isolation modes, in order of preference.
const (
	isoNetns  = "netns"  // a new network namespace (root)
	isoUserns = "userns" // a new user + network namespace (unprivileged, where allowed)
	isoEnv    = "env"    // no namespace: proxy variables point at a dead port
)

// capNetAdmin is CAP_NET_ADMIN (linux/capability.h).
const capNetAdmin = 12

// deadProxy is where the env fallback sends any proxied traffic: port 9
// (discard) on loopback, where nothing listens in a test run.
const deadProxy = "http://127.0.0.1:9"

// reexecIsolated runs this test binary again, with the same arguments, in a
// new network namespace that has only a loopback interface. It returns the
// child's exit code, or ok=false when no namespace could be made.
func reexecIsolated() (code int, ok bool) {
	for _, mode := range []string{isoNetns, isoUserns} {
		if mode == isoNetns && os.Geteuid() != 0 {
			continue
		}
		code, err := runIsolated(mode)
		if err == nil {
			return code, true
		}
		fmt.Fprintf(os.Stderr, "e2e: %s isolation unavailable: %v\n", mode, err)
	}
	return 0, false
}

func runIsolated(mode string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envIsolation+"="+mode)
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	switch mode {
	case isoNetns:
		attr.Cloneflags = syscall.CLONE_NEWNET
	case isoUserns:
		attr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
		// The same uid inside keeps file ownership plain, but a non-root
		// uid loses its capabilities at exec; keep CAP_NET_ADMIN (in the
		// new namespace only) so the child can bring up lo.
		attr.AmbientCaps = []uintptr{capNetAdmin}
	}
	cmd.SysProcAttr = attr
	// Pdeathsig follows the thread that started the child: keep it alive.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 1, nil
	}
	return 0, nil
}

// loopbackUp sets the lo interface of the current network namespace up
// (a new namespace starts with it down), with the SIOCSIFFLAGS ioctl.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var ifr [40]byte // struct ifreq: char name[16]; short flags; ...
	copy(ifr[:], "lo")
	flags := (*uint16)(unsafe.Pointer(&ifr[16]))
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return fmt.Errorf("SIOCGIFFLAGS: %w", e)
	}
	*flags |= syscall.IFF_UP
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return fmt.Errorf("SIOCSIFFLAGS: %w", e)
	}
	return nil
}

// isolationEnv is added to every server's environment. With a namespace
// nothing is needed; the env fallback points every proxy variable the
// agents' HTTP stacks honour at a dead port, and npm at nowhere.
func isolationEnv() []string {
	if os.Getenv(envIsolation) != isoEnv {
		return nil
	}
	var env []string
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"} {
		env = append(env, k+"="+deadProxy)
	}
	return append(env, "NO_PROXY=127.0.0.1,localhost,::1", "no_proxy=127.0.0.1,localhost,::1",
		"NPM_CONFIG_REGISTRY="+deadProxy+"/", "npm_config_registry="+deadProxy+"/")
}

// netnsID identifies the network namespace of a process ("self" or a pid).
func netnsID(pid string) string {
	s, _ := os.Readlink("/proc/" + pid + "/ns/net")
	return s
}

// TestIsolation proves the tests cannot reach anything but loopback. In a
// namespace: only lo exists, a connection to a public address fails at
// once with "network unreachable" (no packet leaves: there is no route),
// name resolution fails, and loopback works. The env fallback can prove
// less; it says so.
func TestIsolation(t *testing.T) {
	requireE2E(t)
	mode := os.Getenv(envIsolation)
	t.Logf("isolation: %s", mode)
	if mode == isoEnv {
		if os.Getenv(envNetns) == "0" {
			t.Logf("%s=0: no network namespace; agents are kept off the network by environment only", envNetns)
		} else {
			t.Log("no network namespace could be made; agents are kept off the network by environment only")
		}
		for _, kv := range isolationEnv() {
			t.Logf("server env: %s", kv)
		}
		return
	}
	if netnsID("self") == netnsID("1") {
		t.Fatalf("the test process shares pid 1's network namespace (%s)", netnsID("self"))
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if i.Name != "lo" {
			t.Errorf("unexpected interface %q in the test namespace", i.Name)
		}
	}
	for _, addr := range []string{"1.1.1.1:443", "[2606:4700:4700::1111]:443"} {
		t0 := time.Now()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err == nil {
			c.Close()
			t.Fatalf("connected to %s from inside the test namespace", addr)
		}
		if d := time.Since(t0); d > time.Second {
			t.Errorf("dial %s took %v to fail; want an immediate failure (no route)", addr, d)
		}
		if !errors.Is(err, syscall.ENETUNREACH) && !errors.Is(err, syscall.EHOSTUNREACH) && !errors.Is(err, syscall.EADDRNOTAVAIL) {
			t.Errorf("dial %s: %v; want network unreachable", addr, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if addrs, err := net.DefaultResolver.LookupHost(ctx, "api.anthropic.com"); err == nil {
		t.Errorf("resolved api.anthropic.com to %v from inside the test namespace", addrs)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("loopback is not usable: %v", err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("loopback dial: %v", err)
	}
	c.Close()
}

func requireE2E(t *testing.T) {
	t.Helper()
	if !enabled() {
		t.Skipf("set %s=1 to run the real-agent tests", envEnable)
	}
}
