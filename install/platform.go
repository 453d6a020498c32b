package install

import (
	"bytes"
	"os"
	"runtime"
)

// platform is what the download choices depend on.
type platform struct {
	OS   string // linux, darwin
	Arch string // x64, arm64 (npm's names)
	Musl bool   // Linux with musl libc (Alpine)
	AVX2 bool   // x64 CPU with AVX2 (OpenCode ships "baseline" builds without)
}

func (p platform) String() string {
	s := p.OS + "-" + p.Arch
	if p.Musl {
		s += "-musl"
	}
	return s
}

func detectPlatform() platform {
	p := platform{OS: runtime.GOOS, Arch: runtime.GOARCH}
	switch p.Arch {
	case "amd64":
		p.Arch = "x64"
	}
	if p.OS == "linux" {
		for _, f := range []string{"/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-aarch64.so.1", "/etc/alpine-release"} {
			if _, err := os.Stat(f); err == nil {
				p.Musl = true
			}
		}
	}
	p.AVX2 = p.Arch == "x64"
	if p.OS == "linux" && p.Arch == "x64" {
		p.AVX2 = false
		if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
			for _, line := range bytes.Split(b, []byte("\n")) {
				if bytes.HasPrefix(line, []byte("flags")) {
					for _, f := range bytes.Fields(line) {
						if string(f) == "avx2" {
							p.AVX2 = true
						}
					}
					break
				}
			}
		}
	}
	return p
}

func (p platform) supported() bool {
	return (p.OS == "linux" || p.OS == "darwin") && (p.Arch == "x64" || p.Arch == "arm64")
}

// rustTriple is the target triple Codex names its builds after. Codex
// ships only static musl builds for Linux, which run on glibc too.
func (p platform) rustTriple() string {
	arch := map[string]string{"x64": "x86_64", "arm64": "aarch64"}[p.Arch]
	if p.OS == "darwin" {
		return arch + "-apple-darwin"
	}
	return arch + "-unknown-linux-musl"
}
