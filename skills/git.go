package skills

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// fetchGit makes <cache>/<hash> a shallow checkout of the source: a pull
// when it is already cloned, a fresh clone otherwise or when the pull fails
// (history rewritten upstream, a tag checkout that cannot fast-forward, a
// corrupted cache).
func fetchGit(ctx context.Context, src schema.SkillSource, o Options) (root, error) {
	remote := strings.TrimSpace(src.Source)
	ref := ""
	if src.Ref != nil {
		ref = strings.TrimSpace(*src.Ref)
	}
	if strings.HasPrefix(remote, "-") {
		return root{}, problem.Invalid("invalid git skill source: %s", src.Source)
	}
	if strings.HasPrefix(ref, "-") {
		return root{}, problem.Invalid("invalid git ref: %s", ref)
	}
	cache, err := o.cacheDir()
	if err != nil {
		return root{}, err
	}
	dest := filepath.Join(cache, cacheKey(remote, ref))
	r := root{path: dest, name: repoName(remote), confine: true}
	return locked(ctx, dest, func() (root, error) {
		if fi, err := os.Stat(filepath.Join(dest, ".git")); err == nil && fi.IsDir() {
			if err := runGit(ctx, o, "-C", dest, "pull", "--ff-only"); err == nil {
				return r, nil
			} else if ctx.Err() != nil {
				return root{}, gitFailed(ctx, err, "failed to update skill repository %s", remote)
			}
		}
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return root{}, fsFailed("create the skills cache", err)
		}
		err := refresh(dest, func(tmp string) error {
			args := []string{"clone", "--depth", "1"}
			if ref != "" {
				args = append(args, "--branch", ref)
			}
			args = append(args, "--", remote, tmp)
			if err := runGit(ctx, o, args...); err != nil {
				return gitFailed(ctx, err, "failed to clone skill repository %s", remote)
			}
			return nil
		})
		if err != nil {
			return root{}, err
		}
		return r, nil
	})
}

// cacheKey is the 16-hex-digit cache directory name of a remote. The ref is
// part of the key when set: a checkout of one branch cannot be pulled into
// another, so each (remote, ref) pair keeps its own clone.
func cacheKey(remote, ref string) string {
	key := remote
	if ref != "" {
		key += "#" + ref
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// repoName is the last path element of a remote URL without ".git"
// ("https://host/o/skills.git" and "git@host:o/skills" → "skills").
func repoName(remote string) string {
	s := strings.TrimRight(remote, "/")
	s = strings.TrimSuffix(s, ".git")
	if i := strings.LastIndexAny(s, "/:"); i >= 0 {
		s = s[i+1:]
	}
	if !validName(s) {
		return ""
	}
	return s
}

// gitError is a failed git command with the tail of its stderr.
type gitError struct {
	err    error
	stderr string
}

func (e *gitError) Error() string {
	if e.stderr != "" {
		return e.stderr
	}
	return e.err.Error()
}

func (e *gitError) Unwrap() error { return e.err }

func gitFailed(ctx context.Context, err error, format string, args ...any) *problem.Error {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		e := problem.New(problem.InstallFailed, "skills: git is not installed: %v", err)
		e.Err = err
		return e
	}
	cause := err
	if ctx.Err() != nil {
		cause = ctx.Err()
	}
	e := streamFailed(cause, format, args...)
	e.Detail += ": " + err.Error()
	return e
}

// runGit runs git non-interactively: no terminal prompts for credentials,
// its own session (so ssh cannot ask on a tty either and the whole process
// group dies with ctx), stdin closed.
func runGit(ctx context.Context, o Options, args ...string) error {
	cmd := exec.CommandContext(ctx, o.git(), args...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GCM_INTERACTIVE=never")
	var stderr tail
	cmd.Stderr = &stderr
	cmd.Stdout = nil
	detach(cmd)
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return &gitError{err: err, stderr: strings.TrimSpace(stderr.String())}
	}
	return nil
}

// tail keeps the last 4 KiB written to it: enough of git's stderr to say
// what went wrong, bounded whatever git prints.
type tail struct{ b []byte }

const tailMax = 4 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailMax {
		t.b = append(t.b[:0], t.b[len(t.b)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tail) String() string { return string(t.b) }
