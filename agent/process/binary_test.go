//go:build unix

package process

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "agentx")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho '1.2.3 (Agent X)'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	inDir := func(name string) (string, bool) {
		p := filepath.Join(dir, name)
		_, err := os.Stat(p)
		return p, err == nil
	}
	for _, c := range []struct {
		name, binary string
		lookup       Lookup
		want         string
		ok           bool
	}{
		{"path to a file", bin, nil, bin, true},
		{"path to a directory", dir, inDir, "", false},
		{"missing path is not looked up", filepath.Join(dir, "nope"), inDir, "", false},
		{"name through lookup", "agentx", inDir, bin, true},
		{"name lookup fails", "nope", inDir, filepath.Join(dir, "nope"), false},
		{"name on PATH by default", "sh", nil, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Resolve(c.binary, c.lookup)
			if ok != c.ok || (c.want != "" && got != c.want) || (c.lookup == nil && ok && !filepath.IsAbs(got)) {
				t.Errorf("Resolve(%q) = %q, %v; want %q, %v", c.binary, got, ok, c.want, c.ok)
			}
		})
	}

	st := BinaryStatus(context.Background(), "agentx", inDir)
	if !st.Installed || st.Path != bin || st.Version != "1.2.3" || st.Server != nil {
		t.Errorf("status = %+v", st)
	}
	if st := BinaryStatus(context.Background(), "nope", inDir); st.Installed || st.Path != "" || st.Version != "" {
		t.Errorf("status of a missing binary = %+v", st)
	}
}
