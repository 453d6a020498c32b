package skills

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Limits on a GitHub archive: a repository of skills is text, so anything
// near these sizes is a mistake or an attack (a zip bomb), not a skill set.
const (
	maxArchiveBytes   = 512 << 20 // compressed download
	maxExtractedBytes = 1 << 30   // sum of uncompressed file sizes
)

// fetchGitHub downloads the zipball of an "owner/repo" source into
// <cache>/<owner>-<repo>, replacing what was there.
func fetchGitHub(ctx context.Context, src schema.SkillSource, o Options) (root, error) {
	owner, repo, ok := splitRepo(src.Source)
	if !ok {
		return root{}, problem.Invalid("invalid github skill source: %s (want owner/repo)", src.Source)
	}
	cache, err := o.cacheDir()
	if err != nil {
		return root{}, err
	}
	ref := "HEAD"
	if src.Ref != nil && strings.TrimSpace(*src.Ref) != "" {
		ref = strings.TrimSpace(*src.Ref)
	}
	u := o.githubAPI() + "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/zipball/" + escapeRef(ref)
	dest := filepath.Join(cache, owner+"-"+repo)
	return locked(ctx, dest, func() (root, error) {
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return root{}, fsFailed("create the skills cache", err)
		}
		archive, err := download(ctx, o.httpClient(), u, cache)
		if err != nil {
			return root{}, err
		}
		defer os.Remove(archive.Name())
		defer archive.Close()
		if err := refresh(dest, func(tmp string) error { return extractZip(archive, tmp, u) }); err != nil {
			return root{}, err
		}
		return root{path: dest, name: repo, confine: true}, nil
	})
}

// splitRepo parses "owner/repo".
func splitRepo(s string) (owner, repo string, ok bool) {
	owner, repo, ok = strings.Cut(strings.TrimSpace(s), "/")
	return owner, repo, ok && repoPart(owner) && repoPart(repo)
}

func repoPart(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// escapeRef escapes each segment of a ref, keeping the slashes of branch
// names like "feature/x" as GitHub expects them.
func escapeRef(ref string) string {
	parts := strings.Split(ref, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// download fetches u into a temporary file in dir, open and rewound.
func download(ctx context.Context, c *http.Client, u, dir string) (*os.File, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, problem.Invalid("invalid skill download URL %s: %v", u, err)
	}
	req.Header.Set("User-Agent", "sandbox-agent")
	resp, err := c.Do(req)
	if err != nil {
		return nil, streamFailed(err, "failed to download skills from %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, streamFailed(nil, "failed to download skills from %s: HTTP %d", u, resp.StatusCode)
	}
	f, err := os.CreateTemp(dir, ".download-*.zip")
	if err != nil {
		return nil, fsFailed("create a temporary file", err)
	}
	fail := func(e error) (*os.File, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, e
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, maxArchiveBytes+1))
	if err != nil {
		return fail(streamFailed(err, "failed to download skills from %s: %v", u, err))
	}
	if n > maxArchiveBytes {
		return fail(streamFailed(nil, "failed to download skills from %s: archive larger than %d bytes", u, maxArchiveBytes))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(fsFailed("read the downloaded archive", err))
	}
	return f, nil
}

// extractZip writes the archive into dir without its top-level directory
// (GitHub wraps everything in <owner>-<repo>-<sha>/). An entry whose name
// leaves the archive fails the whole extraction; symlinks are kept only
// when they point inside the tree, and all writes go through an os.Root so
// nothing can land outside dir even through a link.
func extractZip(f *os.File, dir, u string) error {
	fi, err := f.Stat()
	if err != nil {
		return fsFailed("read the downloaded archive", err)
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // insecure names are checked below
		return streamFailed(err, "invalid skill archive from %s: %v", u, err)
	}
	rt, err := os.OpenRoot(dir)
	if err != nil {
		return fsFailed("open "+dir, err)
	}
	defer rt.Close()

	budget := int64(maxExtractedBytes)
	for _, zf := range zr.File {
		name := zf.Name
		if strings.Contains(name, `\`) || !filepath.IsLocal(filepath.FromSlash(name)) {
			return streamFailed(nil, "unsafe path in skill archive from %s: %s", u, name)
		}
		_, rest, ok := strings.Cut(name, "/")
		rest = strings.TrimSuffix(rest, "/")
		if !ok || rest == "" {
			continue // the top-level directory itself
		}
		rel := filepath.FromSlash(rest)
		if !filepath.IsLocal(rel) {
			return streamFailed(nil, "unsafe path in skill archive from %s: %s", u, name)
		}
		if err := extractEntry(rt, zf, rel, &budget); err != nil {
			var pe *problem.Error
			if errors.As(err, &pe) {
				return err
			}
			return fsFailed(fmt.Sprintf("extract %s from %s", name, u), err)
		}
	}
	return nil
}

func extractEntry(rt *os.Root, zf *zip.File, rel string, budget *int64) error {
	mode := zf.Mode()
	switch {
	case mode.IsDir():
		return rt.MkdirAll(rel, 0o755)
	case mode&os.ModeSymlink != 0:
		target, err := readEntry(zf, 4096)
		if err != nil {
			return err
		}
		t := filepath.FromSlash(string(target))
		if filepath.IsAbs(t) || !filepath.IsLocal(filepath.Join(filepath.Dir(rel), t)) {
			return nil // a link out of the tree is dropped, not followed
		}
		if err := rt.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
			return err
		}
		return rt.Symlink(t, rel)
	case mode.IsRegular():
		if err := rt.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
			return err
		}
		perm := os.FileMode(0o644)
		if mode&0o111 != 0 {
			perm = 0o755
		}
		r, err := zf.Open()
		if err != nil {
			return streamFailed(err, "invalid skill archive entry %s: %v", zf.Name, err)
		}
		defer r.Close()
		w, err := rt.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
		if err != nil {
			return err
		}
		n, err := io.Copy(w, io.LimitReader(r, *budget+1))
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		*budget -= n
		if *budget < 0 {
			return streamFailed(nil, "skill archive expands to more than %d bytes", maxExtractedBytes)
		}
		if err != nil {
			return streamFailed(err, "invalid skill archive entry %s: %v", zf.Name, err)
		}
		return nil
	default:
		return nil // devices, pipes: nothing a skill needs
	}
}

func readEntry(zf *zip.File, limit int64) ([]byte, error) {
	r, err := zf.Open()
	if err != nil {
		return nil, streamFailed(err, "invalid skill archive entry %s: %v", zf.Name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return nil, streamFailed(err, "invalid skill archive entry %s: %v", zf.Name, err)
	}
	return b, nil
}

// streamFailed is a 502: something upstream of us (GitHub, a git remote)
// failed or sent something unusable.
func streamFailed(cause error, format string, args ...any) *problem.Error {
	e := problem.New(problem.StreamError, format, args...)
	e.Err = cause
	return e
}

// fsFailed is a local file-system failure while installing skills.
func fsFailed(what string, err error) *problem.Error {
	e := problem.New(problem.InstallFailed, "skills: cannot %s: %v", what, err)
	e.Err = err
	return e
}
