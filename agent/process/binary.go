package process

import (
	"context"
	"os"
	"os/exec"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/install"
)

// Lookup finds a program by name; the server's looks in the installer's
// directory before PATH.
type Lookup func(name string) (string, bool)

// Resolve finds an agent's binary. A name with a path separator is a path,
// used when it names a file; a bare name is found by lookup, or by
// exec.LookPath when lookup is nil.
func Resolve(binary string, lookup Lookup) (string, bool) {
	if strings.ContainsRune(binary, os.PathSeparator) {
		if fi, err := os.Stat(binary); err == nil && !fi.IsDir() {
			return binary, true
		}
		return "", false
	}
	if lookup != nil {
		return lookup(binary)
	}
	p, err := exec.LookPath(binary)
	return p, err == nil
}

// BinaryStatus is the install status of the binary Resolve finds: its path
// and version (install.Version, cached per binary file; empty when it
// cannot be told), or not installed.
func BinaryStatus(ctx context.Context, binary string, lookup Lookup) agent.InstallStatus {
	path, ok := Resolve(binary, lookup)
	if !ok {
		return agent.InstallStatus{}
	}
	v, _ := install.Version(ctx, path)
	return agent.InstallStatus{Installed: true, Path: path, Version: v}
}
