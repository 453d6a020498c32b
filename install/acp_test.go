package install

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestACPAgentsListed(t *testing.T) {
	all := Agents()
	for _, id := range []string{"opencode-acp", "claude-acp", "gemini", "codex-acp"} {
		if !slices.Contains(all, id) {
			t.Errorf("Agents() = %v lacks %s", all, id)
		}
	}
	if got := BinName("opencode-acp"); got != "opencode" {
		t.Errorf("opencode-acp runs %q, want the opencode binary", got)
	}
	if got := BinName("claude-acp"); got != "claude-agent-acp" {
		t.Errorf("claude-acp bin %q", got)
	}
	if got := BinName("gemini"); got != "gemini" {
		t.Errorf("gemini bin %q", got)
	}
}

// An alias installs (and resolves) the agent whose binary it runs.
func TestACPAliasInstallsShared(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.publishNative(t, "opencode-ai", "1.2.3", "opencode-linux-x64", "bin/opencode", fakeBin("1.2.3"))
	m := reg.manager(t)
	res, err := m.Install(context.Background(), "opencode-acp", Options{Source: SourceNPM})
	if err != nil {
		t.Fatal(err)
	}
	if res.Agent != "opencode-acp" || res.Version != "1.2.3" || !strings.HasSuffix(res.Path, "/opencode") {
		t.Fatalf("result %+v", res)
	}
	p, ok := m.Resolve("opencode-acp")
	q, _ := m.Resolve("opencode")
	if !ok || p != q {
		t.Errorf("opencode-acp resolves to %q, opencode to %q", p, q)
	}
}

// A registry entry with its own JavaScript package installs its pinned
// version when none is asked for, behind a launcher that answers
// --version itself (ACP servers have no such flag).
func TestACPPackagePinAndLauncherVersion(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not on PATH")
	}
	reg := newFakeRegistry(t)
	for _, v := range []string{"0.23.1", "0.99.0"} {
		reg.publish(t, "@zed-industries/claude-agent-acp", v, map[string]any{
			"bin": map[string]string{"claude-agent-acp": "dist/index.js"},
		}, map[string]entry{"dist/index.js": {body: []byte("#!/usr/bin/env node\nconsole.log('serving ACP on stdio');\n"), mode: 0o755}}, true)
	}
	m := reg.manager(t)
	res, err := m.Install(context.Background(), "claude-acp", Options{Source: SourceNPM})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "0.23.1" {
		t.Errorf("installed %s, want the pin 0.23.1", res.Version)
	}
	out, err := exec.Command(res.Path, "--version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "0.23.1" {
		t.Errorf("--version: %q, %v", out, err)
	}
	out, err = exec.Command(res.Path).Output()
	if err != nil || !strings.Contains(string(out), "serving ACP") {
		t.Errorf("the launcher does not run the program: %q, %v", out, err)
	}
}

// A native ACP agent without --version (Zed's Codex bridge) installs from
// its platform package when --help works; its version is the receipt's.
func TestACPNativeWithoutVersionFlag(t *testing.T) {
	reg := newFakeRegistry(t)
	noVersion := []byte("#!/bin/sh\n[ \"$1\" = --help ] && { echo 'Usage: codex-acp [OPTIONS]'; exit 0; }\necho \"error: unexpected argument '$1' found\" >&2\nexit 2\n")
	reg.publishNative(t, "@zed-industries/codex-acp", "0.16.0", "@zed-industries/codex-acp-linux-x64", "bin/codex-acp", noVersion)
	m := reg.manager(t)
	ctx := context.Background()
	res, err := m.Install(ctx, "codex-acp", Options{Source: SourceNPM})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "0.16.0" || !strings.HasSuffix(res.Path, "/codex-acp") {
		t.Fatalf("result %+v", res)
	}
	if v, err := Version(ctx, res.Path); err != nil || v != "0.16.0" {
		t.Errorf("version %q, %v", v, err)
	}
	// One that does not even run is refused.
	reg2 := newFakeRegistry(t)
	reg2.publishNative(t, "@zed-industries/codex-acp", "0.16.0", "@zed-industries/codex-acp-linux-x64", "bin/codex-acp", brokenBin)
	if _, err := reg2.manager(t).Install(ctx, "codex-acp", Options{Source: SourceNPM}); err == nil {
		t.Errorf("a binary that fails --help was installed")
	}
}
