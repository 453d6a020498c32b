package server

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sandbox-agent/sandbox-agent/problem"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// maxBatchPaths is how many extracted paths upload-batch reports.
const maxBatchPaths = 1024

// extractTar unpacks a tar stream into base (created if missing) as it
// arrives, never holding more than one buffer of it in memory. A stream
// that starts with the gzip magic is gunzipped first (the reference's
// OpenAPI promised tar.gz; its code only took plain tar). max caps the
// request body and, for gzip, the unpacked bytes too (0: no cap).
//
// Nothing in the archive may land outside base: entry names are cleaned
// like relative paths ("..", roots → 400), all writes go through an
// os.Root so that no symlink (from the archive or already on disk) is
// followed out of base, symlink targets are checked against the real
// location of the link, and hard links may only name entries inside base.
func extractTar(fsys fileSystem, body io.Reader, base string, max int64) (schema.FsUploadBatchResponse, error) {
	out := schema.FsUploadBatchResponse{Paths: []string{}}
	src := &uploadReader{r: body, max: max}
	br := bufio.NewReaderSize(src, 64<<10)
	var in io.Reader = br
	var unz *uploadReader
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if e := src.failure(); e != nil {
				return out, e
			}
			return out, problem.Invalid("invalid gzip stream: %v", err).With("field", "body")
		}
		defer zr.Close()
		unz = &uploadReader{r: zr, max: max}
		in = unz
	}
	// readFailure blames a failed read on the body, the gzip layer or the
	// tar format, in that order.
	readFailure := func(err error) error {
		if e := src.failure(); e != nil {
			return e
		}
		if unz != nil {
			if e := unz.failure(); e != nil {
				return e
			}
		}
		return problem.Invalid("invalid tar archive: %v", err).With("field", "body")
	}

	if err := fsys.MkdirAll(base, 0o777); err != nil {
		return out, fsError(base, err)
	}
	baseReal, err := fsys.EvalSymlinks(base)
	if err != nil {
		return out, fsError(base, err)
	}
	root, err := fsys.OpenRoot(base)
	if err != nil {
		return out, fsError(base, err)
	}
	defer root.Close()

	x := &extractor{root: root, real: baseReal}
	tr := tar.NewReader(in)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, readFailure(err)
		}
		name, ok := cleanRelative(hdr.Name)
		if !ok {
			return out, badEntry(hdr.Name, "invalid relative path: %s", hdr.Name)
		}
		if name == "" {
			continue
		}
		dest := joinName(base, name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(name, 0o777)
		case tar.TypeReg, tar.TypeGNUSparse:
			data := &uploadReader{r: tr}
			err = x.file(name, data, fs.FileMode(hdr.Mode)&0o777)
			if err != nil && data.err != nil {
				return out, readFailure(data.err)
			}
		case tar.TypeSymlink:
			err = x.symlink(hdr.Name, name, hdr.Linkname)
		case tar.TypeLink:
			err = x.hardlink(hdr.Name, name, hdr.Linkname)
		default:
			// Devices, FIFOs and the like are not files an agent needs.
			continue
		}
		if err != nil {
			if isEscape(err) {
				return out, badEntry(hdr.Name, "tar entry escapes destination: %s", hdr.Name)
			}
			return out, fsError(dest, err)
		}
		if len(out.Paths) < maxBatchPaths {
			out.Paths = append(out.Paths, dest)
		} else {
			out.Truncated = true
		}
	}
}

// extractor writes archive entries inside root, whose real (symlink-free)
// path is real.
type extractor struct {
	root *os.Root
	real string
}

func (x *extractor) file(name string, r io.Reader, perm fs.FileMode) error {
	if perm == 0 {
		perm = 0o666
	}
	if err := x.root.MkdirAll(filepath.Dir(name), 0o777); err != nil {
		return err
	}
	_, err := writeAtomic(x.root, name, r, perm, nil)
	return err
}

func (x *extractor) symlink(entry, name, target string) error {
	if err := x.checkTarget(entry, name, target); err != nil {
		return err
	}
	if err := x.clear(entry, name); err != nil {
		return err
	}
	return x.root.Symlink(target, name)
}

func (x *extractor) hardlink(entry, name, linkname string) error {
	old, ok := cleanRelative(linkname)
	if !ok || old == "" {
		return escapes(entry, linkname)
	}
	fi, err := x.root.Lstat(old)
	if err != nil {
		return err
	}
	switch {
	case fi.IsDir():
		return badEntry(entry, "tar entry %s is a hard link to a directory: %s", entry, linkname)
	case fi.Mode()&fs.ModeSymlink != 0:
		// A hard link to a symlink is a copy of it at another place, where
		// its relative target means something else: check it again.
		target, err := x.root.Readlink(old)
		if err != nil {
			return err
		}
		if err := x.checkTarget(entry, name, target); err != nil {
			return err
		}
	}
	if err := x.clear(entry, name); err != nil {
		return err
	}
	return x.root.Link(old, name)
}

// clear makes room for a link: an existing file or link is replaced, an
// existing directory is a conflict.
func (x *extractor) clear(entry, name string) error {
	if err := x.root.MkdirAll(filepath.Dir(name), 0o777); err != nil {
		return err
	}
	fi, err := x.root.Lstat(name)
	if err != nil {
		return nil
	}
	if fi.IsDir() {
		return badEntry(entry, "tar entry %s would replace a directory", entry)
	}
	return x.root.Remove(name)
}

// checkTarget accepts a symlink target only if it resolves inside the
// destination from where the link really is. Targets are relative, with
// ".." allowed only as leading components: a ".." after a name could step
// back out of a directory that is itself a symlink (or becomes one later in
// the archive), which no lexical check can see through.
func (x *extractor) checkTarget(entry, name, target string) error {
	if target == "" || filepath.IsAbs(target) || strings.HasPrefix(target, "/") {
		return escapes(entry, target)
	}
	up, named := 0, false
	for _, c := range strings.FieldsFunc(target, isSep) {
		switch c {
		case ".":
		case "..":
			if named {
				return badEntry(entry, "tar entry %s: a symlink target may use .. only at its start: %s", entry, target)
			}
			up++
		default:
			named = true
		}
	}
	if up == 0 {
		return nil
	}
	parent := filepath.Dir(name)
	if err := x.root.MkdirAll(parent, 0o777); err != nil {
		return err
	}
	realParent, err := filepath.EvalSymlinks(filepath.Join(x.real, parent))
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(x.real, realParent)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return escapes(entry, target)
	}
	depth := 0
	if rel != "." {
		depth = len(strings.Split(rel, string(filepath.Separator)))
	}
	if up > depth {
		return escapes(entry, target)
	}
	return nil
}

func escapes(entry, target string) error {
	return badEntry(entry, "tar entry escapes destination: %s -> %s", entry, target)
}

// badEntry is a 400 about one archive entry, naming it.
func badEntry(entry, format string, args ...any) error {
	return problem.Invalid(format, args...).With("field", "body").With("entry", entry)
}
