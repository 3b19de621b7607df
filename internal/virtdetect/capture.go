package virtdetect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// How a path was read, which decides how much of it a capture keeps.
type access int

const (
	accessStat access = iota // existence only
	accessRead               // the whole (bounded) file
	accessHead               // an ACPI table: its 36-byte header
	accessLink               // a symlink's target
	accessList               // a directory's entries
)

type recorder struct {
	mu    sync.Mutex
	paths map[string]access
}

func (r *recorder) add(p string, a access) {
	if r == nil {
		return
	}
	p = path.Clean(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.paths[p]; !ok || a > old {
		r.paths[p] = a
	}
}

// envKeysKept are the only environment variables detection reads; a capture keeps no others
// (an environment holds secrets and machine-specific paths).
var envKeysKept = []string{"container", "KUBERNETES_SERVICE_HOST", krataEnv}

// Capture runs detection on the root of src, recording every path it reads, and copies those
// paths into dst (a fixture's root/): files as read (ACPI tables cut to their headers, process
// environments cut to envKeysKept, mount tables to the mounts detection looks at), symlinks as
// symlinks, directories with their entries. It returns the detection's answer, which a fixture
// built from dst must reproduce.
func Capture(src FS, cpu CPUID, dst string) (Host, error) {
	rec := &recorder{paths: map[string]access{}}
	f := src
	f.rec = rec
	h := Detect(f, cpu)
	rec.mu.Lock()
	paths := make([]string, 0, len(rec.paths))
	for p := range rec.paths {
		paths = append(paths, p)
	}
	rec.mu.Unlock()
	sort.Strings(paths)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return h, err
	}
	var errs []error
	for _, p := range paths {
		if err := copyOne(src, p, rec.paths[p], dst); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
		}
	}
	if err := keepEmptyDirs(dst, rec.paths); err != nil {
		errs = append(errs, err)
	}
	return h, errors.Join(errs...)
}

// keepFile stands, in a capture, for a directory that was there but empty (/proc/xen,
// /sys/bus/pci on a machine without PCI devices): git keeps no empty directory, and a fixture
// checked out from git must give the answer the capture gave.
const keepFile = ".keep"

// keepEmptyDirs makes every empty directory of a capture survive git: one that detection
// listed is removed (no directory lists as no entries, the same answer), any other gets a
// keepFile (detection only asked whether it exists, or it is an entry of a listed directory).
// No directory detection lists is itself an entry of another it lists, so a removal never
// changes a listing.
func keepEmptyDirs(dst string, paths map[string]access) error {
	var dirs []string
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dst {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Deepest first, so that a parent emptied by its child's removal is seen empty too.
	sort.Slice(dirs, func(i, j int) bool {
		return strings.Count(dirs[i], string(filepath.Separator)) > strings.Count(dirs[j], string(filepath.Separator))
	})
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil || len(entries) > 0 {
			continue
		}
		rel, err := filepath.Rel(dst, d)
		if err != nil {
			return err
		}
		if paths["/"+filepath.ToSlash(rel)] == accessList {
			if err := os.Remove(d); err != nil {
				return err
			}
			continue
		}
		if err := os.WriteFile(filepath.Join(d, keepFile), nil, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func copyOne(src FS, p string, a access, dst string) error {
	real := src.Path(p)
	fi, err := os.Lstat(real)
	if err != nil {
		return nil // absent (or hidden from us) is what the fixture must show too
	}
	out := filepath.Join(dst, filepath.FromSlash(strings.TrimPrefix(p, "/")))
	if err := ensureDir(dst, filepath.Dir(out)); err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0 && (a == accessLink || a == accessStat):
		t, err := os.Readlink(real)
		if err != nil {
			return nil
		}
		_ = os.Remove(out)
		return os.Symlink(t, out)
	case a == accessList:
		return copyDir(real, out)
	}
	st, err := os.Stat(real)
	if err != nil {
		return nil
	}
	if st.IsDir() {
		return os.MkdirAll(out, 0o755)
	}
	if a == accessStat {
		// Existence is all detection asks: an empty file stands for it (/.dockerenv is empty).
		return writeFile(out, nil)
	}
	b, err := readBounded(real, a)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil // unreadable here: absent in the fixture, as detection saw it
		}
		return err
	}
	return writeFile(out, sanitize(p, b))
}

