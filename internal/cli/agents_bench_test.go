package cli

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkListAgents is GET /v1/agents through the real wiring: every
// agent's binary resolved (install dir, PATH) and credentials discovered.
func BenchmarkListAgents(b *testing.B) {
	srv, stop := buildServer(serverOptions{noToken: true}, discardLogger())
	defer stop()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/agents", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
