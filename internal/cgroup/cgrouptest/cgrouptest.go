// Package cgrouptest creates real cgroups for tests (root only) and starts processes inside
// them. On v1 and hybrid hosts it makes one cgroup per controller (cpu, cpuacct, memory, pids)
// plus one in the cgroup2 mount when there is one; on v2 hosts one cgroup with the controllers
// enabled. Each cgroup is created below the test process's own, so the test stays inside
// whatever confines it, and is removed (its processes killed) at cleanup.
package cgrouptest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
)

// Limits to set on a new cgroup; zero values leave the kernel default (unlimited).
type Limits struct {
	CPUQuotaUsec, CPUPeriodUsec uint64
	MemoryBytes                 uint64
	Pids                        uint64
}

// Group is a set of directories, one per hierarchy, forming one test cgroup.
type Group struct {
	// Dirs are absolute cgroup directories; a process is moved into each.
	Dirs []string
	// Paths maps a controller ("cpu", "memory", "pids", "cpuacct", or "" for the unified
	// hierarchy) to the cgroup path as /proc/<pid>/cgroup shows it.
	Paths  map[string]string
	Layout cgroup.Layout
}

var seq atomic.Int64

const prefix = "otelcol-virt-test-"

// removeStale removes test cgroups left by test processes that were killed before their
// cleanup ran (the kernel refuses to remove one that still has processes, which is fine).
func removeStale(l cgroup.Layout, own map[string]string) {
	var mounts []string
	for c, m := range l.V1 {
		mounts = append(mounts, filepath.Join(m, own[c]))
	}
	if l.Unified != "" {
		mounts = append(mounts, filepath.Join(l.Unified, own[""]), l.Unified)
	}
	for _, dir := range mounts {
		matches, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
		for _, m := range matches {
			pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(m), prefix), "-", 2)[0])
			if err != nil || pid == os.Getpid() {
				continue
			}
			if syscall.Kill(pid, 0) == syscall.ESRCH {
				_ = os.Remove(m)
			}
		}
	}
}

// New creates a cgroup with limits, or skips the test when that is impossible here.
func New(tb testing.TB, limits Limits) *Group {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("creating cgroups needs root")
	}
	l, err := cgroup.Detect("/sys/fs/cgroup")
	if err != nil {
		tb.Skipf("no cgroup filesystem: %v", err)
	}
	own, err := ownPaths()
	if err != nil {
		tb.Skipf("reading /proc/self/cgroup: %v", err)
	}
	name := fmt.Sprintf("%s%d-%d", prefix, os.Getpid(), seq.Add(1))
	removeStale(l, own)
	g := &Group{Paths: map[string]string{}, Layout: l}
	tb.Cleanup(func() { g.remove(tb) })
	mk := func(ctrl, mount string) string {
		rel := filepath.Join(own[ctrl], name)
		dir := filepath.Join(mount, rel)
		if err := os.Mkdir(dir, 0o755); err != nil {
			tb.Skipf("cannot create cgroup %s: %v", dir, err)
		}
		g.Dirs = append(g.Dirs, dir)
		g.Paths[ctrl] = rel
		return dir
	}
	write := func(dir, file string, v string) {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(v), 0o644); err != nil {
			tb.Fatalf("setting %s/%s: %v", dir, file, err)
		}
	}
	if l.Mode == cgroup.ModeV2 {
		// A v2 cgroup holding processes cannot give controllers to children (no internal
		// processes), so the test cgroup goes directly below the root, which is exempt, with
		// the controllers the limits need enabled there.
		own[""] = "/"
		_ = os.WriteFile(filepath.Join(l.Unified, "cgroup.subtree_control"), []byte("+cpu +memory +pids"), 0o644)
		dir := mk("", l.Unified)
		write = func(dir, file string, v string) {
			if err := os.WriteFile(filepath.Join(dir, file), []byte(v), 0o644); err != nil {
				tb.Skipf("cannot set %s/%s (controller not delegated here?): %v", dir, file, err)
			}
		}
		if limits.CPUQuotaUsec > 0 {
			write(dir, "cpu.max", fmt.Sprintf("%d %d", limits.CPUQuotaUsec, period(limits)))
		}
		if limits.MemoryBytes > 0 {
			write(dir, "memory.max", strconv.FormatUint(limits.MemoryBytes, 10))
		}
		if limits.Pids > 0 {
			write(dir, "pids.max", strconv.FormatUint(limits.Pids, 10))
		}
		return g
	}
	seen := map[string]bool{}
	for _, ctrl := range []string{"cpu", "cpuacct", "memory", "pids", "blkio"} {
		mount, ok := l.V1[ctrl]
		if !ok {
			continue
		}
		real, _ := filepath.EvalSymlinks(mount)
		if seen[real] { // co-mounted cpu,cpuacct
			g.Paths[ctrl] = filepath.Join(own[ctrl], name)
			continue
		}
		seen[real] = true
		dir := mk(ctrl, mount)
		switch ctrl {
		case "cpu":
			if limits.CPUQuotaUsec > 0 {
				write(dir, "cpu.cfs_period_us", strconv.FormatUint(period(limits), 10))
				write(dir, "cpu.cfs_quota_us", strconv.FormatUint(limits.CPUQuotaUsec, 10))
			}
		case "memory":
			if limits.MemoryBytes > 0 {
				write(dir, "memory.limit_in_bytes", strconv.FormatUint(limits.MemoryBytes, 10))
			}
		case "pids":
			if limits.Pids > 0 {
				write(dir, "pids.max", strconv.FormatUint(limits.Pids, 10))
			}
		}
	}
	if l.Unified != "" {
		mk("", l.Unified) // hybrid: PSI and cpu.stat live there
	}
	return g
}

