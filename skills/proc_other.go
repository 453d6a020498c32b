//go:build !unix

package skills

import "os/exec"

// detach is a no-op where process groups are not available; cancellation
// kills git itself.
func detach(cmd *exec.Cmd) {}
