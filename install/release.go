package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"
)

// Official release locations (reference §4.2). Each can be overridden per
// agent with Config.ReleaseBaseURLs or $SANDBOX_AGENT_<AGENT>_RELEASE_URL.
var defaultReleaseBase = map[string]string{
	"claude":   "https://storage.googleapis.com/claude-code-dist-86c565f3-f756-42ad-8dfa-d59b1c096819/claude-code-releases",
	"codex":    "https://github.com/openai/codex/releases",
	"opencode": "https://github.com/anomalyco/opencode/releases",
	"amp":      "https://storage.googleapis.com/amp-public-assets-prod-0/cli",
}

// releaseArtifact is one file to fetch from a release host.
type releaseArtifact struct {
	url     string
	version string  // "" when only the "latest" redirect is known
	want    *digest // from a checksum manifest, when the host publishes one
	size    int64
	kind    string // raw, tar.gz, zip
	member  string // base name of the binary inside an archive
}

func (m *Manager) releaseBase(agent string) string {
	if b := m.releases[agent]; b != "" {
		return strings.TrimRight(b, "/")
	}
	return defaultReleaseBase[agent]
}

// fromRelease installs the agent from its official release download.
func (ins *installer) fromRelease(ctx context.Context) (Result, error) {
	ins.progress(Progress{Phase: "resolve"})
	p := ins.plat
	if !p.supported() {
		return Result{}, ins.errorf("", nil, "unsupported platform %s/%s", p.OS, p.Arch)
	}
	art, err := ins.releaseArtifact(ctx, ins.opts.Version)
	if err != nil {
		return Result{}, err
	}
	req := fetchReq{url: art.url, want: art.want, size: art.size}
	if art.version != "" {
		// A versioned URL names immutable content, so it may be cached.
		sum := sha256.Sum256([]byte(art.url))
		req.cacheKey = "release-" + ins.agent + "-" + hex.EncodeToString(sum[:12])
	}
	file, cleanup, err := ins.fetch(ctx, req)
	if err != nil {
		return Result{}, err
	}
	defer cleanup()
	dst, detected, err := ins.placeSingle(ctx, art.url, func(tmp string) error {
		switch art.kind {
		case "raw":
			return copyFile(file, tmp, 0o755)
		case "tar.gz", "zip":
			return ins.unpackMember(file, tmp, art)
		}
		return fmt.Errorf("unknown artifact kind %q", art.kind)
	})
	if err != nil {
		return Result{}, err
	}
	v := art.version
	if v == "" {
		v = detected
	}
	return Result{Path: dst, Version: v, Source: SourceRelease}, nil
}

// unpackMember extracts the archive member whose base name is art.member
// into the file tmp.
func (ins *installer) unpackMember(archive, tmp string, art releaseArtifact) error {
	dir, err := os.MkdirTemp(ins.m.dir, "."+ins.spec.bin+".new-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pick := func(name string) (string, bool) {
		if path.Base(name) == art.member {
			return art.member, true
		}
		return "", false
	}
	unpack := unpackTarGz
	if art.kind == "zip" {
		unpack = unpackZip
	}
	n, err := unpack(archive, dir, pick)
	if err != nil {
		return ins.errorf(art.url, err, "unpack %s", path.Base(art.url))
	}
	if n == 0 {
		return ins.errorf(art.url, errNoBinary, "archive has no file named %s", art.member)
	}
	return os.Rename(dir+"/"+art.member, tmp)
}

// releaseArtifact works out the URL (and, where published, the checksum)
// of the agent's release build for this platform.
func (ins *installer) releaseArtifact(ctx context.Context, version string) (releaseArtifact, error) {
	base := ins.m.releaseBase(ins.agent)
	p := ins.plat
	switch ins.agent {
	case "claude":
		seg := p.OS + "-" + p.Arch
		if p.Musl {
			seg += "-musl"
		}
		if version == "" {
			v, err := ins.releaseText(ctx, base+"/latest")
			if err != nil {
				return releaseArtifact{}, err
			}
			version = v
		}
		art := releaseArtifact{url: base + "/" + version + "/" + seg + "/claude", version: version, kind: "raw"}
		// Each Claude release publishes manifest.json with a sha256 and size
		// per platform; older mirrors may lack it.
		murl := base + "/" + version + "/manifest.json"
		b, err := ins.getSmall(ctx, murl, "application/json", "")
		switch {
		case err == nil:
			var man struct {
				Platforms map[string]struct {
					Checksum string `json:"checksum"`
					Size     int64  `json:"size"`
				} `json:"platforms"`
			}
			if err := json.Unmarshal(b, &man); err != nil {
				return releaseArtifact{}, ins.errorf(murl, err, "bad release manifest")
			}
			ent, ok := man.Platforms[seg]
			if !ok {
				return releaseArtifact{}, ins.errorf(murl, nil, "release %s has no build for %s", version, seg)
			}
			sum, err := hex.DecodeString(ent.Checksum)
			if err != nil || len(sum) != sha256.Size {
				return releaseArtifact{}, ins.errorf(murl, err, "bad checksum %q in release manifest", ent.Checksum)
			}
			art.want = &digest{algo: "sha256", sum: sum}
			art.size = ent.Size
		case isNotFound(err):
		default:
			return releaseArtifact{}, ins.downloadError(murl, err)
		}
		return art, nil

	case "codex":
		target := p.rustTriple()
		asset := "codex-" + target + ".tar.gz"
		art := releaseArtifact{kind: "tar.gz", member: "codex-" + target}
		if version == "" {
			art.url = base + "/latest/download/" + asset
		} else {
			tag := version
			if !strings.HasPrefix(tag, "rust-v") && startsWithDigit(tag) {
				tag = "rust-v" + tag
			}
			art.url, art.version = base+"/download/"+tag+"/"+asset, strings.TrimPrefix(tag, "rust-v")
		}
		return art, nil

	case "opencode":
		seg := p.OS + "-" + p.Arch
		kind := "zip"
		if p.OS == "linux" {
			kind = "tar.gz"
			if p.Musl {
				seg += "-musl"
			}
		}
		asset := "opencode-" + seg + "." + kind
		art := releaseArtifact{kind: kind, member: "opencode"}
		if version == "" {
			art.url = base + "/latest/download/" + asset
		} else {
			tag := version
			if startsWithDigit(tag) {
				tag = "v" + tag
			}
			art.url, art.version = base+"/download/"+tag+"/"+asset, strings.TrimPrefix(tag, "v")
		}
		return art, nil

	case "amp":
		if version == "" {
			v, err := ins.releaseText(ctx, base+"/cli-version.txt")
			if err != nil {
				return releaseArtifact{}, err
			}
			version = v
		}
		// Amp ships one glibc build per architecture; it is also what the
		// reference installs on musl.
		return releaseArtifact{url: base + "/" + version + "/amp-" + p.OS + "-" + p.Arch, version: version, kind: "raw"}, nil
	}
	return releaseArtifact{}, ins.errorf("", nil, "no release source for %s", ins.agent)
}

// releaseText fetches a small text file holding a version.
func (ins *installer) releaseText(ctx context.Context, url string) (string, error) {
	b, err := ins.getSmall(ctx, url, "text/plain", "")
	if err != nil {
		err = stripURL(err)
		return "", ins.errorf(url, err, "version lookup failed: %s", err.Error())
	}
	v := strings.TrimSpace(string(b))
	if v == "" || strings.ContainsAny(v, "/\\ \n<") {
		return "", ins.errorf(url, nil, "version lookup returned %q", lastBytes(v, 60))
	}
	return v, nil
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }
