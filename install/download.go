package install

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	userAgent    = "sandbox-agent-installer"
	maxAttempts  = 3
	stallTimeout = 60 * time.Second
	maxSmallBody = 128 << 20 // npm documents of big packages are a few MB
)

// retryDelay is the pause before the second attempt (doubled after); tests
// shorten it.
var retryDelay = 500 * time.Millisecond

// errStalled cancels a download that received nothing for stallTimeout.
var errStalled = errors.New("download stalled: no data received for " + stallTimeout.String())

// statusError is a non-2xx HTTP answer.
type statusError struct {
	Code   int
	Status string
}

func (e *statusError) Error() string { return "HTTP " + e.Status }

func isNotFound(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusGone)
}

// retryable reports whether another attempt may succeed.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isDiskFull(err) {
		return false
	}
	if _, ok := err.(*Error); ok {
		return false // a local failure already explained (rewinding the download file)
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.Code >= 500 || se.Code == http.StatusTooManyRequests || se.Code == http.StatusRequestTimeout
	}
	var ie *integrityError
	return !errors.As(err, &ie)
}

func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// digest is one expected hash of a download.
type digest struct {
	algo string // sha512, sha384, sha256, sha1
	sum  []byte
}

func (d digest) String() string { return d.algo + ":" + hex.EncodeToString(d.sum) }

func newHash(algo string) hash.Hash {
	switch algo {
	case "sha512":
		return sha512.New()
	case "sha384":
		return sha512.New384()
	case "sha256":
		return sha256.New()
	case "sha1":
		return sha1.New()
	}
	return nil
}

// parseSRI returns the strongest supported hash of a Subresource Integrity
// string ("sha512-<base64> sha1-<base64>").
func parseSRI(sri string) (digest, bool) {
	rank := map[string]int{"sha1": 1, "sha256": 2, "sha384": 3, "sha512": 4}
	var best digest
	for _, f := range strings.Fields(sri) {
		algo, b64, ok := strings.Cut(f, "-")
		if !ok || rank[algo] == 0 {
			continue
		}
		b64, _, _ = strings.Cut(b64, "?")
		sum, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sum) != newHash(algo).Size() {
			continue
		}
		if rank[algo] > rank[best.algo] {
			best = digest{algo: algo, sum: sum}
		}
	}
	return best, best.algo != ""
}

type integrityError struct {
	want digest
	got  string
}

func (e *integrityError) Error() string {
	return fmt.Sprintf("%s mismatch: expected %s, got %s", e.want.algo, hex.EncodeToString(e.want.sum), e.got)
}

// fetchReq describes one artifact download.
type fetchReq struct {
	url      string
	want     *digest // verified when set
	size     int64   // expected size when > 0
	cacheKey string  // file name in the download cache; "" = do not cache
	auth     string  // Authorization header
}

// fetch downloads req into a verified local file. The returned cleanup
// removes the file unless it lives in the download cache.
func (ins *installer) fetch(ctx context.Context, req fetchReq) (string, func(), error) {
	m := ins.m
	noop := func() {}
	dir := m.dir
	if req.cacheKey != "" && m.cacheDir != "" {
		cached := filepath.Join(m.cacheDir, req.cacheKey)
		if _, err := os.Stat(cached); err == nil {
			ins.progress(Progress{Phase: "verify", URL: req.url})
			if err := verifyFile(cached, req.want, req.size); err == nil {
				return cached, noop, nil
			}
			os.Remove(cached) // corrupt entry: fetch again
		}
		if err := os.MkdirAll(m.cacheDir, 0o755); err == nil {
			dir = m.cacheDir
		}
	}
	f, err := m.openTemp(dir, ".download-"+ins.agent+"-*.partial")
	if err != nil {
		return "", noop, ins.ioError("create download file", dir, req.url, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		f.Close()
		if !ok {
			os.Remove(tmp)
		}
	}()

	err = retry(ctx, func(attempt int) error {
		if attempt > 1 {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return ins.ioError("rewind download file", tmp, req.url, err)
			}
			if err := f.Truncate(0); err != nil {
				return ins.ioError("truncate download file", tmp, req.url, err)
			}
		}
		return ins.download(ctx, req, f)
	})
	var e *Error
	switch {
	case errors.As(err, &e):
		return "", noop, e
	case isDiskFull(err):
		return "", noop, ins.ioError("write download", tmp, req.url, err)
	case err != nil:
		return "", noop, ins.downloadError(req.url, err)
	}
	if err := f.Sync(); err != nil {
		return "", noop, ins.ioError("write download", tmp, req.url, err)
	}
	if err := f.Close(); err != nil {
		return "", noop, ins.ioError("write download", tmp, req.url, err)
	}
	if dir == m.cacheDir && req.cacheKey != "" {
		dst := filepath.Join(m.cacheDir, req.cacheKey)
		os.Chmod(tmp, 0o644) // CreateTemp makes it private; the cache may be shared
		if err := os.Rename(tmp, dst); err == nil {
			ok = true
			return dst, noop, nil
		}
	}
	ok = true
	return tmp, func() { os.Remove(tmp) }, nil
}

