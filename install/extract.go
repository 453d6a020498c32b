package install

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// picker maps an archive member path to a destination path relative to the
// extraction root, or reports false to skip the member.
type picker func(member string) (string, bool)

// stripTop removes the first path component ("package/" in npm tarballs).
func stripTop(name string) string {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	_, rest, ok := strings.Cut(name, "/")
	if !ok {
		return ""
	}
	return rest
}

// unpackTarGz extracts the picked members of the gzip'd tar at src under
// root and returns how many regular files it wrote.
func unpackTarGz(src, root string, pick picker) (int, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("not a gzip archive: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	files := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return files, fmt.Errorf("read archive: %w", err)
		}
		rel, ok := pick(hdr.Name)
		if !ok || rel == "" {
			continue
		}
		dst, err := within(root, rel)
		if err != nil {
			return files, err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return files, err
			}
		case tar.TypeReg: // the reader reports old-style TypeRegA as TypeReg
			if err := writeFile(dst, tr, hdr.FileInfo().Mode().Perm()); err != nil {
				return files, err
			}
			files++
		case tar.TypeSymlink:
			target := filepath.FromSlash(hdr.Linkname)
			if filepath.IsAbs(target) || !filepath.IsLocal(filepath.Join(filepath.Dir(filepath.FromSlash(rel)), target)) {
				return files, fmt.Errorf("archive member %s links outside the package (%s)", hdr.Name, hdr.Linkname)
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return files, err
			}
			os.Remove(dst)
			if err := os.Symlink(target, dst); err != nil {
				return files, err
			}
		case tar.TypeLink:
			lrel, ok := pick(hdr.Linkname)
			if !ok {
				continue
			}
			old, err := within(root, lrel)
			if err != nil {
				return files, err
			}
			os.Remove(dst)
			if err := os.Link(old, dst); err != nil {
				return files, err
			}
			files++
		}
	}
}

// unpackZip is unpackTarGz for zip archives (macOS OpenCode releases).
func unpackZip(src, root string, pick picker) (int, error) {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return 0, fmt.Errorf("not a zip archive: %w", err)
	}
	defer zr.Close()
	files := 0
	for _, zf := range zr.File {
		rel, ok := pick(zf.Name)
		if !ok || rel == "" || zf.FileInfo().IsDir() {
			continue
		}
		dst, err := within(root, rel)
		if err != nil {
			return files, err
		}
		rc, err := zf.Open()
		if err != nil {
			return files, err
		}
		mode := zf.Mode().Perm()
		if mode == 0 {
			mode = 0o755
		}
		err = writeFile(dst, rc, mode)
		rc.Close()
		if err != nil {
			return files, err
		}
		files++
	}
	return files, nil
}

// within joins rel to root, refusing paths that leave root.
func within(root, rel string) (string, error) {
	rel = filepath.FromSlash(rel)
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("archive member path %q leaves the package", rel)
	}
	return filepath.Join(root, rel), nil
}

func writeFile(dst string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	os.Remove(dst)
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyFile copies src to dst (a new file) with mode.
func copyFile(src, dst string, mode os.FileMode) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return writeFile(dst, f, mode)
}

var errNoBinary = errors.New("binary not found in archive")
