package cgroup

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// PSI holds the "total" stall times of a pressure file, in microseconds.
type PSI struct {
	SomeTotalUsec, FullTotalUsec uint64
	HasFull                      bool
}

// ParsePSI parses cpu.pressure, memory.pressure or io.pressure
// ("some avg10=0.00 avg60=0.00 avg300=0.00 total=N" and an optional "full ..." line).
func ParsePSI(data []byte) (PSI, error) {
	var p PSI
	var buf [6][]byte
	some := false
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		f := bytesparse.Fields(buf[:0], line)
		if len(f) == 0 {
			continue
		}
		var total uint64
		found := false
		for _, kv := range f[1:] {
			if v, ok := bytes.CutPrefix(kv, []byte("total=")); ok {
				n, ok := bytesparse.Atou(v)
				if !ok {
					return p, malformed("pressure", "bad total in %q", line)
				}
				total, found = n, true
			}
		}
		if !found {
			return p, malformed("pressure", "no total in %q", line)
		}
		switch string(f[0]) {
		case "some":
			p.SomeTotalUsec, some = total, true
		case "full":
			p.FullTotalUsec, p.HasFull = total, true
		default:
			return p, malformed("pressure", "unknown line %q", line)
		}
	}
	if !some {
		return p, malformed("pressure", "no some line")
	}
	return p, nil
}
