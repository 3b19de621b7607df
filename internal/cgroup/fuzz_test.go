package cgroup

import (
	"path"
	"testing"
)

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

func FuzzScanIOStat(f *testing.F) {
	seed(f, "v2/io.stat")
	f.Fuzz(func(t *testing.T, b []byte) { _ = ScanIOStat(b, func(Device, IOStat) {}) })
}

func FuzzScanBlkio(f *testing.F) {
	seed(f, "v1/blkio.throttle.io_service_bytes_recursive", "v1/blkio.throttle.io_service_bytes_recursive.busy")
	f.Fuzz(func(t *testing.T, b []byte) { _ = ScanBlkio(b, func(Device, uint64, uint64) {}) })
}

func FuzzParsePSI(f *testing.F) {
	seed(f, "v2/cpu.pressure", "v2/io.pressure", "hybrid/memory.pressure")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParsePSI(b) })
}

// FuzzJoinNamespacePath checks the namespace path arithmetic: a result is clean, absolute and
// never climbs; outside a namespace ("/" root) a path that does not climb maps to itself, cleaned.
func FuzzJoinNamespacePath(f *testing.F) {
	f.Add("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podc3_d4.slice/cri-containerd-cccc.scope", "/../cri-containerd-bbbb.scope")
	f.Add("/otelcol-virt-test-1", "/../otelcol-virt-test-2")
	f.Add("/", "/system.slice/containerd.service")
	f.Add("/a", "/../../..")
	f.Add("/a/b", "/./x//y/../z/")
	f.Fuzz(func(t *testing.T, root, p string) {
		got, ok := JoinNamespacePath(root, p)
		if !ok {
			return
		}
		if got == "" || got[0] != '/' || !isClean(got) || UpLevels(got) != 0 {
			t.Fatalf("JoinNamespacePath(%q, %q) = %q: not a clean absolute path", root, p, got)
		}
		if root == "/" && got != path.Clean(p) {
			t.Fatalf("JoinNamespacePath(/, %q) = %q, want %q", p, got, path.Clean(p))
		}
		if d, ok := MountRootDepth(p); ok && d != UpLevels(p) {
			t.Fatalf("MountRootDepth(%q) = %d, UpLevels %d", p, d, UpLevels(p))
		}
	})
}
