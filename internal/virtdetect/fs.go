package virtdetect

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxFileSize bounds every read: the files detection looks at are a few KiB at most, and a
// hostile or broken root must not make the collector read gigabytes.
const maxFileSize = 1 << 20

// FS reads files below a root directory that stands for "/".
type FS struct {
	root string
	// rec, when set, records every path read (Capture uses it to copy exactly the files that
	// detection reads).
	rec *recorder
}

// NewFS returns an FS rooted at root ("" or "/" is the real root).
func NewFS(root string) FS {
	if root == "" {
		root = "/"
	}
	return FS{root: root}
}

// Root returns the directory that stands for "/".
func (f FS) Root() string { return f.root }

// Path returns the real path of an absolute path inside the root.
func (f FS) Path(p string) string { return filepath.Join(f.root, p) }

// ReadFile reads at most maxFileSize bytes of p.
func (f FS) ReadFile(p string) ([]byte, error) {
	f.rec.add(p, accessRead)
	fh, err := os.Open(f.Path(p))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(io.LimitReader(fh, maxFileSize))
}

// ReadString reads p and trims surrounding white space; "" when it cannot be read.
func (f FS) ReadString(p string) string {
	b, err := f.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Exists reports whether p exists (a dangling symlink counts: /.dockerenv may be one).
func (f FS) Exists(p string) bool {
	f.rec.add(p, accessStat)
	_, err := os.Lstat(f.Path(p))
	return err == nil
}

// ReadDir lists the names in directory p; nil when it does not exist.
func (f FS) ReadDir(p string) []string {
	f.rec.add(p, accessList)
	entries, err := os.ReadDir(f.Path(p))
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Readlink returns the target of symlink p, "" when it is not one.
func (f FS) Readlink(p string) string {
	f.rec.add(p, accessLink)
	t, err := os.Readlink(f.Path(p))
	if err != nil {
		return ""
	}
	return t
}

// readable distinguishes "absent" from "present but unreadable" (ACPI tables need root).
func (f FS) readable(p string) (exists, ok bool) {
	f.rec.add(p, accessRead)
	fh, err := os.Open(f.Path(p))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist), false
	}
	fh.Close()
	return true, true
}
