package edgeprofileextension

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The readers below take a root directory (normally "/") so that tests run them on fixture
// trees captured from real systems.

// cgroupCPULimit returns the CPU quota in cores of the process's cgroup (v2 cpu.max, else v1
// cpu.cfs_quota_us / cpu.cfs_period_us); ok is false when there is no limit.
func cgroupCPULimit(root string) (cores float64, ok bool) {
	for _, dir := range cgroupDirs(root, "cpu") {
		if raw, err := os.ReadFile(filepath.Join(dir, "cpu.max")); err == nil {
			if c, ok := parseCPUMax(string(raw)); ok {
				return c, true
			}
			continue
		}
		q, errQ := readInt(filepath.Join(dir, "cpu.cfs_quota_us"))
		p, errP := readInt(filepath.Join(dir, "cpu.cfs_period_us"))
		if errQ == nil && errP == nil && q > 0 && p > 0 {
			return float64(q) / float64(p), true
		}
	}
	return 0, false
}

// parseCPUMax parses cgroup v2 cpu.max: "max 100000" (no limit) or "50000 100000".
func parseCPUMax(s string) (float64, bool) {
	f := strings.Fields(s)
	if len(f) != 2 || f[0] == "max" {
		return 0, false
	}
	// Both are integers in microseconds; parsing as floats would accept NaN and Inf.
	q, err1 := strconv.ParseUint(f[0], 10, 64)
	p, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || q == 0 || p == 0 {
		return 0, false
	}
	return float64(q) / float64(p), true
}

// cgroupMemoryLimit returns the memory limit of the process's cgroup (v2 memory.max, else v1
// memory.limit_in_bytes); ok is false when there is none.
func cgroupMemoryLimit(root string) (uint64, bool) {
	for _, dir := range cgroupDirs(root, "memory") {
		for _, name := range []string{"memory.max", "memory.limit_in_bytes"} {
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			s := strings.TrimSpace(string(raw))
			if s == "max" {
				return 0, false
			}
			v, err := strconv.ParseUint(s, 10, 64)
			// v1 reports "no limit" as a huge page-rounded number.
			if err != nil || v == 0 || v >= 1<<60 {
				return 0, false
			}
			return v, true
		}
	}
	return 0, false
}

// cgroupDirs lists the directories that may hold the process's cgroup files for a controller,
// most specific first: the path from /proc/self/cgroup, then the mount root (a cgroup
// namespace makes the container's own cgroup the root).
func cgroupDirs(root, controller string) []string {
	base := filepath.Join(root, "sys", "fs", "cgroup")
	var dirs []string
	raw, _ := os.ReadFile(filepath.Join(root, "proc", "self", "cgroup"))
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			dirs = append(dirs, filepath.Join(base, parts[2]), filepath.Join(base, "unified", parts[2]))
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				dirs = append(dirs, filepath.Join(base, parts[1], parts[2]), filepath.Join(base, controller, parts[2]))
			}
		}
	}
	return append(dirs, base, filepath.Join(base, controller), filepath.Join(base, "cpu,cpuacct"))
}

// memTotal returns MemTotal from /proc/meminfo in bytes.
func memTotal(root string) (uint64, error) {
	raw, err := os.ReadFile(filepath.Join(root, "proc", "meminfo"))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("MemTotal not found in /proc/meminfo")
}

// meteredUplink reports whether the default route leaves through a link that is usually
// metered: PPP (ARPHRD_PPP), a WWAN modem, or an interface named like one.
func meteredUplink(root string) (bool, string) {
	iface := defaultRouteInterface(root)
	if iface == "" {
		return false, ""
	}
	netDir := filepath.Join(root, "sys", "class", "net", iface)
	if t, err := readInt(filepath.Join(netDir, "type")); err == nil && t == 512 {
		return true, "default route via PPP link " + iface
	}
	if raw, err := os.ReadFile(filepath.Join(netDir, "uevent")); err == nil && bytes.Contains(raw, []byte("DEVTYPE=wwan")) {
		return true, "default route via WWAN modem " + iface
	}
	for _, p := range []string{"ppp", "wwan", "wwp", "rmnet"} {
		if strings.HasPrefix(iface, p) {
			return true, "default route via " + iface
		}
	}
	return false, "default route via " + iface
}

// defaultRouteInterface returns the interface of the IPv4 default route from /proc/net/route.
func defaultRouteInterface(root string) string {
	raw, err := os.ReadFile(filepath.Join(root, "proc", "net", "route"))
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 8 && f[1] == "00000000" && f[7] == "00000000" {
			return f[0]
		}
	}
	return ""
}

func readInt(path string) (int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
}
