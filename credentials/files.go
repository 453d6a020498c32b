package credentials

import (
	"encoding/json"
	"os"
	"sync"
	"syscall"
)

// fileKey tells a file's versions apart without reading it: a file written
// in place changes its size or modification time (nanoseconds), one
// replaced by a rename (as the agents save them) its inode.
type fileKey struct {
	size     int64
	mtime    int64 // UnixNano
	ino, dev uint64
}

func keyOf(fi os.FileInfo) fileKey {
	k := fileKey{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		k.ino, k.dev = uint64(st.Ino), uint64(st.Dev)
	}
	return k
}

type parsedFile struct {
	key fileKey
	m   map[string]any
}

// parsed caches the agents' config files by path: a discovery (every
// GET /v1/agents asks one per agent) then costs a stat per file, not an
// open, read and decode. Only the handful of paths Discover knows are ever
// stored.
var parsed sync.Map // path → parsedFile

// readJSON decodes a JSON object file; nil when missing or malformed. The
// map is shared between callers: read it, never change it.
func readJSON(path string) map[string]any {
	if path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		parsed.Delete(path)
		return nil
	}
	key := keyOf(fi)
	if p, ok := parsed.Load(path); ok && p.(parsedFile).key == key {
		return p.(parsedFile).m
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		m = nil
	}
	parsed.Store(path, parsedFile{key: key, m: m})
	return m
}
