//go:build unix

package process

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
)

// Signal reports the signal that ended the process, after Done.
func Signal(p *Proc) (syscall.Signal, bool) {
	var ee *exec.ExitError
	if !errors.As(p.Err(), &ee) {
		return 0, false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return ws.Signal(), true
}

// SignalName is the conventional name of a signal ("SIGKILL").
func SignalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	case syscall.SIGBUS:
		return "SIGBUS"
	}
	return "signal " + strings.TrimPrefix(sig.String(), "signal ")
}
