package virtdetect

import (
	"bufio"
	"bytes"
	"strings"
)

// CgroupLine is one line of /proc/<pid>/cgroup: "hierarchy-id:controllers:path".
type CgroupLine struct {
	HierarchyID string
	Controllers []string
	Path        string
}

// ParseProcCgroup parses /proc/<pid>/cgroup; malformed lines are skipped.
func ParseProcCgroup(b []byte) []CgroupLine {
	var out []CgroupLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		var ctrl []string
		if parts[1] != "" {
			ctrl = strings.Split(parts[1], ",")
		}
		out = append(out, CgroupLine{HierarchyID: parts[0], Controllers: ctrl, Path: parts[2]})
	}
	return out
}

// PreferredCgroupPath picks the path that best identifies a workload: the unified (v2) entry
// when it is not the root, else the first non-root v1 path, trying the controllers that
// container engines always set first.
func PreferredCgroupPath(lines []CgroupLine) string {
	for _, l := range lines {
		if l.HierarchyID == "0" && l.Path != "/" {
			return l.Path
		}
	}
	for _, want := range []string{"pids", "memory", "cpu", "name=systemd"} {
		for _, l := range lines {
			for _, c := range l.Controllers {
				if c == want && l.Path != "/" {
					return l.Path
				}
			}
		}
	}
	for _, l := range lines {
		if l.Path != "/" {
			return l.Path
		}
	}
	return ""
}
