package cgroup

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// Device is a block device number.
type Device struct{ Major, Minor uint32 }

func parseDevice(b []byte) (Device, bool) {
	maj, min, ok := bytes.Cut(b, []byte{':'})
	if !ok {
		return Device{}, false
	}
	a, ok1 := bytesparse.Atou(maj)
	c, ok2 := bytesparse.Atou(min)
	if !ok1 || !ok2 || a > 1<<20 || c > 1<<20 {
		return Device{}, false
	}
	return Device{uint32(a), uint32(c)}, true
}

// IOStat is one device's block I/O.
type IOStat struct {
	ReadBytes, WriteBytes, ReadOps, WriteOps uint64
}

// ScanIOStat parses v2 io.stat ("MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N"
// lines, one per device) and calls fn for each device.
func ScanIOStat(data []byte, fn func(Device, IOStat)) error {
	var buf [8][]byte
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		f := bytesparse.Fields(buf[:0], line)
		if len(f) == 0 {
			continue
		}
		dev, ok := parseDevice(f[0])
		if !ok {
			return malformed("io.stat", "line %q does not start with a device", line)
		}
		var s IOStat
		for _, kv := range f[1:] {
			k, v, ok := bytes.Cut(kv, []byte{'='})
			if !ok {
				return malformed("io.stat", "bad pair %q", kv)
			}
			n, ok := bytesparse.Atou(v)
			if !ok {
				return malformed("io.stat", "bad value in %q", kv)
			}
			switch string(k) {
			case "rbytes":
				s.ReadBytes = n
			case "wbytes":
				s.WriteBytes = n
			case "rios":
				s.ReadOps = n
			case "wios":
				s.WriteOps = n
			}
		}
		fn(dev, s)
	}
	return nil
}

// ScanBlkio parses a v1 blkio.throttle.io_service_bytes or io_serviced file ("MAJ:MIN Read N"
// lines and a "Total N" line) and calls fn with each device's read and write counts.
func ScanBlkio(data []byte, fn func(dev Device, read, write uint64)) error {
	var buf [4][]byte
	var cur Device
	var read, write uint64
	have := false
	flush := func() {
		if have {
			fn(cur, read, write)
		}
		read, write, have = 0, 0, false
	}
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		f := bytesparse.Fields(buf[:0], line)
		if len(f) == 0 || (len(f) == 2 && string(f[0]) == "Total") {
			continue
		}
		if len(f) != 3 {
			return malformed("blkio", "line %q", line)
		}
		dev, ok := parseDevice(f[0])
		if !ok {
			return malformed("blkio", "bad device in %q", line)
		}
		n, ok := bytesparse.Atou(f[2])
		if !ok {
			return malformed("blkio", "bad value in %q", line)
		}
		if !have || dev != cur {
			flush()
			cur, have = dev, true
		}
		switch string(f[1]) {
		case "Read":
			read = n
		case "Write":
			write = n
		}
	}
	flush()
	return nil
}
