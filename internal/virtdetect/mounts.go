package virtdetect

import (
	"bufio"
	"bytes"
	"strings"
)

// HasOption reports whether the comma-separated options contain opt (or opt=...).
func (m Mount) HasOption(opt string) bool {
	for _, o := range strings.Split(m.Options, ",") {
		if o == opt || strings.HasPrefix(o, opt+"=") {
			return true
		}
	}
	return false
}

// Mount is one line of /proc/mounts.
type Mount struct{ Source, Target, FSType, Options string }

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
		m := Mount{Source: f[0], Target: f[1], FSType: f[2]}
		if len(f) > 3 {
			m.Options = f[3]
		}
		out = append(out, m)
	}
	return out
}