// ensureDir makes dir inside dst. A component that is already a copied symlink (a PCI device
// in /sys/bus/pci/devices) is kept, and its target is made inside dst, so that both the link and
// the files below it are in the fixture.
func ensureDir(dst, dir string) error {
	rel, err := filepath.Rel(dst, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("%s is outside %s", dir, dst)
	}
	cur := dst
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if part == "." {
			continue
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		switch {
		case err != nil:
			if err := os.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(cur)
			if err != nil {
				return err
			}
			if filepath.IsAbs(t) {
				t = filepath.Join(dst, t)
			} else {
				t = filepath.Join(filepath.Dir(cur), t)
			}
			if r, err := filepath.Rel(dst, t); err != nil || strings.HasPrefix(r, "..") {
				return fmt.Errorf("link %s points outside the capture", cur)
			}
			if err := os.MkdirAll(t, 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

func readBounded(p string, a access) ([]byte, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	limit := int64(maxFileSize)
	if a == accessHead {
		limit = 36
	}
	return io.ReadAll(io.LimitReader(fh, limit))
}

// copyDir recreates a directory's entries: subdirectories empty, symlinks as symlinks, small
// regular files with their contents (device tree properties, ACPI table names).
func copyDir(real, out string) error {
	if fi, err := os.Lstat(out); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil // a listed directory that is a link: kept as the link
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(real)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		src, dst := filepath.Join(real, e.Name()), filepath.Join(out, e.Name())
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			if t, err := os.Readlink(src); err == nil {
				_ = os.Remove(dst)
				if err := os.Symlink(t, dst); err != nil {
					return err
				}
			}
		case e.IsDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		default:
			if _, err := os.Stat(dst); err == nil {
				continue // already copied as read
			}
			b, err := readBounded(src, accessHead)
			if err != nil {
				b = nil
			}
			if err := writeFile(dst, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeFile(p string, b []byte) error {
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Size() >= int64(len(b)) {
		return nil // a fuller copy is already there
	}
	return os.WriteFile(p, b, 0o644)
}

// sanitize keeps only what detection reads from files that carry more.
func sanitize(p string, b []byte) []byte {
	switch path.Base(p) {
	case "environ":
		var out []byte
		env := ParseEnviron(b)
		for _, k := range envKeysKept {
			if v, ok := env[k]; ok {
				out = append(out, k+"="+v+"\x00"...)
			}
		}
		return out
	case "mounts":
		var out bytes.Buffer
		for _, line := range strings.SplitAfter(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && relevantMount(Mount{Source: f[0], Target: f[1], FSType: f[2]}) {
				if len(f) >= 4 {
					f[3] = overlayOptions(f[3])
				}
				out.WriteString(strings.Join(f, " ") + "\n")
			}
		}
		return out.Bytes()
	case "status":
		var out []byte
		for _, line := range strings.SplitAfter(string(b), "\n") {
			for _, k := range []string{"Name:", "Pid:", "PPid:", "TracerPid:"} {
				if strings.HasPrefix(line, k) {
					out = append(out, line...)
				}
			}
		}
		return out
	case "cmdline":
		if strings.HasPrefix(p, "/proc/") && strings.Count(p, "/") > 2 {
			return nil // a process's command line: not read by detection
		}
	}
	return b
}

// overlayOptions drops the layer directories of an overlay's options: they are paths of the
// capturing machine (an engine's storage), and detection reads only krata's lowerdir.
func overlayOptions(opts string) string {
	kept := make([]string, 0, 4)
	for _, o := range strings.Split(opts, ",") {
		k, _, _ := strings.Cut(o, "=")
		switch k {
		case "lowerdir", "upperdir", "workdir":
			if !strings.HasPrefix(o, krataLowerDir) {
				continue
			}
		}
		kept = append(kept, o)
	}
	return strings.Join(kept, ",")
}

// relevantMount reports whether detection looks at a mount: the root, krata's image and config
// mounts, Kata's shared directory.
func relevantMount(m Mount) bool {
	switch {
	case m.Target == "/", m.Target == "/image", m.Target == "/config", engineBindMounts[m.Target]:
		return true
	case m.Source == "kataShared", strings.HasPrefix(m.Target, "/run/kata-containers"):
		return true
	}
	return false
}
