package skills

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// locks serializes work on one cache directory (or one session directory)
// across concurrent Install calls in this process: two sessions fetching the
// same repository must not wipe each other's checkout half-way.
// Entries are never removed: one small channel per distinct cache or
// session directory seen by this process.
var locks sync.Map // string → chan struct{} (capacity 1)

// lock takes the lock for key, or gives up when ctx ends.
func lock(ctx context.Context, key string) (unlock func(), err error) {
	v, _ := locks.LoadOrStore(key, make(chan struct{}, 1))
	ch := v.(chan struct{})
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// locked runs fetch under dest's lock. On success the lock stays held in the
// returned root until the caller has discovered the skills (root.release),
// so a concurrent refresh of the same source cannot swap the tree mid-scan.
func locked(ctx context.Context, dest string, fetch func() (root, error)) (root, error) {
	unlock, err := lock(ctx, dest)
	if err != nil {
		return root{}, err
	}
	held := false
	defer func() {
		if !held {
			unlock()
		}
	}()
	r, err := fetch()
	if err != nil {
		return root{}, err
	}
	held = true
	r.release = unlock
	return r, nil
}

// refresh has fill write a fresh copy of dest into a temporary sibling and
// swaps it in, so a failed fetch never leaves a half-written tree where the
// last good one was.
func refresh(dest string, fill func(tmp string) error) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+"-*")
	if err != nil {
		return fsFailed("create a temporary directory", err)
	}
	defer os.RemoveAll(tmp)
	if err := fill(tmp); err != nil {
		return err
	}
	return swapIn(tmp, dest)
}

// swapIn replaces dest with the directory tmp. The old tree is moved aside
// before the new one is renamed in and only then deleted, so dest is missing
// for the time of two renames rather than a recursive delete: links other
// sessions hold into dest keep resolving.
func swapIn(tmp, dest string) error {
	trash, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+"-old-*")
	if err != nil {
		return fsFailed("create a temporary directory", err)
	}
	defer os.RemoveAll(trash)
	if err := os.Rename(dest, filepath.Join(trash, "old")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fsFailed("move "+dest+" aside", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fsFailed("move a fresh copy into "+dest, err)
	}
	return nil
}
