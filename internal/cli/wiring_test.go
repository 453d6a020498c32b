package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/install"
	"github.com/sandbox-agent/sandbox-agent/problem"
)

func TestInstallProblems(t *testing.T) {
	if err := checkVersion("2.1.332"); err != nil {
		t.Fatal(err)
	}
	if err := checkVersion("^2.1"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"\x0e#", "þæ»", string(make([]byte, 200))} {
		pe, ok := problem.As(checkVersion(bad))
		if !ok || pe.Kind != problem.InvalidRequest || pe.Details["field"] != "agentVersion" {
			t.Fatalf("%q: %v", bad, pe)
		}
	}
	missing := &install.Error{Agent: "claude", Reason: "not published", Err: fmt.Errorf("npm: %w", install.ErrVersionNotFound)}
	if pe, _ := problem.As(installProblem("claude", "9.9.9", missing)); pe == nil || pe.HTTPStatus() != 400 || pe.Details["field"] != "agentVersion" {
		t.Fatalf("missing version → %v", pe)
	}
	down := &install.Error{Agent: "claude", URL: "https://registry.example/x", Reason: "connection refused", Err: errors.New("dial")}
	if pe, _ := problem.As(installProblem("claude", "", down)); pe == nil || pe.Kind != problem.InstallFailed || pe.Details["url"] != "https://registry.example/x" {
		t.Fatalf("network failure → %v", pe)
	}
}
