package proc

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// CgroupLine is one line of /proc/<pid>/cgroup: "hierarchy-ID:controller-list:path".
type CgroupLine struct {
	HierarchyID int
	// Controllers is empty for the cgroup v2 line ("0::/path") and for named hierarchies it
	// holds "name=systemd".
	Controllers []string
	Path        string
}

// ParseCgroup parses /proc/<pid>/cgroup.
func ParseCgroup(data []byte) ([]CgroupLine, error) {
	var out []CgroupLine
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		if len(line) == 0 {
			continue
		}
		id, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return nil, malformed("cgroup", "line %q has no ':'", line)
		}
		ctrl, path, ok := bytes.Cut(rest, []byte{':'})
		if !ok {
			return nil, malformed("cgroup", "line %q has one ':'", line)
		}
		n, ok := bytesparse.Atoi(id)
		if !ok || n < 0 {
			return nil, malformed("cgroup", "bad hierarchy id %q", id)
		}
		if len(path) == 0 || path[0] != '/' {
			return nil, malformed("cgroup", "path %q is not absolute", path)
		}
		cl := CgroupLine{HierarchyID: int(n), Path: string(path)}
		if len(ctrl) > 0 {
			for _, c := range bytes.Split(ctrl, []byte{','}) {
				cl.Controllers = append(cl.Controllers, string(c))
			}
		}
		out = append(out, cl)
	}
	if len(out) == 0 {
		return nil, malformed("cgroup", "empty")
	}
	return out, nil
}
