package cgroup

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCPUStat(t *testing.T) {
	s, err := ParseCPUStat(fixture(t, "v2/cpu.stat"))
	if err != nil {
		t.Fatal(err)
	}
	if s != (CPUStat{UsageUsec: 8123456, UserUsec: 7023456, SystemUsec: 1100000, NrPeriods: 2001, NrThrottled: 1843, ThrottledUsec: 91234567}) {
		t.Errorf("v2: %+v", s)
	}
	s, err = ParseCPUStat([]byte("nr_periods 10\nnr_throttled 4\nthrottled_time 5000000\n"))
	if err != nil || s != (CPUStat{NrPeriods: 10, NrThrottled: 4, ThrottledUsec: 5000}) {
		t.Errorf("v1: %+v %v", s, err)
	}
	if _, err := ParseCPUStat(fixture(t, "v1/cpu.stat")); err != nil {
		t.Errorf("captured v1: %v", err)
	}
	s, err = ParseCPUStat(fixture(t, "hybrid/cpu.stat"))
	if err != nil || s.UsageUsec != 1086600976 || s.NrPeriods != 0 {
		t.Errorf("hybrid unified cpu.stat without controller: %+v %v", s, err)
	}
	for _, bad := range []string{"", "usage_usec", "usage_usec x", "a b c"} {
		if _, err := ParseCPUStat([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCPUStat(%q) = %v", bad, err)
		}
	}
}

func TestParseCPUAcctStat(t *testing.T) {
	s, err := ParseCPUAcctStat(fixture(t, "v1/cpuacct.stat"))
	if err != nil || s != (CPUAcctStat{User: 88184, System: 21463}) {
		t.Errorf("%+v %v", s, err)
	}
	if _, err := ParseCPUAcctStat([]byte("user 1\n")); !errors.Is(err, ErrMalformed) {
		t.Error("half a cpuacct.stat accepted")
	}
}

func TestCPULimits(t *testing.T) {
	l, err := ParseCPUMax(fixture(t, "v2/cpu.max"))
	if err != nil || l.Unlimited || l.CPUs() != 0.5 {
		t.Errorf("cpu.max: %+v %v", l, err)
	}
	l, err = ParseCPUMax(fixture(t, "v2/cpu.max.unlimited"))
	if err != nil || !l.Unlimited || l.CPUs() != 0 {
		t.Errorf("cpu.max max: %+v %v", l, err)
	}
	l, err = ParseCFSQuota(fixture(t, "v1/cpu.cfs_quota_us"), fixture(t, "v1/cpu.cfs_period_us"))
	if err != nil || !l.Unlimited || l.PeriodUsec != 100000 {
		t.Errorf("v1 -1: %+v %v", l, err)
	}
	l, err = ParseCFSQuota([]byte("150000\n"), []byte("100000\n"))
	if err != nil || l.CPUs() != 1.5 {
		t.Errorf("v1 1.5: %+v %v", l, err)
	}
	for _, bad := range []string{"", "max", "max 0", "x 100000", "1 2 3"} {
		if _, err := ParseCPUMax([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCPUMax(%q) = %v", bad, err)
		}
	}
	if _, err := ParseCFSQuota([]byte("x"), []byte("100000")); !errors.Is(err, ErrMalformed) {
		t.Error("bad quota accepted")
	}
	if _, err := ParseCFSQuota([]byte("1"), []byte("0")); !errors.Is(err, ErrMalformed) {
		t.Error("zero period accepted")
	}
}

func TestParseLimit(t *testing.T) {
	for name, want := range map[string]Limit{
		"v2/memory.max":            {Value: 134217728},
		"v2/memory.max.unlimited":  {Unlimited: true},
		"v2/pids.max":              {Value: 100},
		"v1/pids.max":              {Unlimited: true},
		"v1/memory.limit_in_bytes": {Unlimited: true}, // 9223372036854771712, the v1 "no limit"
	} {
		got, err := ParseLimit(fixture(t, name))
		if err != nil || got != want {
			t.Errorf("%s: got %+v %v, want %+v", name, got, err, want)
		}
	}
	if _, err := ParseLimit([]byte("lots")); !errors.Is(err, ErrMalformed) {
		t.Error("word accepted as a limit")
	}
	if v, err := ParseUint(fixture(t, "v2/memory.current")); err != nil || v != 121634816 {
		t.Errorf("memory.current %d %v", v, err)
	}
	if _, err := ParseUint([]byte("")); !errors.Is(err, ErrMalformed) {
		t.Error("empty value accepted")
	}
}

func TestParseMemoryStat(t *testing.T) {
	s, err := ParseMemoryStat(fixture(t, "v2/memory.stat"))
	if err != nil || s.Anon != 113246208 || s.File != 6291456 || s.InactiveFile != 4194304 || !s.HasFaults || s.HierarchicalLimit != 0 {
		t.Errorf("v2: %+v %v", s, err)
	}
	s, err = ParseMemoryStat(fixture(t, "v1/memory.stat"))
	if err != nil || s.Anon != 2326528 || s.File != 76349440 || s.InactiveFile != 6643712 || !s.HasFaults || s.HierarchicalLimit == 0 {
		t.Errorf("v1: %+v %v", s, err)
	}
	if _, err := ParseMemoryStat([]byte("pgpgin 1\n")); !errors.Is(err, ErrMalformed) {
		t.Error("memory.stat without a known key accepted")
	}
}

func TestParseMemoryEvents(t *testing.T) {
	e, err := ParseMemoryEvents(fixture(t, "v2/memory.events"))
	if err != nil || e != (MemoryEvents{OOM: 3, OOMKill: 2, HasOOM: true}) {
		t.Errorf("v2: %+v %v", e, err)
	}
	e, err = ParseMemoryEvents(fixture(t, "v1/memory.oom_control"))
	if err != nil || e != (MemoryEvents{}) {
		t.Errorf("v1: %+v %v", e, err)
	}
	e, err = ParseMemoryEvents([]byte("oom_kill_disable 0\nunder_oom 1\noom_kill 5\n"))
	if err != nil || e != (MemoryEvents{OOMKill: 5, UnderOOM: true}) {
		t.Errorf("v1 under oom: %+v %v", e, err)
	}
}

func TestParseIO(t *testing.T) {
	got := map[Device]IOStat{}
	err := ScanIOStat(fixture(t, "v2/io.stat"), func(d Device, s IOStat) { got[d] = s })
	want := map[Device]IOStat{
		{8, 16}:  {ReadBytes: 1459200, WriteBytes: 314773504, ReadOps: 192, WriteOps: 353},
		{253, 0}: {ReadBytes: 4096, WriteBytes: 8192, ReadOps: 1, WriteOps: 2},
	}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("io.stat: %+v %v", got, err)
	}
	if err := ScanIOStat(nil, func(Device, IOStat) { t.Error("a device in an empty io.stat") }); err != nil {
		t.Errorf("empty io.stat (no I/O yet) is valid: %v", err)
	}
	for _, bad := range []string{"rbytes=1", "8:0 rbytes", "8:0 rbytes=x", "x:0 rbytes=1"} {
		if err := ScanIOStat([]byte(bad), func(Device, IOStat) {}); !errors.Is(err, ErrMalformed) {
			t.Errorf("ScanIOStat(%q) = %v", bad, err)
		}
	}
	type rw struct{ r, w uint64 }
	blk := map[Device]rw{}
	err = ScanBlkio(fixture(t, "v1/blkio.throttle.io_service_bytes_recursive.busy"), func(d Device, r, w uint64) { blk[d] = rw{r, w} })
	if err != nil || !maps.Equal(blk, map[Device]rw{{8, 0}: {4096, 1228800}, {253, 0}: {4096, 1228800}}) {
		t.Errorf("blkio: %+v %v", blk, err)
	}
	n := 0
	err = ScanBlkio(fixture(t, "v1/blkio.throttle.io_service_bytes_recursive"), func(Device, uint64, uint64) { n++ })
	if err != nil || n != 0 {
		t.Errorf("idle blkio: %d devices %v", n, err)
	}
	if err := ScanBlkio([]byte("8:0 Read\n"), func(Device, uint64, uint64) {}); !errors.Is(err, ErrMalformed) {
		t.Error("short blkio line accepted")
	}
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string]int{"0-3\n": 4, "0": 1, "0-1,4,6-7": 5, "": 0, "\n": 0} {
		if n, err := ParseCPUList([]byte(in)); err != nil || n != want {
			t.Errorf("ParseCPUList(%q) = %d, %v; want %d", in, n, err, want)
		}
	}
	for _, bad := range []string{"x", "3-1", "0-", "0-99999999"} {
		if _, err := ParseCPUList([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCPUList(%q) = %v", bad, err)
		}
	}
}

func TestParsePSI(t *testing.T) {
	p, err := ParsePSI(fixture(t, "v2/cpu.pressure"))
	if err != nil || p != (PSI{SomeTotalUsec: 88123456, FullTotalUsec: 87000000, HasFull: true}) {
		t.Errorf("cpu: %+v %v", p, err)
	}
	p, err = ParsePSI(fixture(t, "v2/io.pressure"))
	if err != nil || p != (PSI{SomeTotalUsec: 1200}) {
		t.Errorf("io without full line (older kernels): %+v %v", p, err)
	}
	p, err = ParsePSI(fixture(t, "hybrid/io.pressure"))
	if err != nil || p.SomeTotalUsec == 0 || !p.HasFull {
		t.Errorf("hybrid io: %+v %v", p, err)
	}
	for _, bad := range []string{"", "full total=1", "some avg10=1", "some total=x", "odd total=1"} {
		if _, err := ParsePSI([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParsePSI(%q) = %v", bad, err)
		}
	}
}
