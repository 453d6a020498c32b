package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"github.com/sandbox-agent/sandbox-agent/problem"
)

// errTooLarge is an upload past --max-upload-bytes.
var errTooLarge = errors.New("upload exceeds the size limit")

// uploadReader streams a request body (or what is unpacked from it) to
// disk. It counts bytes, stops past max (0: no cap), and remembers the
// error its source returned, so that a failed copy can be blamed on the
// client (4xx) or on the disk (502).
type uploadReader struct {
	r   io.Reader
	n   int64
	max int64
	err error
}

func (u *uploadReader) Read(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	if u.max > 0 {
		// One byte past the cap is enough to know the upload is too large.
		if room := u.max - u.n + 1; int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := u.r.Read(p)
	u.n += int64(n)
	if u.max > 0 && u.n > u.max {
		u.err = errTooLarge
		return n, errTooLarge
	}
	if err != nil && err != io.EOF {
		u.err = err
	}
	return n, err
}

// failure is the source's error as a problem, or nil when the source did
// not fail (so a failed copy failed on the writing side).
func (u *uploadReader) failure() error {
	if u.err == nil {
		return nil
	}
	var mbe *http.MaxBytesError
	if errors.Is(u.err, errTooLarge) || errors.As(u.err, &mbe) {
		return tooLarge(u.max)
	}
	return problem.Invalid("reading the request body: %v", u.err).With("field", "body")
}

func tooLarge(max int64) error {
	return problem.New(problem.PayloadTooLarge, "payload too large: the upload exceeds the server's limit of %d bytes (--max-upload-bytes)", max).
		With("limit", max).With("field", "body")
}

// writeAtomic streams r into a new temporary file beside name (inside root)
// and renames it over name, so nobody sees a half-written file and a failed
// or oversized upload leaves nothing behind. perm goes through the umask;
// exact, when set, is applied as is (to keep an overwritten file's mode).
func writeAtomic(root *os.Root, name string, r io.Reader, perm fs.FileMode, exact *fs.FileMode) (int64, error) {
	tmp := filepath.Join(filepath.Dir(name), ".sa-upload-"+randomHex())
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if exact != nil && err == nil {
		err = f.Chmod(*exact)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		_ = root.Remove(tmp)
		return n, err
	}
	return n, nil
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
