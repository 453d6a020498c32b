package cli

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated docs/openapi.json and docs/cli.md")

// TestOpenAPIUpToDate fails when the committed docs/openapi.json differs
// from what the binary generates: regenerate with
// `go test ./internal/cli -run OpenAPI -update` (or `sandbox-agent openapi`).
func TestOpenAPIUpToDate(t *testing.T) {
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetArgs([]string{"openapi"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	const path = "../../docs/openapi.json"
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with -update)", err)
	}
	if !bytes.Equal(want, out.Bytes()) {
		t.Fatal("docs/openapi.json is stale: run `go test ./internal/cli -run OpenAPI -update` and commit it")
	}
	// Generation is deterministic.
	var again bytes.Buffer
	root = newRootCmd()
	root.SetOut(&again)
	root.SetArgs([]string{"openapi"})
	if err := root.Execute(); err != nil || !bytes.Equal(again.Bytes(), out.Bytes()) {
		t.Fatal("two generations differ")
	}
}
