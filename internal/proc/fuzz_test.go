package proc

import "testing"

// Each fuzz target feeds one file format's parser arbitrary bytes; seeds are the fixtures and
// testdata/fuzz/<target>. The parsers must return an error, never panic.

func seed(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(fixture(f, n))
	}
}

func FuzzParseStat(f *testing.F) {
	seed(f, "stat.pid1", "stat.weird_comm")
	f.Fuzz(func(t *testing.T, b []byte) {
		st, comm, err := ParseStat(b)
		if err == nil && (st.PID <= 0 || comm == nil) {
			t.Errorf("accepted %q as %+v", b, st)
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	seed(f, "status")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseStatus(b) })
}

func FuzzParseOpenFilesLimit(f *testing.F) {
	seed(f, "limits")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseOpenFilesLimit(b) })
}

func FuzzParseCmdline(f *testing.F) {
	seed(f, "cmdline.wasmtime")
	f.Fuzz(func(t *testing.T, b []byte) { _ = ParseCmdline(b) })
}

func FuzzParseCgroup(f *testing.F) {
	seed(f, "cgroup.hybrid", "cgroup.v1", "cgroup.v2")
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, err := ParseCgroup(b)
		if err == nil && len(lines) == 0 {
			t.Error("no lines without an error")
		}
	})
}

func FuzzScanNetTCP(f *testing.F) {
	seed(f, "net_tcp", "net_tcp6")
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = ScanNetTCP(b, func(state uint8, _ uint64) {
			if int(state) >= 256 {
				t.Fatal("impossible")
			}
		})
	})
}

func FuzzParseBootTime(f *testing.F) {
	seed(f, "proc_stat")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseBootTime(b) })
}

func FuzzScanNetDev(f *testing.F) {
	seed(f, "net_dev")
	f.Fuzz(func(t *testing.T, b []byte) { _ = ScanNetDev(b, func([]byte, NetDev) {}) })
}
