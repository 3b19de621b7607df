package vmstats

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// ProcIO is /proc/<pid>/io (Documentation/filesystems/proc.rst, "IO statistics"). For a VMM
// whose disks are files or block devices it holds, ReadBytes and WriteBytes are the guest's
// disk traffic as it reached the host's storage layer (page-cache hits excluded); Syscr and
// Syscw count read and write system calls (preadv, io_uring submissions are not counted).
type ProcIO struct {
	RChar, WChar          uint64
	Syscr, Syscw          uint64
	ReadBytes, WriteBytes uint64
	CancelledWriteBytes   uint64
}

// ParseProcIO parses /proc/<pid>/io; every one of its seven fields must be present.
func ParseProcIO(data []byte) (ProcIO, error) {
	var p ProcIO
	seen := 0
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		if len(line) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(": "))
		if !ok {
			return p, malformed("io", "line %q", line)
		}
		n, ok := bytesparse.Atou(bytes.TrimSpace(v))
		if !ok {
			return p, malformed("io", "bad %s", k)
		}
		var dst *uint64
		switch string(k) {
		case "rchar":
			dst = &p.RChar
		case "wchar":
			dst = &p.WChar
		case "syscr":
			dst = &p.Syscr
		case "syscw":
			dst = &p.Syscw
		case "read_bytes":
			dst = &p.ReadBytes
		case "write_bytes":
			dst = &p.WriteBytes
		case "cancelled_write_bytes":
			dst = &p.CancelledWriteBytes
		default:
			continue
		}
		*dst = n
		seen++
	}
	if seen != 7 {
		return p, malformed("io", "%d of 7 fields", seen)
	}
	return p, nil
}
