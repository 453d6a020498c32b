// Package inspector embeds the built inspector web UI (dist/, built by Vite
// from this directory and committed, so that `go build` needs no Node) and
// serves it. The server mounts Handler under /ui/.
//
// Rebuild dist/ after changing the UI or the TypeScript SDK:
//
//	cd inspector && npm ci && npm run build
//
// scripts/test-inspector.sh fails when the committed dist/ is stale.
package inspector

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Assets returns the built UI's files (index.html and assets/).
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees dist exists
	}
	return sub
}

// Handler serves the UI with its paths relative to the mount point (the
// server strips /ui): files under assets/ are content-hashed and cached for
// a year; every other path that is not a file gets index.html (the app
// routes itself), which is never cached. Clients that accept gzip get the
// compressed bytes, computed once per file.
func Handler() http.Handler { return newHandler(Assets()) }

type handler struct {
	files fs.FS
	mu    sync.Mutex
	cache map[string]*asset
}

type asset struct {
	raw, gz []byte
	ctype   string
	etag    string
}

func newHandler(files fs.FS) *handler {
	return &handler{files: files, cache: map[string]*asset{}}
}

// The embed has no modification times; a fixed one keeps
// If-Modified-Since from matching anything (the ETag does the work).
var modTime = time.Time{}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	immutable := strings.HasPrefix(name, "assets/")
	a, err := h.load(name)
	if err != nil {
		// A missing hashed asset is a real 404 (an old page asking for a
		// build that is gone); any other path is a route of the app, dots
		// and all (/ui/sessions/v1.2).
		if immutable {
			http.NotFound(w, r)
			return
		}
		name, immutable = "index.html", false
		if a, err = h.load(name); err != nil {
			http.Error(w, "the inspector build is missing index.html", http.StatusInternalServerError)
			return
		}
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Vary", "Accept-Encoding")
	if immutable {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	body, tag := a.raw, `"`+a.etag+`"`
	if a.gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body, tag = a.gz, `"`+a.etag+`-gz"`
	}
	hd.Set("ETag", tag)
	http.ServeContent(w, r, name, modTime, bytes.NewReader(body))
}

// load reads and prepares one file once.
func (h *handler) load(name string) (*asset, error) {
	if name == "" || name == "." {
		name = "index.html"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if a, ok := h.cache[name]; ok {
		return a, nil
	}
	raw, err := fs.ReadFile(h.files, name)
	if err != nil {
		return nil, err
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(raw)
	}
	a := &asset{raw: raw, ctype: ctype, etag: etag(raw)}
	if compressible(ctype) && len(raw) > 512 {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		if b.Len() < len(raw) {
			a.gz = b.Bytes()
		}
	}
	h.cache[name] = a
	return a, nil
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") || strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

// acceptsGzip reads Accept-Encoding: gzip (or *) with a q-value above 0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(part, ";")
		enc = strings.TrimSpace(enc)
		if !strings.EqualFold(enc, "gzip") && enc != "*" {
			continue
		}
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		return q > 0
	}
	return false
}

// etag is a strong validator of the content (FNV-1a, enough to tell builds
// apart); the gzip representation gets its own.
func etag(b []byte) string {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return fmt.Sprintf("%016x", h.Sum64())
}
