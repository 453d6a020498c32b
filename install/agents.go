package install

// agentSpec says where each agent's native binary lives in its npm
// packages. The layouts were read off the registry (see docs/install.md):
//
//   - claude: @anthropic-ai/claude-code lists one optional dependency per
//     platform (@anthropic-ai/claude-code-linux-x64[-musl], …) whose tarball
//     holds a single Bun-compiled executable, package/claude. Versions before
//     2.1.113 are a JavaScript program (cli.js) instead.
//   - codex: @openai/codex lists aliases such as @openai/codex-linux-x64 →
//     npm:@openai/codex@<v>-linux-x64. The tarball holds a package tree
//     under vendor/<rust triple>/ (bin/codex plus codex-resources/ and
//     codex-path/ that the binary looks up next to itself). Versions
//     0.44–0.98 carry the same tree (codex/codex, path/rg) inside the main
//     tarball; versions before 0.20 are a JavaScript program.
//   - opencode: opencode-ai lists opencode-linux-x64[-baseline][-musl], …;
//     each holds package/bin/opencode.
//   - amp: @ampcode/cli lists @ampcode/cli-linux-x64, … (glibc only); each
//     holds package/amp. The newest @ampcode/cli often lists a platform
//     version that was never published.
type agentSpec struct {
	bin string // file name in the install dir and on PATH
	npm string // main npm package

	// platformPkgs lists the optional-dependency names that may carry the
	// binary for p, best first.
	platformPkgs func(p platform) []string
	// single lists where the lone executable sits in a platform package,
	// relative to the package root.
	single []string
	// tree, when set, names the directory of a platform package (or of the
	// main package when mainHasNative) that is installed whole; treeBins
	// lists the executable's candidate paths inside it.
	tree          func(p platform) string
	treeBins      []string
	mainHasNative bool

	// pin is the version installed when none is asked for ("" = newest).
	pin string
	// launcherVersion makes the JavaScript launcher answer --version with
	// the package version (for programs that have no such flag).
	launcherVersion bool
	// noVersionFlag: the native executable has no --version; a fresh one
	// is accepted when --help succeeds.
	noVersionFlag bool
}

var specs = map[string]agentSpec{
	"claude": {
		bin: "claude",
		npm: "@anthropic-ai/claude-code",
		platformPkgs: func(p platform) []string {
			name := "@anthropic-ai/claude-code-" + p.OS + "-" + p.Arch
			if p.Musl {
				return []string{name + "-musl"}
			}
			return []string{name}
		},
		single: []string{"claude", "bin/claude"},
	},
	"codex": {
		bin: "codex",
		npm: "@openai/codex",
		platformPkgs: func(p platform) []string {
			return []string{"@openai/codex-" + p.OS + "-" + p.Arch}
		},
		tree:          func(p platform) string { return "vendor/" + p.rustTriple() },
		treeBins:      []string{"bin/codex", "codex/codex"},
		mainHasNative: true,
	},
	"opencode": {
		bin: "opencode",
		npm: "opencode-ai",
		// The order follows opencode-ai's own postinstall: prefer the libc
		// and CPU level of this machine, then fall back to the others (the
		// binary is run with --version before it is accepted).
		platformPkgs: func(p platform) []string {
			base := "opencode-" + p.OS + "-" + p.Arch
			if p.OS != "linux" {
				if p.Arch == "x64" && !p.AVX2 {
					return []string{base + "-baseline", base}
				}
				if p.Arch == "x64" {
					return []string{base, base + "-baseline"}
				}
				return []string{base}
			}
			if p.Arch != "x64" {
				if p.Musl {
					return []string{base + "-musl", base}
				}
				return []string{base, base + "-musl"}
			}
			switch {
			case p.Musl && !p.AVX2:
				return []string{base + "-baseline-musl", base + "-musl", base + "-baseline", base}
			case p.Musl:
				return []string{base + "-musl", base + "-baseline-musl", base, base + "-baseline"}
			case !p.AVX2:
				return []string{base + "-baseline", base, base + "-baseline-musl", base + "-musl"}
			}
			return []string{base, base + "-baseline", base + "-musl", base + "-baseline-musl"}
		},
		single: []string{"bin/opencode"},
	},
	"amp": {
		bin: "amp",
		npm: "@ampcode/cli",
		platformPkgs: func(p platform) []string {
			return []string{"@ampcode/cli-" + p.OS + "-" + p.Arch}
		},
		single: []string{"amp"},
	},
}
