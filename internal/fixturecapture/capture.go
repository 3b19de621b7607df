// Package fixturecapture copies what the wasm_runtime receiver reads about some live processes
// into a fixture root (proc/ and sys/fs/cgroup/ in miniature): their /proc files, those of their
// threads, and the cgroup directories they are in, with the ancestors' limit files and the
// descendants' (a runtime's sub-cgroups). The receiver then reads the fixture as it read the
// host, so a live test and its fixture can be compared. Links (exe, ns/net, fd/N) are recreated
// as links to the same targets; files larger than 1 MiB and unreadable ones are left out. The
// ORIGIN file records what ran, the kernel and the date.
package fixturecapture

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
)

// procFiles are the per-process and per-thread files the receiver reads.
var procFiles = []string{"stat", "status", "cmdline", "comm", "cgroup", "limits", "io", "net/tcp", "net/tcp6", "net/dev", "mountinfo"}

const maxFile = 1 << 20

// Capture writes the fixture.
func Capture(out, origin, procRoot, cgRoot string, pids []int) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; capture into a new directory", out)
	}
	if err := copyFile(filepath.Join(procRoot, "stat"), filepath.Join(out, "proc", "stat")); err != nil {
		return err
	}
	cgDirs := map[string]bool{} // directories under cgRoot to copy
	for _, pid := range pids {
		src := filepath.Join(procRoot, strconv.Itoa(pid))
		dst := filepath.Join(out, "proc", strconv.Itoa(pid))
		if _, err := os.Stat(src); err != nil {
			return fmt.Errorf("pid %d: %w", pid, err)
		}
		for _, f := range procFiles {
			_ = copyFile(filepath.Join(src, f), filepath.Join(dst, f))
		}
		for _, l := range []string{"exe", "ns/net", "cwd"} {
			_ = copyLink(filepath.Join(src, l), filepath.Join(dst, l))
		}
		if ents, err := os.ReadDir(filepath.Join(src, "fd")); err == nil {
			for _, e := range ents {
				_ = copyLink(filepath.Join(src, "fd", e.Name()), filepath.Join(dst, "fd", e.Name()))
			}
		}
		if ents, err := os.ReadDir(filepath.Join(src, "task")); err == nil {
			for _, e := range ents {
				for _, f := range []string{"stat", "comm", "cgroup", "schedstat"} {
					_ = copyFile(filepath.Join(src, "task", e.Name(), f), filepath.Join(dst, "task", e.Name(), f))
				}
				if b, err := os.ReadFile(filepath.Join(src, "task", e.Name(), "cgroup")); err == nil {
					addCgroupDirs(cgRoot, b, cgDirs)
				}
			}
		}
		if b, err := os.ReadFile(filepath.Join(src, "cgroup")); err == nil {
			addCgroupDirs(cgRoot, b, cgDirs)
		}
	}
	// The hierarchies' roots tell the layout (cgroup.controllers, cgroup.procs).
	for _, m := range mounts(cgRoot) {
		rel, _ := filepath.Rel(cgRoot, m)
		for _, f := range []string{"cgroup.controllers", "cgroup.procs", "cgroup.subtree_control"} {
			_ = copyFile(filepath.Join(m, f), filepath.Join(out, "sys", "fs", "cgroup", rel, f))
		}
	}
	for d := range cgDirs {
		rel, _ := filepath.Rel(cgRoot, d)
		if err := copyDirFiles(d, filepath.Join(out, "sys", "fs", "cgroup", rel)); err != nil {
			return err
		}
	}
	// Symlinked v1 mounts (cpu -> cpu,cpuacct).
	if ents, err := os.ReadDir(cgRoot); err == nil {
		for _, e := range ents {
			if e.Type()&os.ModeSymlink != 0 {
				_ = copyLink(filepath.Join(cgRoot, e.Name()), filepath.Join(out, "sys", "fs", "cgroup", e.Name()))
			}
		}
	}
	uname, _ := os.ReadFile(filepath.Join(procRoot, "sys", "kernel", "osrelease"))
	text := fmt.Sprintf("Captured %s from a live host (Linux %s) by internal/fixturecapture.\n%s\n",
		time.Now().UTC().Format("2006-01-02"), strings.TrimSpace(string(uname)), strings.TrimSpace(origin))
	return os.WriteFile(filepath.Join(out, "ORIGIN"), []byte(text), 0o644)
}

// mounts are the hierarchy roots under cgRoot: itself on v2, each controller on v1, unified/.
func mounts(cgRoot string) []string {
	if _, err := os.Stat(filepath.Join(cgRoot, "cgroup.controllers")); err == nil {
		return []string{cgRoot}
	}
	var out []string
	ents, _ := os.ReadDir(cgRoot)
	for _, e := range ents {
		p := filepath.Join(cgRoot, e.Name())
		if _, err := os.Stat(filepath.Join(p, "cgroup.procs")); err == nil && e.IsDir() {
			out = append(out, p)
		}
	}
	return out
}

// addCgroupDirs adds, for each line of a /proc/<pid>/cgroup, the cgroup's directory with its
// ancestors and descendants.
func addCgroupDirs(cgRoot string, data []byte, dirs map[string]bool) {
	paths, err := cgroup.ParsePaths(data)
	if err != nil {
		return
	}
	add := func(mount, p string) {
		if p == "" || p == "/" || strings.Contains(p, "..") {
			return
		}
		d := filepath.Join(mount, p)
		for a := d; a != mount && strings.HasPrefix(a, mount); a = filepath.Dir(a) {
			dirs[a] = true
		}
		for _, sub := range cgroup.Subtree(nil, d, 256, 8) {
			dirs[sub] = true
		}
	}
	if _, err := os.Stat(filepath.Join(cgRoot, "cgroup.controllers")); err == nil {
		add(cgRoot, paths.Unified)
		return
	}
	for c := range cgroup.NumControllers {
		m := filepath.Join(cgRoot, c.Name())
		if real, err := filepath.EvalSymlinks(m); err == nil {
			m = real
		}
		add(m, paths.V1[c])
	}
	add(filepath.Join(cgRoot, "unified"), paths.Unified)
	add(filepath.Join(cgRoot, "systemd"), paths.Named)
}

// copyDirFiles copies the regular files of a cgroup directory (not its subdirectories).
func copyDirFiles(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // gone since
		}
		return err
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			_ = copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
		}
	}
	return os.MkdirAll(dst, 0o755)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if len(b) > maxFile {
		return fmt.Errorf("%s: larger than %d bytes", src, maxFile)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

func copyLink(src, dst string) error {
	target, err := os.Readlink(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.Symlink(target, dst)
}
