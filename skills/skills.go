// Package skills installs agent skills for a session: it fetches skill
// sources (a GitHub repository, a git remote or a local directory), finds the
// directories holding a SKILL.md, and links each one into the places the
// agents look for them (.agents/skills, .claude/skills, .opencode/skill).
package skills

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// The source types of schema.SkillSource.Type.
const (
	TypeGitHub = "github"
	TypeGit    = "git"
	TypeLocal  = "local"
)

// LinkDirs are the directories, relative to the session directory, that each
// installed skill is linked into as <linkdir>/<name>.
var LinkDirs = []string{
	filepath.Join(".agents", "skills"),
	filepath.Join(".claude", "skills"),
	filepath.Join(".opencode", "skill"),
}

// Options configures where remote sources are fetched from and kept.
// The zero value is ready to use.
type Options struct {
	// CacheDir holds downloaded and cloned sources; ~/.sandbox-agent/skills-cache when empty.
	CacheDir string
	// GitHubAPI is the GitHub REST API base URL; https://api.github.com when empty.
	GitHubAPI string
	// HTTPClient downloads GitHub archives; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Git is the git binary; "git" (looked up on PATH) when empty.
	Git string
}

func (o Options) cacheDir() (string, error) {
	if o.CacheDir != "" {
		return filepath.Abs(o.CacheDir)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", &problem.Error{Kind: problem.InstallFailed, Detail: "cannot locate the skills cache: " + err.Error(), Err: err}
	}
	return filepath.Join(home, ".sandbox-agent", "skills-cache"), nil
}

func (o Options) githubAPI() string {
	if o.GitHubAPI != "" {
		return strings.TrimRight(o.GitHubAPI, "/")
	}
	return "https://api.github.com"
}

func (o Options) httpClient() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return http.DefaultClient
}

func (o Options) git() string {
	if o.Git != "" {
		return o.Git
	}
	return "git"
}

// Install resolves every source of cfg, discovers its skills and links each
// one into <dir>/.agents/skills/<name>, <dir>/.claude/skills/<name> and
// <dir>/.opencode/skill/<name>. It returns the names of the installed skills
// in discovery order. dir is the session's working directory (the process's
// when empty); relative local sources are resolved against it.
//
// Every source is resolved and every destination checked before anything is
// linked, so a bad source or a conflicting path leaves dir untouched.
// Errors are *problem.Error: invalid_request (400) for bad input, stream_error
// (502) when a download or git command fails.
func Install(ctx context.Context, cfg schema.SkillsConfig, dir string, o Options) ([]string, error) {
	if len(cfg.Sources) == 0 {
		return nil, nil
	}
	if dir == "" {
		dir = "."
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, problem.Invalid("skills directory %q: %v", dir, err)
	}

	var all []skill
	seen := map[string]bool{}
	for _, src := range cfg.Sources {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		found, err := installSource(ctx, src, dir, o)
		if err != nil {
			return nil, err
		}
		for _, s := range found {
			if !seen[s.path] {
				seen[s.path] = true
				all = append(all, s)
			}
		}
	}

	if err := link(ctx, dir, all); err != nil {
		return nil, err
	}
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.name
	}
	return names, nil
}

// installSource fetches one source and returns the skills it offers after
// the subpath and the filter are applied.
func installSource(ctx context.Context, src schema.SkillSource, dir string, o Options) ([]skill, error) {
	if strings.TrimSpace(src.Source) == "" {
		return nil, problem.Invalid("skill source cannot be empty")
	}
	var (
		r   root
		err error
	)
	switch src.Type {
	case TypeGitHub:
		r, err = fetchGitHub(ctx, src, o)
	case TypeGit:
		r, err = fetchGit(ctx, src, o)
	case TypeLocal:
		r, err = localRoot(src, dir)
	default:
		return nil, problem.Invalid("unsupported skill source type: %s", src.Type)
	}
	if err != nil {
		return nil, err
	}
	if r.release != nil {
		defer r.release()
	}
	return discoverSource(src, r)
}

// localRoot resolves a local source against the session directory.
func localRoot(src schema.SkillSource, dir string) (root, error) {
	p := src.Source
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	p = filepath.Clean(p)
	fi, err := os.Stat(p)
	if err != nil || !fi.IsDir() {
		return root{}, problem.Invalid("skill source is not a directory: %s", p)
	}
	return root{path: p, name: filepath.Base(p)}, nil
}
