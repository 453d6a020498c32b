//go:build !linux

package server

import (
	"errors"
	"os"
)

const openToResolve = os.O_RDONLY

// fdPath is not available without /proc: symlinks are then not resolved
// inside --fs-root (writes replace a symlink instead of writing through it).
func fdPath(*os.File) (string, error) { return "", errors.New("fdPath: not supported on this system") }