// download performs one GET of req into f, verifying size and digest.
func (ins *installer) download(ctx context.Context, req fetchReq, f *os.File) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, req.url, nil)
	if err != nil {
		return err
	}
	hreq.Header.Set("User-Agent", userAgent)
	if req.auth != "" {
		hreq.Header.Set("Authorization", req.auth)
	}
	ins.progress(Progress{Phase: "download", URL: req.url, Total: -1})
	resp, err := ins.m.client.Do(hreq)
	if err != nil {
		if c := context.Cause(ctx); c != nil && c != ctx.Err() {
			return c
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return &statusError{Code: resp.StatusCode, Status: resp.Status}
	}
	total := resp.ContentLength
	if total < 0 && req.size > 0 {
		total = req.size
	}
	var h hash.Hash
	if req.want != nil {
		h = newHash(req.want.algo)
	}
	stall := time.AfterFunc(stallTimeout, func() { cancel(errStalled) })
	defer stall.Stop()
	buf := make([]byte, 256<<10)
	var done int64
	lastReport := time.Time{}
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			stall.Reset(stallTimeout)
			if _, werr := f.Write(buf[:n]); werr != nil {
				return werr
			}
			if h != nil {
				h.Write(buf[:n])
			}
			done += int64(n)
			if now := time.Now(); now.Sub(lastReport) >= 100*time.Millisecond {
				lastReport = now
				ins.progress(Progress{Phase: "download", URL: req.url, Done: done, Total: total})
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if c := context.Cause(ctx); c != nil && c != ctx.Err() {
				return c
			}
			if errors.Is(rerr, io.ErrUnexpectedEOF) && resp.ContentLength > 0 {
				return fmt.Errorf("truncated download: got %d of %d bytes", done, resp.ContentLength)
			}
			return rerr
		}
	}
	ins.progress(Progress{Phase: "download", URL: req.url, Done: done, Total: total})
	if resp.ContentLength > 0 && done != resp.ContentLength {
		return fmt.Errorf("truncated download: got %d of %d bytes", done, resp.ContentLength)
	}
	if req.size > 0 && done != req.size {
		return fmt.Errorf("size mismatch: expected %d bytes, got %d", req.size, done)
	}
	if h != nil {
		ins.progress(Progress{Phase: "verify", URL: req.url})
		if got := h.Sum(nil); !bytes.Equal(got, req.want.sum) {
			return &integrityError{want: *req.want, got: hex.EncodeToString(got)}
		}
	}
	return nil
}

// verifyFile checks a cached file against the expected digest and size.
func verifyFile(path string, want *digest, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if size > 0 {
		if st, err := f.Stat(); err != nil || st.Size() != size {
			return fmt.Errorf("size mismatch")
		}
	}
	if want == nil {
		return nil
	}
	h := newHash(want.algo)
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := h.Sum(nil); !bytes.Equal(got, want.sum) {
		return &integrityError{want: *want, got: hex.EncodeToString(got)}
	}
	return nil
}

// getSmall GETs a metadata document (JSON, version text) into memory.
func (ins *installer) getSmall(ctx context.Context, url, accept, auth string) ([]byte, error) {
	var b []byte
	err := retry(ctx, func(int) error {
		var err error
		b, err = ins.getOnce(ctx, url, accept, auth)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// retry calls try until it succeeds, fails for good (see retryable) or
// has been called maxAttempts times, pausing retryDelay, doubled each
// time, between calls. A pause cut short by ctx returns ctx.Err().
func retry(ctx context.Context, try func(attempt int) error) error {
	delay := retryDelay
	for attempt := 1; ; attempt++ {
		err := try(attempt)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
	}
}

func (ins *installer) getOnce(ctx context.Context, url, accept, auth string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", userAgent)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := ins.m.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, &statusError{Code: resp.StatusCode, Status: resp.Status}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxSmallBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSmallBody {
		return nil, fmt.Errorf("response larger than %d bytes", maxSmallBody)
	}
	return b, nil
}

// downloadError turns a transfer failure into an *Error naming the URL.
func (ins *installer) downloadError(url string, err error) *Error {
	var ie *integrityError
	switch {
	case errors.As(err, &ie):
		return ins.errorf(url, err, "integrity check failed: %s", ie.Error())
	case isDiskFull(err):
		return ins.errorf(url, err, "disk full")
	case errors.Is(err, context.Canceled):
		return ins.errorf(url, err, "download interrupted")
	}
	err = stripURL(err)
	return ins.errorf(url, err, "download failed: %s", err.Error())
}

// ioError reports a local file-system failure, calling out a full disk.
func (ins *installer) ioError(what, path, url string, err error) *Error {
	if isDiskFull(err) {
		return ins.errorf(url, err, "disk full: no space left on device for %s (%s)", what, path)
	}
	return ins.errorf(url, err, "%s (%s)", what, path)
}

// stripURL drops the *url.Error wrapper, whose text repeats the URL that
// the *Error already names.
func stripURL(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
