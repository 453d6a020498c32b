package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/server"
	"github.com/sandbox-agent/sandbox-agent/session"
)

// TestUIMount: the UI handler gets /ui/ paths with the prefix stripped and
// no token (the page asks for one; the API it calls checks it), /ui goes to
// /ui/, and a browser asking for / is sent to the inspector while curl
// still gets the banner, which then lists /ui/.
func TestUIMount(t *testing.T) {
	var seen []string
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.Path)
		_, _ = io.WriteString(w, "inspector")
	})
	srv := server.New(server.Config{Manager: session.NewManager(session.Config{Registry: agent.NewRegistry()}), Token: "tok", UI: ui})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(path, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if res, body := do("/ui/sessions/x", ""); res.StatusCode != 200 || body != "inspector" {
		t.Fatalf("GET /ui/sessions/x without a token: %d %q", res.StatusCode, body)
	}
	if res, _ := do("/ui/", ""); res.StatusCode != 200 {
		t.Fatalf("GET /ui/: %d", res.StatusCode)
	}
	if strings.Join(seen, ",") != "/sessions/x,/" {
		t.Fatalf("the UI handler saw %v; want the paths without /ui", seen)
	}
	if res, _ := do("/ui", ""); res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/ui/" {
		t.Fatalf("GET /ui: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := do("/", "text/html,application/xhtml+xml,*/*;q=0.8"); res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/ui/" {
		t.Fatalf("GET / from a browser: %d %q, want a redirect to /ui/", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := do("/", "*/*"); res.StatusCode != 200 || !strings.Contains(body, "GET /ui/") {
		t.Fatalf("GET / from curl: %d %q, want the banner listing /ui/", res.StatusCode, body)
	}
	if res, _ := do("/v1/sessions", ""); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the API without a token: %d, want 401", res.StatusCode)
	}
}
