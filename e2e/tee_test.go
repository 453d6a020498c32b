package e2e

import (
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

// With SANDBOX_AGENT_E2E_CAPTURE=1 the server does not start the agent
// binary itself but this test binary, under the agent's name, which runs
// the real binary and copies its stdin and stdout to files: the complete
// native streams (the include_raw captures hold only the lines that became
// events). The wrapper keeps the agent's stderr, process group, exit code
// and signal, so every row behaves the same with or without it.
const (
	// Not SANDBOX_AGENT_*: the server keeps its own variables from agents.
	envTeeReal = "E2E_TEE_REAL" // the real agent binary
	envTeeOut  = "E2E_TEE_OUT"  // file prefix: <prefix>.stdin.jsonl, <prefix>.stdout.jsonl
)

func init() {
	if real := os.Getenv(envTeeReal); real != "" {
		os.Exit(teeMain(real, os.Getenv(envTeeOut)))
	}
}

// teeWrapperDir makes a directory holding the agent's binary name linked
// to this test binary; the server's install dir points there.
func teeWrapperDir(dir, bin string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.Symlink(self, filepath.Join(dir, bin))
}

func teeMain(real, prefix string) int {
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envTeeReal+"=") && !strings.HasPrefix(kv, envTeeOut+"=") {
			env = append(env, kv)
		}
	}
	args := os.Args[1:]
	if prefix == "" || (len(args) == 1 && (args[0] == "--version" || args[0] == "-V" || args[0] == "version")) {
		// Nothing to capture: become the agent.
		if err := syscall.Exec(real, append([]string{real}, args...), env); err != nil {
			os.Stderr.WriteString("e2e tee: " + err.Error() + "\n")
		}
		return 127
	}
	cmd := exec.Command(real, args...)
	cmd.Env = env
	cmd.Stderr = os.Stderr // the agent's own stderr fd, as without the wrapper
	in, err := cmd.StdinPipe()
	if err != nil {
		return 127
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 127
	}
	inLog, _ := os.OpenFile(prefix+".stdin.jsonl", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	outLog, _ := os.OpenFile(prefix+".stdout.jsonl", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	if err := cmd.Start(); err != nil {
		os.Stderr.WriteString("e2e tee: " + err.Error() + "\n")
		return 127
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	go func() {
		_, _ = io.Copy(io.MultiWriter(in, inLog), os.Stdin)
		in.Close()
	}()
	_, _ = io.Copy(io.MultiWriter(os.Stdout, outLog), out)
	err = cmd.Wait()
	inLog.Close()
	outLog.Close()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		// Die the way the agent died, so the adapter sees the same.
		signal.Reset()
		_ = syscall.Kill(os.Getpid(), ws.Signal())
		return 128 + int(ws.Signal())
	}
	if err != nil && cmd.ProcessState == nil {
		return 127
	}
	return cmd.ProcessState.ExitCode()
}
