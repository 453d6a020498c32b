package inspector

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// testFiles is a build as Vite lays it out.
var testFiles = fstest.MapFS{
	"index.html":            {Data: []byte(`<!doctype html><script type="module" src="/ui/assets/index-abc.js"></script>` + strings.Repeat(" ", 600))},
	"assets/index-abc.js":   {Data: []byte("console.log(1);" + strings.Repeat("x", 2000))},
	"assets/index-abc.css":  {Data: []byte("body{}")},
	"assets/logo-abc.svg":   {Data: []byte("<svg/>")},
	"assets/font-abc.woff2": {Data: []byte{0, 1, 2}},
	"robots.txt":            {Data: []byte("User-agent: *")},
}

func get(t *testing.T, h http.Handler, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServesFilesWithTypesAndCaching(t *testing.T) {
	h := newHandler(testFiles)
	for _, tc := range []struct{ path, ctype, cache string }{
		{"/", "text/html; charset=utf-8", "no-cache"},
		{"/index.html", "text/html; charset=utf-8", "no-cache"},
		{"/assets/index-abc.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/assets/index-abc.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/assets/logo-abc.svg", "image/svg+xml", "public, max-age=31536000, immutable"},
		{"/assets/font-abc.woff2", "font/woff2", "public, max-age=31536000, immutable"},
		{"/robots.txt", "text/plain; charset=utf-8", "no-cache"},
	} {
		r := get(t, h, tc.path)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != tc.ctype || r.Header.Get("Cache-Control") != tc.cache {
			t.Errorf("GET %s: %d %q %q; want 200 %q %q", tc.path, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"), tc.ctype, tc.cache)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", tc.path)
		}
	}
}

// TestSPAFallback: app routes get index.html; a missing hashed asset is a
// 404, not HTML a script tag would choke on.
func TestSPAFallback(t *testing.T) {
	h := newHandler(testFiles)
	for _, p := range []string{"/sessions/abc", "/sessions/v1.2", "/deep/link/x", "/../../etc/passwd"} {
		r := get(t, h, p)
		if r.StatusCode != 200 || !strings.Contains(body(t, r), "<!doctype html>") || r.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: %d, want index.html", p, r.StatusCode)
		}
	}
	for _, p := range []string{"/assets/index-old.js", "/assets/missing"} {
		if r := get(t, h, p); r.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, r.StatusCode)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d allow %q, want 405", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestGzip(t *testing.T) {
	h := newHandler(testFiles)
	want, _ := fs.ReadFile(testFiles, "assets/index-abc.js")
	plain := get(t, h, "/assets/index-abc.js")
	if plain.Header.Get("Content-Encoding") != "" || body(t, plain) != string(want) {
		t.Fatal("a client without Accept-Encoding got compressed or wrong bytes")
	}
	for _, ae := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*"} {
		r := get(t, h, "/assets/index-abc.js", "Accept-Encoding", ae)
		if r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("Accept-Encoding %q: encoding %q", ae, r.Header.Get("Content-Encoding"))
		}
		if r.Header.Get("ETag") == plain.Header.Get("ETag") {
			t.Fatal("the gzip representation shares the plain one's ETag")
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		if !bytes.Equal(got, want) {
			t.Fatal("gzip body does not decompress to the file")
		}
	}
	if r := get(t, h, "/assets/index-abc.js", "Accept-Encoding", "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}
	// Too small to gain anything: sent as is.
	if r := get(t, h, "/assets/index-abc.css", "Accept-Encoding", "gzip"); r.Header.Get("Content-Encoding") != "" {
		t.Error("a 6-byte file was compressed")
	}
}

func TestConditionalGet(t *testing.T) {
	h := newHandler(testFiles)
	r := get(t, h, "/assets/index-abc.js")
	tag := r.Header.Get("ETag")
	if tag == "" {
		t.Fatal("no ETag")
	}
	if r := get(t, h, "/assets/index-abc.js", "If-None-Match", tag); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: %d, want 304", r.StatusCode)
	}
}

// TestEmbeddedBuild checks the committed build that the binary serves: an
// index.html whose scripts and styles all exist under assets/, and no
// source maps.
func TestEmbeddedBuild(t *testing.T) {
	files := Assets()
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		t.Fatalf("the embedded build has no index.html: %v", err)
	}
	refs := 0
	for _, part := range strings.Split(string(index), `"/ui/`)[1:] {
		name := part[:strings.IndexByte(part, '"')]
		if _, err := fs.Stat(files, name); err != nil {
			t.Errorf("index.html references %s, which is not in the build", name)
		}
		refs++
	}
	if refs < 2 {
		t.Errorf("index.html references %d assets under /ui/; want the script and the stylesheet", refs)
	}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if strings.HasSuffix(p, ".map") {
			t.Errorf("source map in the embedded build: %s", p)
		}
		return err
	})
	r := get(t, Handler(), "/", "Accept-Encoding", "gzip")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("GET / of the embedded build: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
}
