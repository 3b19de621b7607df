package proc

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// Status is the part of /proc/<pid>/status the receiver uses.
type Status struct {
	VoluntaryCtxtSwitches    uint64
	NonvoluntaryCtxtSwitches uint64
	// VmRSS in bytes (the file says kB).
	VmRSS uint64
	// InnermostPID is the last NSpid field: the process's pid in its own pid namespace, which
	// is the numbering of every pid it reads (cgroup.procs); 0 without an NSpid line.
	InnermostPID uint64
}

// ParseStatus parses /proc/<pid>/status; missing keys stay zero (kernel threads have no VmRSS).
func ParseStatus(data []byte) (Status, error) {
	var st Status
	seen := false
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		var dst *uint64
		kb := false
		switch string(k) {
		case "voluntary_ctxt_switches":
			dst = &st.VoluntaryCtxtSwitches
		case "nonvoluntary_ctxt_switches":
			dst = &st.NonvoluntaryCtxtSwitches
		case "VmRSS":
			dst, kb = &st.VmRSS, true
		case "NSpid":
			// Tab-separated, outermost namespace first.
			v = bytes.TrimSpace(v)
			if i := bytes.LastIndexAny(v, " \t"); i >= 0 {
				v = v[i+1:]
			}
			n, ok := bytesparse.Atou(v)
			if !ok {
				return st, malformed("status", "bad NSpid value %q", v)
			}
			st.InnermostPID = n
			continue
		default:
			continue
		}
		v = bytes.TrimSpace(v)
		if kb {
			v = bytes.TrimSpace(bytes.TrimSuffix(v, []byte("kB")))
		}
		n, ok := bytesparse.Atou(v)
		if !ok {
			return st, malformed("status", "bad %s value %q", k, v)
		}
		if kb {
			n *= 1024
		}
		*dst = n
		seen = true
	}
	if !seen {
		return st, malformed("status", "no context switch or VmRSS line")
	}
	return st, nil
}
