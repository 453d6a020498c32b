//go:build unix && !linux

package process

// BecomeReaper is Linux-only (child subreaper, /proc): elsewhere it does
// nothing, and agents' own children may outlive a server killed with
// SIGKILL.
func BecomeReaper(dir string) (killed int, stop func(), err error) { return 0, func() {}, nil }

func recordGroup(int) {}
func forgetGroup(int) {}
func killAdopted()    {}
