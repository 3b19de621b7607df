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

// procIOKeys are the lines of /proc/<pid>/io in the kernel's order (fs/proc/base.c,
// do_io_accounting).
var procIOKeys = [7]string{"rchar: ", "wchar: ", "syscr: ", "syscw: ", "read_bytes: ", "write_bytes: ", "cancelled_write_bytes: "}

// ParseProcIO parses /proc/<pid>/io; every one of its seven fields must be present.
func ParseProcIO(data []byte) (ProcIO, error) {
	// The kernel's layout is scanned in one pass; any other (reordered, padded, extended)
	// takes the general parser.
	var v [7]uint64
	i := 0
	for k, key := range procIOKeys {
		if len(data)-i < len(key) || string(data[i:i+len(key)]) != key {
			return parseProcIOLines(data)
		}
		var ok bool
		if v[k], i, ok = bytesparse.ScanUint(data, i+len(key)); !ok || i == len(data) || data[i] != '\n' {
			return parseProcIOLines(data)
		}
		i++
	}
	if i != len(data) {
		return parseProcIOLines(data)
	}
	return ProcIO{RChar: v[0], WChar: v[1], Syscr: v[2], Syscw: v[3], ReadBytes: v[4], WriteBytes: v[5], CancelledWriteBytes: v[6]}, nil
}

func parseProcIOLines(data []byte) (ProcIO, error) {
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
