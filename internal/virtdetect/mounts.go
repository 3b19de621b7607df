package virtdetect

import (
	"bufio"
	"bytes"
	"strings"
)

// Mount is one line of /proc/mounts.
type Mount struct{ Source, Target, FSType string }

// ParseMounts parses /proc/mounts (or /proc/<pid>/mounts); malformed lines are skipped.
func ParseMounts(b []byte) []Mount {
	var out []Mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 256<<10)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		out = append(out, Mount{Source: f[0], Target: f[1], FSType: f[2]})
	}
	return out
}
