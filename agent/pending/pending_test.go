package pending

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// An installed CLI reads installed, with its path and version, even though
// its adapter is not built yet.
func TestStatusReportsInstalledBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "amp")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 0.0.42\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := New("amp").WithResolver(func(name string) (string, bool) {
		if name != "amp" {
			t.Errorf("resolved %q, want amp", name)
		}
		return bin, true
	})
	st, err := a.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Installed || st.Path != bin || st.Version != "0.0.42" {
		t.Errorf("status = %+v, want installed at %s with version 0.0.42", st, bin)
	}
}

func TestStatusNotInstalled(t *testing.T) {
	a := New("codex").WithResolver(func(string) (string, bool) { return "", false })
	st, err := a.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Installed || st.Path != "" || st.Version != "" {
		t.Errorf("status = %+v, want not installed", st)
	}
	if st.Server == nil {
		t.Errorf("codex shares one process: want a server status")
	}
}
