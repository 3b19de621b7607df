package vmstats

import (
	"bytes"
	"testing"
)

// Each target feeds one parser arbitrary bytes, seeded with real captures: a parser returns
// an error or a value within the format's bounds, never panics.

func FuzzParseTaskStat(f *testing.F) {
	f.Add(fixture(f, "stat.kvm_vcpu"))
	f.Add(captured(f, "stat"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, comm, err := ParseTaskStat(b)
		if err == nil && (len(comm) > 80 || st.Processor > 1<<20) {
			t.Fatalf("accepted %q", b)
		}
	})
}

func FuzzParseSchedstat(f *testing.F) {
	f.Add(captured(f, "task/*/schedstat"))
	f.Add([]byte("1 2 3"))
	f.Add([]byte(" 1\t2 3\n\n"))
	f.Add([]byte("18446744073709551615 18446744073709551616 1\n"))
	// The one-pass scan of the kernel's layout and the general parser agree on every input.
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, err := ParseSchedstat(b)
		slow, errSlow := parseSchedstatFields(b)
		if (err == nil) != (errSlow == nil) || err == nil && fast != slow {
			t.Fatalf("%q: %+v %v, general parser %+v %v", b, fast, err, slow, errSlow)
		}
	})
}

func FuzzParseSyscall(f *testing.F) {
	f.Add([]byte("16 0xc 0xae80 0x0 0x0 0x5606c84b2290 0x5606c8ba1260 0x7f9ad6ffc530 0x7f9ad8d97d6b\n"))
	f.Add([]byte("running\n"))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseSyscall(b) })
}

func FuzzParseTunFdinfo(f *testing.F) {
	f.Add(fixture(f, "fdinfo.tun"))
	f.Fuzz(func(t *testing.T, b []byte) {
		name, ok, err := ParseTunFdinfo(b)
		if err == nil && ok && !ValidIfName(name) {
			t.Fatalf("accepted %q", name)
		}
	})
}

func FuzzParseProcIO(f *testing.F) {
	f.Add(captured(f, "io"))
	f.Add([]byte("wchar: 1\nrchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\n"))
	f.Add([]byte("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, err := ParseProcIO(b)
		slow, errSlow := parseProcIOLines(b)
		if (err == nil) != (errSlow == nil) || err == nil && fast != slow {
			t.Fatalf("%q: %+v %v, general parser %+v %v", b, fast, err, slow, errSlow)
		}
	})
}

func FuzzTapNamesFromCmdline(f *testing.F) {
	f.Add([]byte("qemu\x00-netdev\x00tap,id=n0,ifname=tap0\x00--net\x00tap=a,,b\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		names := TapNamesFromCmdline(b)
		if len(names) > maxCmdlineTaps {
			t.Fatal("cap exceeded")
		}
		for _, n := range names {
			if !ValidIfName([]byte(n)) || bytes.IndexByte([]byte(n), 0) >= 0 {
				t.Fatalf("bad name %q", n)
			}
		}
	})
}

func FuzzVCPUIndex(f *testing.F) {
	for _, s := range []string{"CPU 0/KVM", "fc_vcpu 1", "vcpu2", "crosvm_vcpu3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if i, _, ok := VCPUIndex(b); ok && (i < 0 || i >= maxVCPUIndex) {
			t.Fatalf("index %d", i)
		}
	})
}
