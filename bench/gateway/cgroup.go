package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cpuCgroup is a cgroup with a CFS quota, as the kubelet gives a container with a CPU limit:
// cgroup v2 cpu.max where the cpu controller is enabled, else the v1 cpu hierarchy.
type cpuCgroup struct {
	dir string
	v2  bool
}

const cfsPeriod = 100000 // µs, the kubelet's default

func newCPUCgroup(cpus float64) (*cpuCgroup, error) {
	quota := int(cpus * cfsPeriod)
	name := fmt.Sprintf("otelcol-virt-bench-gateway-%d", os.Getpid())
	if ctrl, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && strings.Contains(string(ctrl), "cpu") {
		dir := filepath.Join("/sys/fs/cgroup", name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, err
		}
		c := &cpuCgroup{dir: dir, v2: true}
		return c, os.WriteFile(filepath.Join(dir, "cpu.max"), []byte(fmt.Sprintf("%d %d", quota, cfsPeriod)), 0o644)
	}
	dir := filepath.Join("/sys/fs/cgroup/cpu", name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	c := &cpuCgroup{dir: dir}
	if err := os.WriteFile(filepath.Join(dir, "cpu.cfs_period_us"), []byte(strconv.Itoa(cfsPeriod)), 0o644); err != nil {
		c.remove()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "cpu.cfs_quota_us"), []byte(strconv.Itoa(quota)), 0o644); err != nil {
		c.remove()
		return nil, err
	}
	return c, nil
}

func (c *cpuCgroup) add(pid int) error {
	return os.WriteFile(filepath.Join(c.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
}

// throttled returns nr_throttled of cpu.stat.
func (c *cpuCgroup) throttled() int64 {
	f, err := os.Open(filepath.Join(c.dir, "cpu.stat"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "nr_throttled "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// remove deletes the cgroup once its processes are gone.
func (c *cpuCgroup) remove() { _ = os.Remove(c.dir) }
