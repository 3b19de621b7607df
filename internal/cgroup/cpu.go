package cgroup

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

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
