package server

import (
	"os"
	"strconv"
	"syscall"
)

// openToResolve opens a path to learn where it really is without blocking
// on it (a FIFO). O_PATH would be the natural flag, but os.Root then opens
// a final symlink itself instead of following it.
const openToResolve = os.O_RDONLY | syscall.O_NONBLOCK

// fdPath is where an open file really is, as the kernel sees it.
func fdPath(f *os.File) (string, error) {
	return os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
}
