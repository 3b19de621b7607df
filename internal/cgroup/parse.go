// Package cgroup parses cgroup v1 and v2 control files and finds which hierarchy serves each
// controller on a host (v1, v2 or the hybrid layout where v1 controllers and a cgroup2 mount
// coexist). Parsers take a file's bytes and allocate nothing; one function per file format.
package cgroup

import (
	"bytes"
	"fmt"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// ErrMalformed is wrapped by every parse error (the one error of the Linux file layer, so that
// linuxfs.Classify counts it as reason malformed).
var ErrMalformed = linuxfs.ErrMalformed

func malformed(file, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", file, ErrMalformed, fmt.Sprintf(format, args...))
}

// v1Unlimited is the smallest value cgroup v1 uses for "no limit" in *.limit_in_bytes: the
// kernel prints PAGE_COUNTER_MAX * PAGE_SIZE, 0x7FFFFFFFFFFFF000 with 4 KiB pages, a little
// less with larger pages.
const v1Unlimited = 1 << 62

// CPUStat holds CPU usage and CFS throttling counters.
type CPUStat struct {
	UsageUsec, UserUsec, SystemUsec uint64
	NrPeriods, NrThrottled          uint64
	ThrottledUsec                   uint64
}

// ParseCPUStat parses cpu.stat of v2 (usage_usec, user_usec, system_usec, nr_periods,
// nr_throttled, throttled_usec) or of the v1 cpu controller (nr_periods, nr_throttled,
// throttled_time in ns).
func ParseCPUStat(data []byte) (CPUStat, error) {
	var s CPUStat
	n := 0
	err := scanKV("cpu.stat", data, func(k []byte, v uint64) {
		switch string(k) {
		case "usage_usec":
			s.UsageUsec = v
		case "user_usec":
			s.UserUsec = v
		case "system_usec":
			s.SystemUsec = v
		case "nr_periods":
			s.NrPeriods = v
		case "nr_throttled":
			s.NrThrottled = v
		case "throttled_usec":
			s.ThrottledUsec = v
		case "throttled_time":
			s.ThrottledUsec = v / 1000
		default:
			return
		}
		n++
	})
	if err == nil && n == 0 {
		err = malformed("cpu.stat", "no known key")
	}
	return s, err
}

// CPUAcctStat is v1 cpuacct.stat, in clock ticks (USER_HZ).
type CPUAcctStat struct{ User, System uint64 }

// ParseCPUAcctStat parses v1 cpuacct.stat ("user N\nsystem N").
func ParseCPUAcctStat(data []byte) (CPUAcctStat, error) {
	var s CPUAcctStat
	n := 0
	err := scanKV("cpuacct.stat", data, func(k []byte, v uint64) {
		switch string(k) {
		case "user":
			s.User = v
			n++
		case "system":
			s.System = v
			n++
		}
	})
	if err == nil && n != 2 {
		err = malformed("cpuacct.stat", "want user and system")
	}
	return s, err
}

// CPULimit is a CFS bandwidth limit; Unlimited when no quota is set.
type CPULimit struct {
	QuotaUsec, PeriodUsec uint64
	Unlimited             bool
}

// CPUs is the limit in CPUs (quota / period).
func (l CPULimit) CPUs() float64 {
	if l.Unlimited || l.PeriodUsec == 0 {
		return 0
	}
	return float64(l.QuotaUsec) / float64(l.PeriodUsec)
}

// ParseCPUMax parses v2 cpu.max: "max 100000" or "50000 100000".
func ParseCPUMax(data []byte) (CPULimit, error) {
	var buf [3][]byte
	f := bytesparse.Fields(buf[:0], bytes.TrimSpace(data))
	if len(f) != 2 {
		return CPULimit{}, malformed("cpu.max", "want \"<quota|max> <period>\", got %q", data)
	}
	period, ok := bytesparse.Atou(f[1])
	if !ok || period == 0 {
		return CPULimit{}, malformed("cpu.max", "bad period %q", f[1])
	}
	if string(f[0]) == "max" {
		return CPULimit{PeriodUsec: period, Unlimited: true}, nil
	}
	quota, ok := bytesparse.Atou(f[0])
	if !ok {
		return CPULimit{}, malformed("cpu.max", "bad quota %q", f[0])
	}
	return CPULimit{QuotaUsec: quota, PeriodUsec: period}, nil
}

// ParseCFSQuota parses v1 cpu.cfs_quota_us (-1 for none) and cpu.cfs_period_us.
func ParseCFSQuota(quota, period []byte) (CPULimit, error) {
	p, ok := bytesparse.Atou(bytes.TrimSpace(period))
	if !ok || p == 0 {
		return CPULimit{}, malformed("cpu.cfs_period_us", "bad period %q", period)
	}
	q, ok := bytesparse.Atoi(bytes.TrimSpace(quota))
	if !ok {
		return CPULimit{}, malformed("cpu.cfs_quota_us", "bad quota %q", quota)
	}
	if q < 0 {
		return CPULimit{PeriodUsec: p, Unlimited: true}, nil
	}
	return CPULimit{QuotaUsec: uint64(q), PeriodUsec: p}, nil
}

// Limit is a byte or count limit; Unlimited when none is set.
type Limit struct {
	Value     uint64
	Unlimited bool
}

// ParseLimit parses memory.max, memory.high, pids.max ("max" or a number) and v1
// memory.limit_in_bytes (a huge number for none).
func ParseLimit(data []byte) (Limit, error) {
	b := bytes.TrimSpace(data)
	if string(b) == "max" {
		return Limit{Unlimited: true}, nil
	}
	v, ok := bytesparse.Atou(b)
	if !ok {
		// v1 memory.limit_in_bytes can be "-1" when written so (it reads back as the max).
		if string(b) == "-1" {
			return Limit{Unlimited: true}, nil
		}
		return Limit{}, malformed("limit", "want \"max\" or a number, got %q", b)
	}
	if v >= v1Unlimited {
		return Limit{Unlimited: true}, nil
	}
	return Limit{Value: v}, nil
}

// ParseUint parses a single-number file (memory.current, memory.usage_in_bytes, pids.current).
func ParseUint(data []byte) (uint64, error) {
	v, ok := bytesparse.Atou(bytes.TrimSpace(data))
	if !ok {
		return 0, malformed("value", "want a number, got %q", bytes.TrimSpace(data))
	}
	return v, nil
}

// MemoryStat is what otelcol-virt takes from memory.stat (v2 keys, or v1 hierarchical totals).
type MemoryStat struct {
	Anon, File, InactiveFile uint64
	// PgFault and PgMajFault count page faults (all, and major) of the cgroup and its
	// descendants, exited tasks included.
	PgFault, PgMajFault uint64
	HasFaults           bool
	// HierarchicalLimit and HierarchicalMemswLimit are v1's effective limits, the tightest
	// memory.limit_in_bytes (memory.memsw.limit_in_bytes) on the path to the root; zero when
	// the file has no such key (v2, or a kernel without swap accounting).
	HierarchicalLimit, HierarchicalMemswLimit uint64
}

// ParseMemoryStat parses v2 memory.stat (anon, file, inactive_file, pgfault, pgmajfault) or v1
// memory.stat (total_rss, total_cache, total_inactive_file, total_pgfault, total_pgmajfault,
// hierarchical_memory_limit, hierarchical_memsw_limit; the non-total keys cover the cgroup
// alone and are ignored).
func ParseMemoryStat(data []byte) (MemoryStat, error) {
	var s MemoryStat
	n := 0
	err := scanKV("memory.stat", data, func(k []byte, v uint64) {
		switch string(k) {
		case "anon", "total_rss":
			s.Anon = v
		case "file", "total_cache":
			s.File = v
		case "inactive_file", "total_inactive_file":
			s.InactiveFile = v
		case "pgfault", "total_pgfault":
			s.PgFault, s.HasFaults = v, true
		case "pgmajfault", "total_pgmajfault":
			s.PgMajFault = v
		case "hierarchical_memory_limit":
			s.HierarchicalLimit = v
		case "hierarchical_memsw_limit":
			s.HierarchicalMemswLimit = v
		default:
			return
		}
		n++
	})
	if err == nil && n == 0 {
		err = malformed("memory.stat", "no anon/file key")
	}
	return s, err
}

// MemoryEvents holds OOM counters: v2 memory.events (oom, oom_kill) or v1 memory.oom_control
// (oom_kill, under_oom; v1 has no oom count).
type MemoryEvents struct {
	OOM, OOMKill uint64
	HasOOM       bool
	UnderOOM     bool
}

// ParseMemoryEvents parses v2 memory.events or v1 memory.oom_control.
func ParseMemoryEvents(data []byte) (MemoryEvents, error) {
	var e MemoryEvents
	n := 0
	err := scanKV("memory.events", data, func(k []byte, v uint64) {
		switch string(k) {
		case "oom":
			e.OOM, e.HasOOM = v, true
		case "oom_kill":
			e.OOMKill = v
		case "under_oom":
			e.UnderOOM = v != 0
		case "max", "high", "low", "oom_group_kill", "oom_kill_disable", "sock_throttled":
		default:
			return
		}
		n++
	})
	if err == nil && n == 0 {
		err = malformed("memory.events", "no known key")
	}
	return e, err
}

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

// ParseCPUList counts the CPUs of a cpuset list such as cpuset.cpus.effective ("0-3,6,8-9").
// An empty list (a cpuset without CPUs of its own) is 0.
func ParseCPUList(data []byte) (int, error) {
	data = bytes.TrimSpace(data)
	n := 0
	for len(data) > 0 {
		var part []byte
		part, data, _ = bytes.Cut(data, []byte{','})
		lo, hi, isRange := bytes.Cut(part, []byte{'-'})
		a, ok := bytesparse.Atou(lo)
		if !ok {
			return 0, malformed("cpuset", "bad cpu %q", part)
		}
		b := a
		if isRange {
			if b, ok = bytesparse.Atou(hi); !ok || b < a {
				return 0, malformed("cpuset", "bad range %q", part)
			}
		}
		if b-a > 1<<16 {
			return 0, malformed("cpuset", "range %q too large", part)
		}
		n += int(b-a) + 1
	}
	return n, nil
}

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

// scanKV calls fn for every "key value" line; it fails on a line that is not two fields with a
// numeric value.
func scanKV(file string, data []byte, fn func(k []byte, v uint64)) error {
	var buf [3][]byte
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		f := bytesparse.Fields(buf[:0], line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return malformed(file, "line %q is not \"key value\"", line)
		}
		v, ok := bytesparse.Atou(f[1])
		if !ok {
			// Signed values exist in some files (v2 memory.stat can show negative
			// workingset counters transiently); they are not ones we keep.
			if _, ok := bytesparse.Atoi(f[1]); ok {
				continue
			}
			return malformed(file, "bad value in %q", line)
		}
		fn(f[0], v)
	}
	return nil
}

// V1Limit is a v1 limit value as read from memory.stat (hierarchical_memory_limit): the
// largest values mean none.
func V1Limit(v uint64) Limit {
	if v >= v1Unlimited || v == 0 {
		return Limit{Unlimited: true}
	}
	return Limit{Value: v}
}
