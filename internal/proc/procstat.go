package proc

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// ParseBootTime returns btime (seconds since the epoch) from /proc/stat.
func ParseBootTime(data []byte) (uint64, error) {
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			n, ok := bytesparse.Atou(bytes.TrimSpace(v))
			if !ok {
				return 0, malformed("stat", "bad btime %q", v)
			}
			return n, nil
		}
	}
	return 0, malformed("stat", "no btime line")
}
