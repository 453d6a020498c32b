//go:build unix && !linux

package process

// Supervise is Linux-only (child subreaper, /proc): elsewhere it does
// nothing, and agents' own children may outlive a server killed with
// SIGKILL.
func Supervise(dir string) (killed int, stop func(), err error) { return 0, func() {}, nil }

func recordGroup(int) {}
func forgetGroup(int) {}
func killAdopted()    {}
