package cgroup

import "testing"

// One fuzz target per file format; seeds are the fixtures. Parsers must fail cleanly.

func seed(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(fixture(f, n))
	}
}

func FuzzParseCPUStat(f *testing.F) {
	seed(f, "v2/cpu.stat", "v1/cpu.stat", "hybrid/cpu.stat")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseCPUStat(b) })
}

func FuzzParseCPUAcctStat(f *testing.F) {
	seed(f, "v1/cpuacct.stat")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseCPUAcctStat(b) })
}

func FuzzParseCPUMax(f *testing.F) {
	seed(f, "v2/cpu.max", "v2/cpu.max.unlimited")
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseCPUMax(b)
		if err == nil && !l.Unlimited && l.PeriodUsec == 0 {
			t.Error("zero period accepted")
		}
	})
}

func FuzzParseCFSQuota(f *testing.F) {
	f.Add([]byte("-1\n"), []byte("100000\n"))
	f.Add([]byte("50000\n"), []byte("100000\n"))
	f.Fuzz(func(t *testing.T, q, p []byte) { _, _ = ParseCFSQuota(q, p) })
}

func FuzzParseLimit(f *testing.F) {
	seed(f, "v2/memory.max", "v2/memory.max.unlimited", "v1/memory.limit_in_bytes", "v2/pids.max")
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLimit(b)
		if err == nil && !l.Unlimited && l.Value >= v1Unlimited {
			t.Errorf("sentinel %d reported as a limit", l.Value)
		}
	})
}

func FuzzParseUint(f *testing.F) {
	seed(f, "v2/memory.current", "v1/pids.current")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseUint(b) })
}

func FuzzParseMemoryStat(f *testing.F) {
	seed(f, "v2/memory.stat", "v1/memory.stat")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseMemoryStat(b) })
}

func FuzzParseMemoryEvents(f *testing.F) {
	seed(f, "v2/memory.events", "v1/memory.oom_control")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseMemoryEvents(b) })
}

func FuzzParseIOStat(f *testing.F) {
	seed(f, "v2/io.stat")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseIOStat(b) })
}

func FuzzParseBlkio(f *testing.F) {
	seed(f, "v1/blkio.throttle.io_service_bytes_recursive", "v1/blkio.throttle.io_service_bytes_recursive.busy")
	f.Fuzz(func(t *testing.T, b []byte) { _, _, _ = ParseBlkio(b) })
}

func FuzzParsePSI(f *testing.F) {
	seed(f, "v2/cpu.pressure", "v2/io.pressure", "hybrid/memory.pressure")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParsePSI(b) })
}
