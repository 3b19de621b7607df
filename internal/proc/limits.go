package proc

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// Unlimited is returned for a limit the kernel reports as "unlimited".
const Unlimited = ^uint64(0)

// ParseOpenFilesLimit returns the soft "Max open files" limit of /proc/<pid>/limits, or
// Unlimited.
func ParseOpenFilesLimit(data []byte) (uint64, error) {
	const key = "Max open files"
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return 0, malformed("limits", "no %q line", key)
	}
	line, _ := bytesparse.NextLine(data[i+len(key):])
	var buf [4][]byte
	f := bytesparse.Fields(buf[:0], line)
	if len(f) < 1 {
		return 0, malformed("limits", "no soft limit on %q line", key)
	}
	if string(f[0]) == "unlimited" {
		return Unlimited, nil
	}
	n, ok := bytesparse.Atou(f[0])
	if !ok {
		return 0, malformed("limits", "bad soft limit %q", f[0])
	}
	return n, nil
}