func period(l Limits) uint64 {
	if l.CPUPeriodUsec > 0 {
		return l.CPUPeriodUsec
	}
	return 100000
}

// Command returns a command that joins the group before it executes name: a shell writes its
// own pid into every cgroup.procs, then execs, so the program starts inside the cgroup.
func (g *Group) Command(name string, args ...string) *exec.Cmd {
	var script strings.Builder
	for _, d := range g.Dirs {
		fmt.Fprintf(&script, "echo $$ > '%s/cgroup.procs' || exit 97; ", d)
	}
	script.WriteString(`exec "$@"`)
	cmd := exec.Command("/bin/sh", append([]string{"-c", script.String(), "sh", name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// SetLimits writes the non-zero limits over the group's, as a resize by systemd or the kubelet
// does.
func (g *Group) SetLimits(tb testing.TB, limits Limits) {
	tb.Helper()
	write := func(dir, file, v string) {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(v), 0o644); err != nil {
			tb.Fatalf("setting %s/%s: %v", dir, file, err)
		}
	}
	if g.Layout.Mode == cgroup.ModeV2 {
		dir := filepath.Join(g.Layout.Unified, g.Paths[""])
		if limits.CPUQuotaUsec > 0 {
			write(dir, "cpu.max", fmt.Sprintf("%d %d", limits.CPUQuotaUsec, period(limits)))
		}
		if limits.MemoryBytes > 0 {
			write(dir, "memory.max", strconv.FormatUint(limits.MemoryBytes, 10))
		}
		if limits.Pids > 0 {
			write(dir, "pids.max", strconv.FormatUint(limits.Pids, 10))
		}
		return
	}
	in := func(ctrl string) string { return filepath.Join(g.Layout.V1[ctrl], g.Paths[ctrl]) }
	if limits.CPUQuotaUsec > 0 {
		write(in("cpu"), "cpu.cfs_period_us", strconv.FormatUint(period(limits), 10))
		write(in("cpu"), "cpu.cfs_quota_us", strconv.FormatUint(limits.CPUQuotaUsec, 10))
	}
	if limits.MemoryBytes > 0 {
		write(in("memory"), "memory.limit_in_bytes", strconv.FormatUint(limits.MemoryBytes, 10))
	}
	if limits.Pids > 0 {
		write(in("pids"), "pids.max", strconv.FormatUint(limits.Pids, 10))
	}
}

// Pids lists the processes in the group's first hierarchy.
func (g *Group) Pids() []int {
	if len(g.Dirs) == 0 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(g.Dirs[0], "cgroup.procs"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// remove kills what is left in the group and removes its directories.
func (g *Group) remove(tb testing.TB) {
	for _, pid := range g.Pids() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for i := len(g.Dirs) - 1; i >= 0; i-- {
		d := g.Dirs[i]
		var err error
		for try := 0; try < 50; try++ { // the kernel frees a cgroup shortly after its last task exits
			if err = os.Remove(d); err == nil || os.IsNotExist(err) {
				err = nil
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			tb.Logf("cgrouptest: leaving %s behind: %v", d, err)
		}
	}
}

// ownPaths maps each controller ("" for unified) to this process's cgroup path.
func ownPaths() (map[string]string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, sc.Err()
}

// Child creates a cgroup below g in each of its hierarchies, with its own limits (zero: none
// of its own), and removes it before g at cleanup. On v2 the controllers are enabled in g's
// subtree first; g must then hold no processes of its own (the kernel's no-internal-process
// rule).
func (g *Group) Child(tb testing.TB, name string, limits Limits) *Group {
	tb.Helper()
	c := &Group{Paths: map[string]string{}, Layout: g.Layout}
	tb.Cleanup(func() { c.remove(tb) })
	for _, d := range g.Dirs {
		if g.Layout.Mode == cgroup.ModeV2 {
			_ = os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+cpu +memory +pids"), 0o644)
		}
		dir := filepath.Join(d, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			tb.Fatalf("creating %s: %v", dir, err)
		}
		c.Dirs = append(c.Dirs, dir)
		set := func(file, v string) {
			// No O_CREAT: cgroupfs refuses to create a file (EACCES), and a file this
			// hierarchy lacks is simply not set.
			f, err := os.OpenFile(filepath.Join(dir, file), os.O_WRONLY|os.O_TRUNC, 0)
			if os.IsNotExist(err) {
				return
			}
			if err == nil {
				_, err = f.WriteString(v)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				tb.Fatalf("setting %s/%s: %v", dir, file, err)
			}
		}
		// Each directory takes the files of its hierarchy; the others do not exist there.
		if limits.CPUQuotaUsec > 0 {
			set("cpu.cfs_period_us", strconv.FormatUint(period(limits), 10))
			set("cpu.cfs_quota_us", strconv.FormatUint(limits.CPUQuotaUsec, 10))
			set("cpu.max", fmt.Sprintf("%d %d", limits.CPUQuotaUsec, period(limits)))
		}
		if limits.MemoryBytes > 0 {
			set("memory.limit_in_bytes", strconv.FormatUint(limits.MemoryBytes, 10))
			set("memory.max", strconv.FormatUint(limits.MemoryBytes, 10))
		}
		if limits.Pids > 0 {
			set("pids.max", strconv.FormatUint(limits.Pids, 10))
		}
	}
	for ctrl, p := range g.Paths {
		c.Paths[ctrl] = filepath.Join(p, name)
	}
	return c
}
